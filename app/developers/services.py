"""Developer accounts: look-ups, passwords, profile and the admin bootstrap.

Sessions (login, logout, revocation) are in `sessions.py`; everything here works
without the refresh-token store, so any feature may look a developer up.
"""

import secrets
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import Select, select

from app.account_mail import services as account_mail
from app.account_mail.models import LINK_PLACEHOLDER, PASSWORD_RESET
from app.alerts import services as alerts
from app.audit import services as audit
from app.core.actor import ANONYMOUS, Actor
from app.core.auth import Kind, Principal
from app.core.client import ClientInfo
from app.core.db import utcnow
from app.core.errors import ApiError, unauthorized
from app.core.schemas import normalise_email
from app.core.store import get_store
from app.developers.models import Developer
from app.developers.passwords import enforce_password_policy
from app.extensions import db

# Removal chains are short (A removed B who had removed C); the bound only guards cycles.
MAX_REMOVAL_HOPS = 20
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


def find_by_email(email: str) -> Developer | None:
    return db.session.scalar(select(Developer).where(Developer.email == normalise_email(email)))


def get_developer(developer_id: str | uuid.UUID) -> Developer | None:
    try:
        return db.session.get(Developer, uuid.UUID(str(developer_id)))
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


def _rehash(developer: Developer, password: str) -> None:
    """The same password under the hasher's current parameters: not a change."""
    developer.password_hash = _hasher().hash(password)
    db.session.commit()


def store_new_password(developer: Developer, password: str) -> None:
    """Set a password the developer did not have, in the caller's transaction. Reset
    links requested before it, and mailed only after, are then void (`resets.issue`)."""
    developer.password_hash = _hasher().hash(password)
    developer.password_changed_at = utcnow()


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
        _rehash(developer, password)
    return developer


def _fresh_flag(developer_id: str, session_id: str | None) -> str:
    return f"owa:{{dev:{developer_id}}}:fresh:{session_id}"


def mark_fresh(developer_id: str, session_id: str | None) -> None:
    """The session just proved the password: it may do sensitive things for a while."""
    ttl = current_app.config["REAUTH_MAX_AGE_SECONDS"]
    get_store().flag(_fresh_flag(developer_id, session_id), ttl)


def require_fresh_session(principal: Principal) -> None:
    """403 unless the caller's session proved the password within REAUTH_MAX_AGE_SECONDS."""
    if not get_store().any_flagged([_fresh_flag(principal.subject_id, principal.session_id)]):
        raise ApiError(403, CONFIRM_PASSWORD_DETAIL)


def signed_in_developer(principal: Principal) -> Developer:
    """The caller's account; 401 once it is gone or deactivated."""
    return active_developer(principal.subject_id)


def active_developer(developer_id: str) -> Developer:
    """The developer with this id; 401 once the account is gone or deactivated."""
    developer = get_developer(developer_id)
    if developer is None or not developer.is_active:
        raise unauthorized("Account no longer exists.")
    return developer


def alert_address(developer_id: str | uuid.UUID | None) -> str | None:
    """Where mail about a developer's credentials goes: their e-mail, or, once they were
    removed, that of whoever removed them (the first active one along the chain); None
    for an unknown id or a chain that ends without one."""
    for _ in range(MAX_REMOVAL_HOPS):
        developer = get_developer(developer_id) if developer_id is not None else None
        if developer is None:
            return None
        if developer.is_active:
            return developer.email
        developer_id = developer.removed_by_id
    return None


def named_actor(principal: Principal) -> Actor:
    """The caller as an alert names it: a developer by e-mail, anything else by id."""
    is_developer = principal.kind is Kind.DEVELOPER
    return Actor.of(principal, alert_address(principal.subject_id) if is_developer else None)


def update_profile(
    principal: Principal, changes: dict[str, str | None], client: ClientInfo
) -> Developer:
    developer = signed_in_developer(principal)
    for field, value in changes.items():
        setattr(developer, field, value)
    audit.record(
        "developer.profile_updated",
        Actor.of(principal),
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
        Actor.of(principal),
        client,
        "developer",
        principal.subject_id,
    )
    db.session.commit()
    raise ApiError(400, WRONG_PASSWORD_DETAIL)


def replace_password(
    principal: Principal, current_password: str, new_password: str, client: ClientInfo
) -> None:
    """Check the current password (400 when wrong, audited), then set the new one in
    the session's transaction; `sessions.change_password` commits it."""
    developer = signed_in_developer(principal)
    _check_current_password(developer, principal, current_password, client)
    enforce_password_policy(new_password, developer.email, "new_password")
    store_new_password(developer, new_password)


def confirm_password(principal: Principal, password: str, client: ClientInfo) -> None:
    """Prove the password again, so the session counts as fresh."""
    developer = signed_in_developer(principal)
    _check_current_password(developer, principal, password, client)
    mark_fresh(principal.subject_id, principal.session_id)


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
            store_new_password(developer, password)
            db.session.commit()
        return developer, None
    existing = db.session.scalar(select(Developer).order_by(Developer.created_at).limit(1))
    if existing is not None:
        return existing, None
    generated = secrets.token_urlsafe(18)
    return create_developer(email or GENERATED_ADMIN_EMAIL, generated), generated


def active_developers() -> Select[Developer]:
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
        actor=named_actor(principal),
        client=client,
        recipients=list(db.session.scalars(select(Developer.email).where(Developer.is_active))),
    )


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
    audit.record("developer.password_reset_requested", ANONYMOUS, client, "developer")
    db.session.commit()
