"""Developer sessions: a login starts a refresh-token family; a password change or
reset, a revocation, a removal or a logout ends some."""

import logging
import uuid

import redis

from app.audit import services as audit
from app.core.actor import ANONYMOUS, Actor
from app.core.auth import Kind, Principal
from app.core.client import ClientInfo
from app.core.db import utcnow
from app.core.errors import ApiError, unauthorized
from app.core.schemas import normalise_email
from app.developers import resets
from app.developers import services as developers
from app.developers.passwords import enforce_password_policy
from app.extensions import db
from app.invitations import services as invitations
from app.refresh_tokens import services as refresh_tokens
from app.refresh_tokens.revocations import revoke_access_token
from app.refresh_tokens.services import TokenPair

log = logging.getLogger(__name__)


def login(email: str, password: str, client: ClientInfo) -> TokenPair:
    """A new session for valid credentials; every attempt lands in the audit trail."""
    developer = developers.authenticate(email, password)
    if developer is None:
        audit.record(
            "developer.login_failed",
            ANONYMOUS,
            client,
            "developer",
            details={"email": normalise_email(email)},
        )
        db.session.commit()
        raise unauthorized("Incorrect email or password")
    developer_id = str(developer.id)
    developer.last_login_at = utcnow()
    audit.record(
        "developer.login", Actor("developer", developer_id), client, "developer", developer_id
    )
    pair = refresh_tokens.start_session(Kind.DEVELOPER, developer_id, client=client)
    # A removal committed since the password check may have looked for the developer's
    # sessions before this one was committed: read the account again now that it is.
    db.session.refresh(developer)
    if not developer.is_active:
        refresh_tokens.revoke_families([uuid.UUID(pair.session_id)])
        raise unauthorized("Incorrect email or password")
    try:
        developers.mark_fresh(developer_id, pair.session_id)
    except redis.RedisError:
        # Redis is down: the login stands, sensitive changes ask for the password again.
        log.info("session %s of developer %s not marked fresh", pair.session_id, developer_id)
    return pair


def change_password(
    principal: Principal, current_password: str, new_password: str, client: ClientInfo
) -> None:
    """Set a new password, void every reset link and end every other session of the
    developer at once."""
    developers.replace_password(principal, current_password, new_password, client)
    resets.use_up_every_link(uuid.UUID(principal.subject_id))
    revoke_other_sessions(principal, client, "developer.password_changed")
    developers.mark_fresh(principal.subject_id, principal.session_id)


def revoke_other_sessions(
    principal: Principal, client: ClientInfo, action: str = "developer.sessions_revoked"
) -> None:
    """End every session but the caller's, in the transaction of the change audited as
    `action`: a process killed in between cannot leave a new password with the old
    sessions alive."""
    audit.record(
        action,
        Actor.of(principal),
        client,
        "developer",
        principal.subject_id,
    )
    refresh_tokens.revoke_subject(
        Kind.DEVELOPER, principal.subject_id, keep_session=principal.session_id
    )
    db.session.commit()  # when there was no other session to revoke (and commit)


def revoke_session(principal: Principal, session_id: str, client: ClientInfo) -> None:
    """End one of the caller's sessions (404 for anyone else's)."""
    if not refresh_tokens.revoke_session(Kind.DEVELOPER, principal.subject_id, session_id):
        raise ApiError(404, "Session not found.")
    audit.record(
        "developer.session_revoked",
        Actor.of(principal),
        client,
        "session",
        session_id,
    )
    db.session.commit()


def logout_cookie_session(refresh_token: str, client: ClientInfo) -> None:
    """Logout with the refresh cookie alone: its family ends (whatever state it is in)."""
    family_id = refresh_tokens.family_of(refresh_token)
    if family_id is None:
        return
    audit.record("developer.logout", ANONYMOUS, client, "session", str(family_id))
    db.session.commit()
    refresh_tokens.revoke_families([family_id])


def logout(principal: Principal, refresh_token: str | None, client: ClientInfo) -> None:
    """Kill the caller's access token now, and its session's refresh tokens; then the
    family of `refresh_token` too. The caller's own session ends first: a refresh token
    that is not the caller's (422) must not keep someone who clicked "log out" in."""
    audit.record(
        "developer.logout",
        Actor.of(principal),
        client,
        "developer",
        principal.subject_id,
    )
    refresh_tokens.revoke_families([uuid.UUID(principal.session_id)])
    revoke_access_token(principal)
    if refresh_token:
        refresh_tokens.revoke_presented_family(refresh_token, principal.kind, principal.subject_id)


def remove_developer(principal: Principal, developer_id: uuid.UUID, client: ClientInfo) -> None:
    """Deactivate a developer: no more logins, every session and pending invitation of
    theirs ends at once. Their API keys and applications stay (they belong to the
    platform); their alerts go to the caller."""
    developers.require_fresh_session(principal)
    remover = developers.signed_in_developer(principal)
    if developer_id == remover.id:
        raise ApiError(409, "You cannot remove yourself; ask another developer.")
    # Locking every active row serialises concurrent removals: one of two racing
    # removals of the last two developers sees a single active developer left.
    active = list(db.session.scalars(developers.active_developers().with_for_update()))
    developer = next((d for d in active if d.id == developer_id), None)
    if developer is None:
        raise ApiError(404, "Developer not found.")
    if len(active) <= 1:
        raise ApiError(409, "The last active developer cannot be removed.")
    developer.is_active = False
    developer.removed_at = utcnow()
    developer.removed_by_id = remover.id
    invitations.revoke_sent_by(developer.id, principal, client)
    audit.record(
        "developer.removed",
        Actor.of(principal),
        client,
        "developer",
        str(developer.id),
        details={"email": developer.email},
    )
    db.session.flush()
    developers.alert_every_active_developer(
        "developer.removed",
        f"{remover.email} removed developer {developer.email}",
        f"{remover.email} removed {developer.email} from the developers of this Open "
        "Wearables deployment; every session of theirs has ended. Their API keys and "
        f"applications stay, and alerts about them now go to {remover.email}.",
        "developer",
        str(developer.id),
        developer.email,
        principal,
        client,
    )
    db.session.commit()
    refresh_tokens.revoke_subject(Kind.DEVELOPER, str(developer.id))


def reset_password(token: str, new_password: str, client: ClientInfo) -> None:
    """Set a new password with a reset token (once); every session of the developer ends."""
    developer = resets.redeem(token)
    if developer is None:
        db.session.rollback()
        raise ApiError(400, "This reset link is invalid, expired or already used.")
    try:
        enforce_password_policy(new_password, developer.email, "new_password")
    except ApiError:
        # A refused password leaves the link usable for a better one.
        db.session.rollback()
        raise
    developers.store_new_password(developer, new_password)
    developer_id = str(developer.id)
    audit.record("developer.password_reset", ANONYMOUS, client, "developer", developer_id)
    # One transaction: the new password and the end of every session, or neither.
    refresh_tokens.revoke_subject(Kind.DEVELOPER, developer_id)
    db.session.commit()
