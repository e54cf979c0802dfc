import secrets
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select

from app.audit import services as audit
from app.core.auth import Kind, Principal
from app.core.client import ClientInfo
from app.core.errors import ApiError
from app.developers.models import Developer
from app.extensions import db
from app.refresh_tokens import services as refresh_tokens
from app.refresh_tokens.revocations import revoke_access_token
from app.refresh_tokens.services import TokenPair

GENERATED_ADMIN_EMAIL = "admin@example.com"


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


def create_developer(
    email: str, password: str, first_name: str | None = None, last_name: str | None = None
) -> Developer:
    developer = Developer(
        email=normalise_email(email),
        password_hash=_hasher().hash(password),
        first_name=first_name,
        last_name=last_name,
    )
    db.session.add(developer)
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
    audit.record(
        "developer.login", audit.Actor("developer", developer_id), client, "developer", developer_id
    )
    return refresh_tokens.start_session(Kind.DEVELOPER, developer_id)


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
