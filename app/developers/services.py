import logging
import secrets
import uuid

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import Select, select

from app.account_mail import services as account_mail
from app.account_mail.models import LINK_PLACEHOLDER, PASSWORD_RESET
from app.alerts import services as alerts
from app.audit import services as audit
from app.core.auth import Kind, Principal
from app.core.client import ClientInfo
from app.core.db import utcnow
from app.core.errors import ApiError
from app.core.store import get_store
from app.developers import resets
from app.developers.models import Developer
from app.developers.passwords import enforce_password_policy
from app.extensions import db
from app.refresh_tokens import services as refresh_tokens
from app.refresh_tokens.revocations import revoke_access_token
from app.refresh_tokens.services import TokenPair

log = logging.getLogger(__name__)

GENERATED_ADMIN_EMAIL = "admin@example.com"
CONFIRM_PASSWORD_DETAIL = "Please confirm your password."
WRONG_PASSWORD_DETAIL = "Current password is incorrect."


def _hasher() -> PasswordHasher:
    hasher = current_app.extensions.get("owa_password_hasher")
    if hasher is None:
        hasher = current_app.extensions["owa_password_hasher"] = PasswordHasher(
            time_cost=current_app.config["PASSWORD_HASH_TIME_COST"],
            memory_cost=current_app.config["PASSWORD_HASH_MEMORY_KIB"],
        )
    return hasher


def _decoy_hash() -> str:
    """A real argon2id hash to verify against when the e-mail is unknown, so both
    failures cost one full hash verification and look the same from outside."""
    decoy = current_app.extensions.get("owa_decoy_hash")
    if decoy is None:
        decoy = current_app.extensions["owa_decoy_hash"] = _hasher().hash(secrets.token_hex(16))
    return decoy


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> Developer | None:
    return db.session.scalar(select(Developer).where(Developer.email == normalise_email(email)))


def get_developer(developer_id: str) -> Developer | None:
    try:
        return db.session.get(Developer, uuid.UUID(developer_id))
    except ValueError:
        return None


def new_developer(
    email: str, password: str, first_name: str | None = None, last_name: str | None = None
) -> Developer:
    """Add a developer to the current transaction (flushed, so it has its id)."""
    developer = Developer(
        email=normalise_email(email),
        password_hash=_hasher().hash(password),
        first_name=first_name,
        last_name=last_name,
    )
    db.session.add(developer)
    db.session.flush()
    return developer


def create_developer(
    email: str, password: str, first_name: str | None = None, last_name: str | None = None
) -> Developer:
    developer = new_developer(email, password, first_name, last_name)
    db.session.commit()
    return developer


def set_password(developer: Developer, password: str) -> None:
    developer.password_hash = _hasher().hash(password)
    db.session.commit()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_matches(developer: Developer, password: str) -> bool:
    return _verify(developer.password_hash, password)


def authenticate(email: str, password: str) -> Developer | None:
    developer = find_by_email(email)
    if developer is None:
        _verify(_decoy_hash(), password)
        return None
    if not password_matches(developer, password) or not developer.is_active:
        return None
    if _hasher().check_needs_rehash(developer.password_hash):
        set_password(developer, password)
    return developer


def _fresh_flag(developer_id: str, session_id: str) -> str:
    return f"owa:{{dev:{developer_id}}}:fresh:{session_id}"


def mark_fresh(developer_id: str, session_id: str) -> None:
    """The session just proved the password: it may do sensitive things for a while."""
    ttl = current_app.config["REAUTH_MAX_AGE_SECONDS"]
    get_store().flag(_fresh_flag(developer_id, session_id), ttl)


def require_fresh_session(principal: Principal) -> None:
    """403 unless the caller's session proved the password within REAUTH_MAX_AGE_SECONDS."""
    if not get_store().any_flagged([_fresh_flag(principal.subject_id, principal.session_id)]):
        raise ApiError(403, CONFIRM_PASSWORD_DETAIL)


