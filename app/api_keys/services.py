import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.alerts import services as alerts
from app.api_keys.models import ApiKey
from app.audit import services as audit
from app.core.actor import Actor
from app.core.admission import API_KEY_USES, recorded_key_uses
from app.core.auth import ApiKeyRecord, Principal, api_key_subject
from app.core.client import ClientInfo, client_info
from app.core.db import utcnow
from app.core.errors import ApiError
from app.core.revocation import CACHE_SECONDS, EXPIRES_FIELD, RELOAD_FIELD, REVOKED_FIELD
from app.core.secrets import digest, generate_secret, random_base62
from app.core.store import MemoryStore, Uses, get_store
from app.developers import services as developers
from app.extensions import db
from app.refresh_tokens import revocations
from app.refresh_tokens.models import RevocationRecord

log = logging.getLogger(__name__)

KEY_ID_PREFIX = "key_"
KEY_ID_RANDOM_LENGTH = 16
KEY_ID_SHAPE = re.compile(rf"{KEY_ID_PREFIX}[0-9A-Za-z]{{{KEY_ID_RANDOM_LENGTH}}}")
DISPLAY_PREFIX_LENGTH = 12
TOMBSTONE_MARGIN_SECONDS = 60
"""A tombstone outlives any record cached before it (CACHE_SECONDS) by this much."""
REVOKED_REASON_LENGTH = 200
RESTRICTIONS = ("scopes", "allowed_ips")
IP_REFUSAL_AUDIT_SECONDS = 3600
"""A key refused from one network is audited at most once in this long."""


def _secret_for(environment: str) -> str:
    return generate_secret(f"ow_{environment}_")


def _audit(action: str, principal: Principal, client: ClientInfo, api_key: ApiKey) -> None:
    audit.record(
        action,
        Actor.of(principal),
        client,
        "api_key",
        api_key.id,
        {
            "name": api_key.name,
            "prefix": api_key.prefix,
            "environment": api_key.environment,
            "scopes": api_key.scopes,
            "allowed_ips": api_key.allowed_ips,
            **(
                {"previous_key_expires_at": api_key.previous_key_expires_at.isoformat()}
                if api_key.previous_key_expires_at is not None
                else {}
            ),
        },
    )


