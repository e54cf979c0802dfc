import secrets
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select

from app.core.actor import Actor
from app.core.auth import Kind, Principal
from app.core.errors import unauthorized
from app.developers.models import Developer
from app.extensions import db

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


def get_developer(developer_id: str | uuid.UUID) -> Developer | None:
    try:
        return db.session.get(Developer, uuid.UUID(str(developer_id)))
    except ValueError:
        return None


def active_developer(developer_id: str) -> Developer:
    """The developer a valid token names, or 401 once the account is gone or disabled."""
    developer = get_developer(developer_id)
    if developer is None or not developer.is_active:
        raise unauthorized("Account no longer exists.")
    return developer


def email_of(developer_id: str | uuid.UUID | None) -> str | None:
    """Where mail about a developer's credentials goes; None for an unknown id."""
    developer = get_developer(developer_id) if developer_id is not None else None
    return developer.email if developer is not None else None


def named_actor(principal: Principal) -> Actor:
    """The caller as an alert names it: a developer by e-mail, anything else by id."""
    is_developer = principal.kind is Kind.DEVELOPER
    return Actor.of(principal, email_of(principal.subject_id) if is_developer else None)


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