def login(email: str, password: str, client: ClientInfo) -> TokenPair:
    """A new session for valid credentials; every attempt lands in the audit trail."""
    developer = authenticate(email, password)
    if developer is None:
        audit.record(
            "developer.login_failed",
            audit.ANONYMOUS,
            client,
            "developer",
            details={"email": normalise_email(email)},
        )
        db.session.commit()
        raise ApiError(401, "Incorrect email or password", {"WWW-Authenticate": "Bearer"})
    developer_id = str(developer.id)
    developer.last_login_at = utcnow()
    audit.record(
        "developer.login", audit.Actor("developer", developer_id), client, "developer", developer_id
    )
    pair = refresh_tokens.start_session(Kind.DEVELOPER, developer_id, client=client)
    try:
        mark_fresh(developer_id, pair.session_id)
    except redis.RedisError:
        # Redis is down: the login stands, sensitive changes ask for the password again.
        log.info("session %s of developer %s not marked fresh", pair.session_id, developer_id)
    return pair


def signed_in_developer(principal: Principal) -> Developer:
    """The caller's account; 401 once it is gone or deactivated."""
    developer = get_developer(principal.subject_id)
    if developer is None or not developer.is_active:
        raise ApiError(401, "Account no longer exists.", {"WWW-Authenticate": "Bearer"})
    return developer


def update_profile(principal: Principal, changes: dict[str, str | None], client: ClientInfo):
    developer = signed_in_developer(principal)
    for field, value in changes.items():
        setattr(developer, field, value)
    audit.record(
        "developer.profile_updated",
        audit.Actor.of(principal),
        client,
        "developer",
        principal.subject_id,
        details={"fields": sorted(changes)},
    )
    db.session.commit()
    return developer


def _check_current_password(
    developer: Developer, principal: Principal, password: str, client: ClientInfo
) -> None:
    """400 (not 401: clients answer 401 by refreshing) for a wrong password, audited."""
    if password_matches(developer, password):
        return
    audit.record(
        "developer.password_check_failed",
        audit.Actor.of(principal),
        client,
        "developer",
        principal.subject_id,
    )
    db.session.commit()
    raise ApiError(400, WRONG_PASSWORD_DETAIL)


def change_password(
    principal: Principal, current_password: str, new_password: str, client: ClientInfo
) -> None:
    """Set a new password and end every other session of the developer at once."""
    developer = signed_in_developer(principal)
    _check_current_password(developer, principal, current_password, client)
    enforce_password_policy(new_password, developer.email, "new_password")
    developer.password_hash = _hasher().hash(new_password)
    revoke_other_sessions(principal, client, "developer.password_changed")
    mark_fresh(principal.subject_id, principal.session_id)


def confirm_password(principal: Principal, password: str, client: ClientInfo) -> None:
    """Prove the password again, so the session counts as fresh."""
    developer = signed_in_developer(principal)
    _check_current_password(developer, principal, password, client)
    mark_fresh(principal.subject_id, principal.session_id)


def revoke_other_sessions(
    principal: Principal, client: ClientInfo, action: str = "developer.sessions_revoked"
) -> None:
    """Commit the change audited as `action`, then end every session but the caller's."""
    audit.record(
        action,
        audit.Actor.of(principal),
        client,
        "developer",
        principal.subject_id,
    )
    db.session.commit()
    refresh_tokens.revoke_subject(
        Kind.DEVELOPER, principal.subject_id, keep_session=principal.session_id
    )