def create_key(
    name: str,
    environment: str,
    expires_at: datetime | None,
    principal: Principal,
    client: ClientInfo,
    scopes: list[str] | None = None,
    allowed_ips: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret exists only in this return value.
    `scopes`, `allowed_ips`: normalised by the schema; None: full access, anywhere."""
    secret = _secret_for(environment)
    api_key = ApiKey(
        id=KEY_ID_PREFIX + random_base62(KEY_ID_RANDOM_LENGTH),
        name=name,
        environment=environment,
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        key_digest=digest(secret),
        created_by=uuid.UUID(principal.subject_id),
        expires_at=expires_at,
        scopes=scopes,
        allowed_ips=allowed_ips,
    )
    db.session.add(api_key)
    _audit("api_key.created", principal, client, api_key)
    db.session.commit()
    return api_key, secret


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc())))


def _holding(key_digest: str) -> ColumnElement[bool]:
    """The key whose secret has this digest: its current one, or the previous one while
    a rotation's grace period keeps it working (one indexed lookup either way)."""
    return or_(
        ApiKey.key_digest == key_digest,
        and_(
            ApiKey.previous_key_digest == key_digest,
            ApiKey.previous_key_expires_at > utcnow(),
        ),
    )


def find_by_digest(key_digest: str) -> ApiKey | None:
    """The key this secret opens (as its current secret or in a grace period), if any."""
    key: ApiKey | None = db.session.scalar(select(ApiKey).where(_holding(key_digest)))
    return key


def get_key(key_id: str) -> ApiKey:
    # Any text can arrive in the path; only an id of our own shape is worth a lookup.
    api_key = db.session.get(ApiKey, key_id) if KEY_ID_SHAPE.fullmatch(key_id) else None
    if api_key is None:
        raise ApiError(404, "API key not found.")
    return api_key


def update_key(
    key_id: str, changes: dict[str, Any], principal: Principal, client: ClientInfo
) -> ApiKey:
    """Change any of `name`, `scopes`, `allowed_ips` (normalised by the schema; None
    lifts the restriction). A change of scopes or allowlist holds on every worker from
    the commit: it stages a reload of the key's cached records (its current secret and
    a grace period's previous one), pushed after the commit (later, if Redis is down:
    before any worker trusts Redis again)."""
    api_key = get_key(key_id)
    before = {field: getattr(api_key, field) for field in changes}
    for field, value in changes.items():
        setattr(api_key, field, value)
    staged: list[RevocationRecord] = []
    if any(before[field] != changes[field] for field in RESTRICTIONS if field in changes):
        digests = [api_key.key_digest, api_key.previous_key_digest]
        for key_digest in filter(None, digests):
            staged += revocations.record_flag(
                api_key_subject(key_digest),
                RELOAD_FIELD,
                utcnow() + timedelta(seconds=CACHE_SECONDS + TOMBSTONE_MARGIN_SECONDS),
            )
    audit.record(
        "api_key.updated",
        Actor.of(principal),
        client,
        "api_key",
        api_key.id,
        {
            "name": api_key.name,
            "prefix": api_key.prefix,
            **{f"old_{field}": value for field, value in before.items()},
            **changes,
        },
    )
    db.session.commit()
    revocations.push(staged)
    return api_key


def rotate_key(
    key_id: str, principal: Principal, client: ClientInfo, grace_seconds: int = 0
) -> tuple[ApiKey, str]:
    """Same id and name, a new secret. Without a grace period the old secret stops
    working at commit, on every worker (its cached record gets a tombstone); with one it
    keeps working until then, never past the key's own expiry (its cached record gets
    that expiry). A grace still running from an earlier rotation ends at once."""
    api_key = get_key(key_id)
    staged = end_grace(api_key)
    now = utcnow()
    previous_end = _previous_secret_end(api_key, now, grace_seconds)
    if previous_end is not None:
        api_key.previous_key_digest = api_key.key_digest
        api_key.previous_key_expires_at = previous_end
        staged += revocations.record_flag(
            api_key_subject(api_key.key_digest), EXPIRES_FIELD, previous_end
        )
    else:
        staged += _tombstone(api_key.key_digest)
    secret = _secret_for(api_key.environment)
    api_key.key_digest = digest(secret)
    api_key.prefix = secret[:DISPLAY_PREFIX_LENGTH]
    api_key.rotated_at = now
    # A new secret is how a revoked (leaked) key is brought back into service.
    api_key.revoked_at = None
    api_key.revoked_reason = None
    _audit("api_key.rotated", principal, client, api_key)
    _queue_rotation_alert(api_key, principal, client)
    db.session.commit()
    revocations.push(staged)
    return api_key, secret


def _previous_secret_end(api_key: ApiKey, now: datetime, grace_seconds: int) -> datetime | None:
    """Until when the secret a rotation replaces keeps working; None: it stops at once.
    A grace period never outlives the key's own expiry, and a revoked key gets none: its
    secret was refused for a reason (a leak) and must not work again as the previous one."""
    if grace_seconds <= 0 or api_key.revoked_at is not None:
        return None
    end = now + timedelta(seconds=grace_seconds)
    if api_key.expires_at is not None:
        end = min(end, api_key.expires_at)
    return end if end > now else None


def end_grace(api_key: ApiKey) -> list[RevocationRecord]:
    """End a rotation's grace period now, in the caller's transaction: the previous
    secret gets a tombstone, staged for `revocations.push` once the caller commits."""
    previous = api_key.previous_key_digest
    api_key.previous_key_digest = None
    api_key.previous_key_expires_at = None
    return _tombstone(previous) if previous else []


def owner_email(api_key: ApiKey) -> str | None:
    """The key's creator, or whoever took over their alerts when they were removed."""
    return developers.alert_address(api_key.created_by)


def _queue_rotation_alert(api_key: ApiKey, principal: Principal, client: ClientInfo) -> None:
    """Tell the key's owner (or, for an orphaned key, whoever rotated it), in the
    rotation's own transaction."""
    actor = developers.named_actor(principal)
    recipient = owner_email(api_key) or actor.name
    grace_end = api_key.previous_key_expires_at
    stopped = (
        f"its previous secret keeps working until {grace_end.isoformat()} (grace period)"
        if grace_end is not None
        else "its previous secret stopped working at that moment"
    )
    alerts.queue_alert(
        event="api_key.rotated",
        subject=f"API key rotated: {api_key.name}",
        summary=(
            f"An API key was rotated: {stopped}. "
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
) -> list[RevocationRecord] | None:
    """Refuse the key from now on (401 "Invalid API key") until it is rotated.

    The one place a key is revoked: the change, and its audit event, join the caller's
    transaction and take effect at its commit. A key already revoked keeps its first
    revocation: None. Otherwise returns the tombstones of its cached records, which the
    caller pushes with `revocations.push` right after its commit (until then every
    worker's Redis record still accepts the key). `details` go to the audit event
    (never a secret)."""
    if api_key.revoked_at is not None:
        return None
    staged = _tombstone(api_key.key_digest) + end_grace(api_key)
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
    return staged


def delete_key(key_id: str, principal: Principal, client: ClientInfo) -> None:
    api_key = get_key(key_id)
    staged = _tombstone(api_key.key_digest) + end_grace(api_key)
    _audit("api_key.deleted", principal, client, api_key)
    db.session.delete(api_key)
    db.session.commit()
    revocations.push(staged)


def load_record(key_digest: str) -> ApiKeyRecord | None:
    """The usable key holding this digest, as its current secret or as the previous one
    during a rotation's grace period, for the Redis cache (one indexed query)."""
    row = db.session.execute(
        select(
            ApiKey.id,
            ApiKey.environment,
            ApiKey.expires_at,
            ApiKey.revoked_at,
            ApiKey.key_digest,
            ApiKey.previous_key_expires_at,
            ApiKey.scopes,
            ApiKey.allowed_ips,
        ).where(_holding(key_digest))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    ends = [row.expires_at]
    if row.key_digest != key_digest:
        ends.append(row.previous_key_expires_at)
    known = [end.timestamp() for end in ends if end is not None]
    return ApiKeyRecord(
        key_id=row.id,
        environment=row.environment,
        expires_at=min(known) if known else None,
        scopes=None if row.scopes is None else tuple(row.scopes),
        allowed_ips=None if row.allowed_ips is None else tuple(row.allowed_ips),
    )


def record_ip_refusal(principal: Principal, subject: str, network: str) -> None:
    """Audit a key used from outside its allowlist, once per key and network an hour
    (claimed in Redis under the key's hash tag): refused requests write nothing else."""
    if not get_store().first_in(
        f"owa:{{{subject}}}:ip_refused:{network}", IP_REFUSAL_AUDIT_SECONDS
    ):
        return
    try:
        audit.record(
            "api_key.ip_refused",
            Actor.of(principal),
            client_info(),
            "api_key",
            principal.subject_id,
            {"network": network},
        )
        db.session.commit()
    except SQLAlchemyError:
        # The 403 stands without its audit event (the database is down or failing).
        db.session.rollback()
        log.warning("api_key.ip_refused for %s not audited", principal.subject_id, exc_info=True)


def _tombstone(key_digest: str) -> list[RevocationRecord]:
    """Stage, in the current transaction, the end of this secret in Redis (its cached
    record may otherwise keep accepting it)."""
    return revocations.record_flag(
        api_key_subject(key_digest),
        REVOKED_FIELD,
        utcnow() + timedelta(seconds=CACHE_SECONDS + TOMBSTONE_MARGIN_SECONDS),
    )


def flush_last_used() -> int:
    """Move recorded uses into the database in one statement, never moving time backwards.

    Returns how many keys had uses to write.
    """
    store = get_store()
    if isinstance(store, MemoryStore):
        with store.draining(API_KEY_USES) as uses:
            return _write_last_used(uses)
    keys = db.session.execute(
        select(
            ApiKey.id,
            ApiKey.key_digest,
            ApiKey.previous_key_digest,
            ApiKey.last_used_at,
            ApiKey.last_used_ip,
        )
    ).all()
    db.session.commit()
    recorded = recorded_key_uses({row.id: api_key_subject(row.key_digest) for row in keys})
    # A rotation's previous secret is recorded under its own digest: while clients still
    # send it (the grace period, and the uses just before it ended), the key is in use.
    for key_id, use in recorded_key_uses(
        {
            row.id: api_key_subject(row.previous_key_digest)
            for row in keys
            if row.previous_key_digest
        }
    ).items():
        if key_id not in recorded or recorded[key_id][0] < use[0]:
            recorded[key_id] = use
    written = {row.id: (row.last_used_at, row.last_used_ip) for row in keys}
    return _write_last_used(
        {
            key_id: (when, ip)
            for key_id, (when, ip) in recorded.items()
            if _is_newer(when, ip, *written[key_id])
        }
    )


def _is_newer(
    when: float, ip: str | None, written_at: datetime | None, written_ip: str | None
) -> bool:
    """Uses are recorded to the second: a later second, or another client in the same
    second (the last one wins), is news."""
    if written_at is None:
        return True
    return written_at.timestamp() < when or (written_at.timestamp() == when and written_ip != ip)


def _write_last_used(uses: Uses) -> int:
    if not uses:
        return 0
    table = cast(Table, ApiKey.__table__)
    db.session.execute(
        update(table)
        .where(
            table.c.id == bindparam("key_id"),
            or_(
                table.c.last_used_at.is_(None),
                table.c.last_used_at < bindparam("used_at"),
                and_(
                    table.c.last_used_at == bindparam("used_at"),
                    table.c.last_used_ip.is_distinct_from(bindparam("ip")),
                ),
            ),
        )
        .values(last_used_at=bindparam("used_at"), last_used_ip=bindparam("ip")),
        [
            {"key_id": key_id, "used_at": datetime.fromtimestamp(when, tz=UTC), "ip": ip}
            for key_id, (when, ip) in uses.items()
        ],
    )
    db.session.commit()
    return len(uses)
