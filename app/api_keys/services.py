import re
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update

from app.alerts import services as alerts
from app.api_keys.models import ApiKey
from app.audit import services as audit
from app.core.actor import Actor
from app.core.auth import Kind, Principal
from app.core.client import ClientInfo
from app.core.db import utcnow
from app.core.errors import ApiError, unauthorized
from app.core.secrets import digest, generate_secret, random_base62
from app.core.store import get_store
from app.developers import services as developers
from app.extensions import db

KEY_ID_PREFIX = "key_"
KEY_ID_RANDOM_LENGTH = 16
KEY_ID_SHAPE = re.compile(rf"{KEY_ID_PREFIX}[0-9A-Za-z]{{{KEY_ID_RANDOM_LENGTH}}}")
DISPLAY_PREFIX_LENGTH = 12
LAST_USED = "owa:{api_keys}:last_used"
REVOKED_REASON_LENGTH = 200


def _secret_for(environment: str) -> str:
    return generate_secret(f"ow_{environment}_")


def _audit(action: str, principal: Principal, client: ClientInfo, api_key: ApiKey) -> None:
    audit.record(
        action,
        Actor.of(principal),
        client,
        "api_key",
        api_key.id,
        {"name": api_key.name, "prefix": api_key.prefix, "environment": api_key.environment},
    )


def create_key(
    name: str,
    environment: str,
    expires_at: datetime | None,
    principal: Principal,
    client: ClientInfo,
) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret exists only in this return value."""
    secret = _secret_for(environment)
    api_key = ApiKey(
        id=KEY_ID_PREFIX + random_base62(KEY_ID_RANDOM_LENGTH),
        name=name,
        environment=environment,
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        key_digest=digest(secret),
        created_by=uuid.UUID(principal.subject_id),
        expires_at=expires_at,
    )
    db.session.add(api_key)
    _audit("api_key.created", principal, client, api_key)
    db.session.commit()
    return api_key, secret


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc())))


def find_by_digest(key_digest: str) -> ApiKey | None:
    key: ApiKey | None = db.session.scalar(select(ApiKey).where(ApiKey.key_digest == key_digest))
    return key


def get_key(key_id: str) -> ApiKey:
    # Any text can arrive in the path; only an id of our own shape is worth a lookup.
    api_key = db.session.get(ApiKey, key_id) if KEY_ID_SHAPE.fullmatch(key_id) else None
    if api_key is None:
        raise ApiError(404, "API key not found.")
    return api_key


def rename_key(key_id: str, name: str, principal: Principal, client: ClientInfo) -> ApiKey:
    api_key = get_key(key_id)
    old_name = api_key.name
    api_key.name = name
    audit.record(
        "api_key.renamed",
        Actor.of(principal),
        client,
        "api_key",
        api_key.id,
        {"old_name": old_name, "name": name, "prefix": api_key.prefix},
    )
    db.session.commit()
    return api_key


def rotate_key(key_id: str, principal: Principal, client: ClientInfo) -> tuple[ApiKey, str]:
    """Same id and name, a new secret; the old secret stops matching any row at commit."""
    api_key = get_key(key_id)
    secret = _secret_for(api_key.environment)
    api_key.key_digest = digest(secret)
    api_key.prefix = secret[:DISPLAY_PREFIX_LENGTH]
    api_key.rotated_at = utcnow()
    # A new secret is how a revoked (leaked) key is brought back into service.
    api_key.revoked_at = None
    api_key.revoked_reason = None
    _audit("api_key.rotated", principal, client, api_key)
    _queue_rotation_alert(api_key, principal, client)
    db.session.commit()
    return api_key, secret


def owner_email(api_key: ApiKey) -> str | None:
    """The key's creator, or whoever took over their alerts when they were removed."""
    return developers.alert_address(api_key.created_by)


def _queue_rotation_alert(api_key: ApiKey, principal: Principal, client: ClientInfo) -> None:
    """Tell the key's owner (or, for an orphaned key, whoever rotated it), in the
    rotation's own transaction."""
    actor = developers.named_actor(principal)
    recipient = owner_email(api_key) or actor.name
    alerts.queue_alert(
        event="api_key.rotated",
        subject=f"API key rotated: {api_key.name}",
        summary=(
            "An API key was rotated: its previous secret stopped working at that moment. "
            "If you did not expect this, check the audit trail and your servers' "
            "configuration."
        ),
        credential=alerts.Credential(type="api_key", id=api_key.id, name=api_key.name),
        actor=actor,
        client=client,
        recipients=[recipient] if recipient else [],
        occurred_at=api_key.rotated_at,
    )


def revoke_key(
    api_key: ApiKey, reason: str, actor: Actor, client: ClientInfo, details: dict[str, Any]
) -> bool:
    """Refuse the key from now on (401 "API key revoked") until it is rotated.

    The one place a key is revoked: the change, and its audit event, join the caller's
    transaction and take effect at its commit. A key already revoked keeps its first
    revocation. Returns whether this call revoked it. `details` go to the audit event
    (never a secret)."""
    if api_key.revoked_at is not None:
        return False
    api_key.revoked_at = utcnow()
    api_key.revoked_reason = reason[:REVOKED_REASON_LENGTH]
    audit.record(
        "api_key.revoked",
        actor,
        client,
        "api_key",
        api_key.id,
        {"name": api_key.name, "prefix": api_key.prefix, "reason": reason, **details},
    )
    return True


def delete_key(key_id: str, principal: Principal, client: ClientInfo) -> None:
    api_key = get_key(key_id)
    _audit("api_key.deleted", principal, client, api_key)
    db.session.delete(api_key)
    db.session.commit()


def authenticate_key(secret: str) -> Principal:
    """One indexed lookup by digest; the caller has already checked shape and checksum."""
    row = db.session.execute(
        select(ApiKey.id, ApiKey.expires_at, ApiKey.revoked_at).where(
            ApiKey.key_digest == digest(secret)
        )
    ).first()
    if row is None:
        raise unauthorized("Invalid API key")
    if row.revoked_at is not None:
        raise unauthorized("API key revoked")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise unauthorized("API key expired")
    return Principal(kind=Kind.API_KEY, subject_id=row.id)


def record_use(key_id: str, ip: str | None) -> None:
    """Remember the latest use in the shared store; `flush_last_used` writes it later."""
    get_store().touch(LAST_USED, key_id, utcnow().timestamp(), ip)


def flush_last_used() -> int:
    """Move recorded uses into the database in one statement, never moving time backwards.

    Returns how many keys had uses to write.
    """
    with get_store().draining(LAST_USED) as uses:
        if not uses:
            return 0
        table = cast(Table, ApiKey.__table__)
        db.session.execute(
            update(table)
            .where(
                table.c.id == bindparam("key_id"),
                or_(table.c.last_used_at.is_(None), table.c.last_used_at < bindparam("used_at")),
            )
            .values(last_used_at=bindparam("used_at"), last_used_ip=bindparam("ip")),
            [
                {
                    "key_id": key_id,
                    "used_at": datetime.fromtimestamp(when, tz=UTC),
                    "ip": ip,
                }
                for key_id, (when, ip) in uses.items()
            ],
        )
        db.session.commit()
        return len(uses)