def revoke_session(principal: Principal, session_id: str, client: ClientInfo) -> None:
    """End one of the caller's sessions (404 for anyone else's)."""
    if not refresh_tokens.revoke_session(Kind.DEVELOPER, principal.subject_id, session_id):
        raise ApiError(404, "Session not found.")
    audit.record(
        "developer.session_revoked",
        audit.Actor.of(principal),
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
    audit.record("developer.logout", audit.ANONYMOUS, client, "session", str(family_id))
    db.session.commit()
    refresh_tokens.revoke_families([family_id])


def logout(principal: Principal, refresh_token: str | None, client: ClientInfo) -> None:
    """Kill the caller's access token now, and its session's refresh tokens."""
    if refresh_token:
        refresh_tokens.revoke_presented_family(refresh_token, principal.kind, principal.subject_id)
    audit.record(
        "developer.logout",
        audit.Actor.of(principal),
        client,
        "developer",
        principal.subject_id,
    )
    refresh_tokens.revoke_families([uuid.UUID(principal.session_id)])
    revoke_access_token(principal)


def ensure_admin(email: str, password: str) -> tuple[Developer, str | None]:
    """Make sure the configured admin exists and can log in with `password`.

    With no e-mail/password configured, the first run creates an admin with a
    generated password; the password is returned so the caller can show it once.
    Returns the admin and the password to display (None when nothing is new).
    """
    if email and password:
        developer = find_by_email(email)
        if developer is None:
            return create_developer(email, password), None
        if not password_matches(developer, password):
            set_password(developer, password)
        return developer, None
    existing = db.session.scalar(select(Developer).order_by(Developer.created_at).limit(1))
    if existing is not None:
        return existing, None
    generated = secrets.token_urlsafe(18)
    return create_developer(email or GENERATED_ADMIN_EMAIL, generated), generated


def active_developers() -> Select:
    return (
        select(Developer)
        .where(Developer.is_active.is_(True))
        .order_by(Developer.created_at, Developer.id)
    )


def alert_every_active_developer(
    event: str,
    subject: str,
    summary: str,
    target_type: str,
    target_id: str,
    target_name: str,
    principal: Principal,
    client: ClientInfo,
) -> None:
    """A team-wide alert (invitations, removals), in the caller's transaction."""
    alerts.queue_alert(
        event=event,
        subject=subject,
        summary=summary,
        credential=alerts.Credential(type=target_type, id=target_id, name=target_name),
        actor=alerts.actor_of(principal),
        client=client,
        recipients=list(db.session.scalars(select(Developer.email).where(Developer.is_active))),
    )


def remove_developer(principal: Principal, developer_id: uuid.UUID, client: ClientInfo) -> None:
    """Deactivate a developer: no more logins, every session ends at once. Their API keys
    and applications stay (they belong to the platform); their alerts go to the caller."""
    require_fresh_session(principal)
    remover = signed_in_developer(principal)
    if developer_id == remover.id:
        raise ApiError(409, "You cannot remove yourself; ask another developer.")
    # Locking every active row serialises concurrent removals: one of two racing
    # removals of the last two developers sees a single active developer left.
    active = list(db.session.scalars(active_developers().with_for_update()))
    developer = next((d for d in active if d.id == developer_id), None)
    if developer is None:
        raise ApiError(404, "Developer not found.")
    if len(active) <= 1:
        raise ApiError(409, "The last active developer cannot be removed.")
    developer.is_active = False
    developer.removed_at = utcnow()
    developer.removed_by_id = remover.id
    audit.record(
        "developer.removed",
        audit.Actor.of(principal),
        client,
        "developer",
        str(developer.id),
        details={"email": developer.email},
    )
    db.session.flush()
    alert_every_active_developer(
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


RESET_PAGE = "/dashboard/reset-password"


def request_password_reset(email: str, client: ClientInfo) -> None:
    """Queue a reset mail for whatever address was given. Known or not, the request does
    the same work; the mail worker issues the token only for an active developer."""
    account_mail.require_mail_transport()
    minutes = current_app.config["PASSWORD_RESET_EXPIRES_MINUTES"]
    account_mail.queue_mail(
        PASSWORD_RESET,
        normalise_email(email),
        "Reset your Open Wearables password",
        "Someone (hopefully you) asked to reset the password of your Open Wearables "
        f"developer account. Choose a new one within {minutes} minutes at:\n"
        f"{LINK_PLACEHOLDER}\n\nThe link works once. If you did not ask, ignore this "
        "mail; your password stays as it is.",
        account_mail.link_prefix(RESET_PAGE),
    )
    audit.record("developer.password_reset_requested", audit.ANONYMOUS, client, "developer")
    db.session.commit()


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
    developer.password_hash = _hasher().hash(new_password)
    developer_id = str(developer.id)
    audit.record("developer.password_reset", audit.ANONYMOUS, client, "developer", developer_id)
    db.session.commit()
    refresh_tokens.revoke_subject(Kind.DEVELOPER, developer_id)
