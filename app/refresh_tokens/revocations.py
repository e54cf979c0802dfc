"""The durable half of access-token revocation (the Redis half is `app.core.revocation`).

A revocation is committed to PostgreSQL with one `RevocationRecord` per Redis flag
it needs, in the same transaction; `push` then flags Redis and marks the records pushed.
When Redis is down they stay unpushed, and whoever next trusts Redis pushes them first.
Pushed records are kept until they expire (the purge task deletes them then): a Redis
restored from a snapshot taken before the push lacks their flags, so every push after
Redis was distrusted (an error, a new connection) hands them over again.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, tuple_, update

from app.core.auth import Kind, Principal
from app.core.db import rows_changed, utcnow
from app.core.revocation import (
    AddRevocations,
    Revocations,
    add_revocation,
    session_field,
    subject_of,
    token_field,
)
from app.extensions import db
from app.refresh_tokens.models import RefreshToken, RevocationRecord, RevokedAccessToken

PUSH_BATCH_SIZE = 500


def access_token_lifetime(kind: Kind) -> int:
    setting = "SDK_TOKEN_EXPIRES_SECONDS" if kind is Kind.SDK else "ACCESS_TOKEN_EXPIRES_SECONDS"
    lifetime: int = current_app.config[setting]
    return lifetime


def longest_access_token_lifetime() -> timedelta:
    """Every access token of a session revoked longer ago than this has expired."""
    return timedelta(
        seconds=max(access_token_lifetime(Kind.DEVELOPER), access_token_lifetime(Kind.SDK))
    )


def _record(subject: str, field: str, expires_at: datetime) -> RevocationRecord:
    row = RevocationRecord(subject=subject, field=field, expires_at=expires_at)
    db.session.add(row)
    return row


def record_flag(subject: str, field: str, expires_at: datetime) -> list[RevocationRecord]:
    """Stage any other Redis flag (an API key's tombstone) in the current transaction;
    `push` it after the commit."""
    return [_record(subject, field, expires_at)]


def record_revoked_families(family_ids: Iterable[object]) -> list[RevocationRecord]:
    """Stage the Redis flags of families being revoked in the current transaction."""
    owners = db.session.execute(
        select(RefreshToken.family_id, RefreshToken.subject_type, RefreshToken.subject_id)
        .where(RefreshToken.family_id.in_(list(family_ids)))
        .distinct()
    ).all()
    expires_at = utcnow() + longest_access_token_lifetime()
    return [
        _record(subject_of(kind, subject_id), session_field(str(family_id)), expires_at)
        for family_id, kind, subject_id in owners
    ]


def record_revoked_access_token(principal: Principal) -> list[RevocationRecord]:
    """Stage one JWT's revocation (and its Redis flag) in the current transaction;
    nothing for a token that has expired anyway."""
    expires_at = datetime.fromtimestamp(principal.expires_at or 0, UTC)
    if expires_at <= utcnow() or principal.token_id is None:
        return []
    subject = subject_of(principal.kind.value, principal.subject_id)
    db.session.merge(
        RevokedAccessToken(jti=principal.token_id, subject=subject, expires_at=expires_at)
    )
    return [_record(subject, token_field(principal.token_id), expires_at)]


def revoke_access_token(principal: Principal) -> None:
    """Refuse one JWT on every worker until it would have expired anyway: committed to
    PostgreSQL first, then flagged in Redis (later, if Redis is down)."""
    staged = record_revoked_access_token(principal)
    db.session.commit()
    push(staged)


def push(rows: list[RevocationRecord]) -> None:
    """Flag committed revocations in Redis and mark their records pushed; while Redis
    is down they stay unpushed for the next push."""
    if rows and all(
        add_revocation(row.subject, row.field, row.expires_at.timestamp()) for row in rows
    ):
        _mark_pushed([row.id for row in rows])


def _mark_pushed(ids: list[object]) -> None:
    db.session.execute(
        update(RevocationRecord).where(RevocationRecord.id.in_(ids)).values(pushed=True)
    )
    db.session.commit()


def push_unpushed(add: AddRevocations, including_pushed: bool) -> int:
    """Hand every unexpired revocation never pushed (`including_pushed`: every unexpired
    one) to `add`, oldest expiry first, and mark them pushed; how many were handed over.
    Raises what `add` raises."""
    handed = 0
    after: tuple[datetime, object] | None = None
    order = (RevocationRecord.expires_at, RevocationRecord.id)
    while True:
        batch = (
            select(RevocationRecord)
            .where(RevocationRecord.expires_at > utcnow())
            .order_by(*order)
            .limit(PUSH_BATCH_SIZE)
        )
        if not including_pushed:
            batch = batch.where(RevocationRecord.pushed.is_(False))
        if after is not None:
            batch = batch.where(tuple_(*order) > after)
        rows = db.session.scalars(batch).all()
        if not rows:
            db.session.commit()
            return handed
        add([(row.subject, row.field, row.expires_at.timestamp()) for row in rows])
        after = (rows[-1].expires_at, rows[-1].id)
        _mark_pushed([row.id for row in rows if not row.pushed])
        handed += len(rows)


def live_revocations(subject: str) -> Revocations:
    """What PostgreSQL says is revoked for this subject and could still be presented:
    its sessions revoked within the longest access-token lifetime, its revoked access
    tokens not yet expired."""
    prefix, _, subject_id = subject.partition(":")
    subject_type = Kind.DEVELOPER.value if prefix == "dev" else prefix
    lifetime = longest_access_token_lifetime()
    now = utcnow()
    # A family is revoked when every token of it is (one token revoked alone was replaced
    # by a retried refresh, its session lives on); it ended at its latest revocation.
    ended_at = func.max(RefreshToken.revoked_at)
    sessions = db.session.execute(
        select(RefreshToken.family_id, ended_at)
        .where(RefreshToken.subject_type == subject_type, RefreshToken.subject_id == subject_id)
        .group_by(RefreshToken.family_id)
        .having(
            func.count(RefreshToken.revoked_at) == func.count(),
            ended_at > now - lifetime,
        )
    ).all()
    tokens = db.session.execute(
        select(RevokedAccessToken.jti, RevokedAccessToken.expires_at).where(
            RevokedAccessToken.subject == subject, RevokedAccessToken.expires_at > now
        )
    ).all()
    revocations = {
        session_field(str(family_id)): (revoked_at + lifetime).timestamp()
        for family_id, revoked_at in sessions
        if revoked_at is not None  # never: the HAVING keeps fully revoked families only
    }
    revocations.update({token_field(jti): expires_at.timestamp() for jti, expires_at in tokens})
    return revocations


def purge_expired(batch_size: int) -> int:
    """Delete logged-out tokens and revocation records that no longer matter, `batch_size`
    rows per statement and transaction."""
    deleted = 0
    for model, key in (
        (RevokedAccessToken, RevokedAccessToken.jti),
        (RevocationRecord, RevocationRecord.id),
    ):
        while True:
            batch = select(key).where(model.expires_at <= utcnow()).limit(batch_size)
            count = db.session.execute(delete(model).where(key.in_(batch.scalar_subquery())))
            db.session.commit()
            deleted += rows_changed(count)
            if rows_changed(count) < batch_size:
                break
    return deleted
