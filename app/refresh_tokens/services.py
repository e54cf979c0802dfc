import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, delete, select, update

from app.alerts import services as alerts
from app.core.actor import Actor
from app.core.auth import Kind, Principal, issue_access_token
from app.core.client import ClientInfo
from app.core.db import rows_changed, utcnow
from app.core.errors import ApiError, unauthorized
from app.core.secrets import digest, generate_secret, is_well_formed
from app.developers import services as developers
from app.extensions import db
from app.refresh_tokens import revocations
from app.refresh_tokens.models import RefreshToken, RevocationRecord
from app.refresh_tokens.revocations import access_token_lifetime
from app.sdk_tokens.client_ids import admin_developer_id

REFRESH_TOKEN_PREFIX = "rt_"
REPLACED_DETAIL = "Refresh token was replaced by a retried refresh; its session has been revoked."


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"
    session_id: str = ""
    """The refresh-token family: the `sid` claim of the access token."""
    session_expires_at: datetime | None = None
    """When the family ends, whatever the refreshes (the refresh cookie's lifetime)."""


@dataclass(frozen=True)
class Family:
    """What every token of one refresh-token family shares."""

    id: uuid.UUID
    kind: Kind
    subject_id: str
    client_id: str | None
    started_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, row: RefreshToken) -> "Family":
        return cls(
            row.family_id,
            Kind(row.subject_type),
            row.subject_id,
            row.client_id,
            row.session_started_at or row.created_at,
            row.expires_at,
        )


def _mint(
    family: Family,
    client: ClientInfo | None,
    minted_at: datetime,
    parent_id: uuid.UUID | None = None,
) -> TokenPair:
    refresh_token = generate_secret(REFRESH_TOKEN_PREFIX)
    kind = family.kind
    lifetime = access_token_lifetime(kind)
    # The `jti` is chosen here so the row can name the access token issued with it.
    access_token_id = str(uuid.uuid4())
    claims = {"jti": access_token_id}
    if kind is Kind.SDK and family.client_id:
        claims["app_id"] = family.client_id
    access_token = issue_access_token(kind, family.subject_id, str(family.id), lifetime, claims)
    db.session.add(
        RefreshToken(
            created_at=minted_at,
            family_id=family.id,
            token_digest=digest(refresh_token),
            subject_type=kind.value,
            subject_id=family.subject_id,
            client_id=family.client_id,
            expires_at=family.expires_at,
            session_started_at=family.started_at,
            ip=client.ip if client else None,
            user_agent=client.user_agent if client else None,
            parent_id=parent_id,
            access_token_id=access_token_id,
        )
    )
    return TokenPair(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=lifetime,
        session_id=str(family.id),
        session_expires_at=family.expires_at,
    )


def start_session(
    kind: Kind,
    subject_id: str,
    client_id: str | None = None,
    client: ClientInfo | None = None,
) -> TokenPair:
    """A new refresh-token family (one login or one SDK-token mint) and its first pair."""
    now = utcnow()
    lifetime = timedelta(days=current_app.config["REFRESH_TOKEN_LIFETIME_DAYS"])
    family = Family(uuid.uuid4(), kind, subject_id, client_id, now, now + lifetime)
    pair = _mint(family, client, now)
    db.session.commit()
    return pair


def _find(refresh_token: str) -> RefreshToken | None:
    if not is_well_formed(refresh_token, REFRESH_TOKEN_PREFIX):
        return None
    return db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_digest == digest(refresh_token))
    )


UNSPENT = (
    RefreshToken.used_at.is_(None),
    RefreshToken.revoked_at.is_(None),
    RefreshToken.replaced_at.is_(None),
)
"""Neither used, nor revoked, nor replaced by a grace retry of its parent: the one token
of a live family that a refresh accepts."""


def _unspent(row: RefreshToken) -> bool:
    return row.used_at is None and row.revoked_at is None and row.replaced_at is None


def is_refresh_token(token: str) -> bool:
    """Recognised by its prefix alone, before any check of shape or checksum."""
    return token.startswith(REFRESH_TOKEN_PREFIX)


def find_usable(refresh_token: str) -> RefreshToken | None:
    """The token's row while a refresh would accept it: unused, unrevoked, not replaced,
    unexpired."""
    row = _find(refresh_token)
    if row is None or not _unspent(row):
        return None
    return row if row.expires_at > utcnow() else None


def revoke_family_of(refresh_token: str) -> RefreshToken | None:
    """Revoke the family of a known refresh token, used or not (RFC 7009). None when the
    token is unknown or its family is already revoked."""
    row = _find(refresh_token)
    if row is None or row.revoked_at is not None:
        return None
    revoke_families([row.family_id])
    return row


def rotate(refresh_token: str, client: ClientInfo | None = None) -> TokenPair:
    """Consume `refresh_token` and return the next pair of its family.

    The consuming UPDATE only matches an unused, unrevoked row, so of two concurrent
    refreshes with the same token exactly one wins; the loser is a reuse, which revokes
    the family and alerts its owner (`client` is who presented the used token). A
    revocation of the family waits for the successor's commit (`_lock_families`).
    """
    row = _find(refresh_token)
    if row is None:
        raise unauthorized("Invalid refresh token.")
    if row.subject_type == Kind.DEVELOPER.value:
        # Removing a developer revokes their sessions in a transaction of its own, after
        # the removal commits: the account's state is what ends them for sure.
        developers.active_developer(row.subject_id)
    now = utcnow()
    if _unspent(row) and row.expires_at > now:
        _lock_families([row.family_id])
        consumed = db.session.execute(
            update(RefreshToken).where(RefreshToken.id == row.id, *UNSPENT).values(used_at=now)
        )
        if rows_changed(consumed) == 1:
            pair = _successor(row, client, now)
            db.session.commit()
            return pair
        db.session.rollback()
        row = _find(refresh_token)
        if row is None:
            # Purged between the two reads: as unknown as a token never issued.
            raise unauthorized("Invalid refresh token.")
    if row.revoked_at is not None:
        raise unauthorized("Refresh token has been revoked.")
    if row.replaced_at is not None:
        # Replaced by a retry of its parent: two parties held the parent. End the
        # session, or a thief who retried a stolen token within the grace keeps it.
        _revoke_reused_family(row, client)
        raise unauthorized(REPLACED_DETAIL)
    if row.used_at is not None:
        reissued = _reissue_within_grace(row, client, now)
        if reissued is not None:
            return reissued
        _revoke_reused_family(row, client)
        raise unauthorized("Refresh token has already been used; its session has been revoked.")
    raise unauthorized("Refresh token has expired.")


def _revoke_reused_family(row: RefreshToken, client: ClientInfo | None) -> None:
    """Of concurrent reuses of one family only the request whose UPDATE revoked its
    tokens alerts; the others find them revoked (one alert per revoked family)."""
    staged = _mark_revoked([row.family_id])
    if staged:
        _queue_reuse_alert(row, client)
    db.session.commit()
    revocations.push(staged)


def _successor(parent: RefreshToken, client: ClientInfo | None, now: datetime) -> TokenPair:
    return _mint(Family.of(parent), client, now, parent_id=parent.id)


def _reissue_within_grace(
    parent: RefreshToken, client: ClientInfo | None, now: datetime
) -> TokenPair | None:
    """A used token presented again within `REFRESH_TOKEN_REUSE_GRACE_SECONDS` of its use,
    while the token issued for it is still unused: the response to that refresh was
    probably lost. Revoke that unused successor (and its access token) and issue a new
    pair, once per parent. None when this is not such a case: the caller treats it as reuse.

    Two conditional UPDATEs decide it, so concurrent presentations are settled by row
    locks: claiming the parent's one grace (`reissued_at IS NULL`) and revoking a
    successor that is still unused (racing the successor's own refresh) each succeed for
    one transaction only, and the family never has two live branches.
    """
    grace = timedelta(seconds=current_app.config["REFRESH_TOKEN_REUSE_GRACE_SECONDS"])
    used_at = parent.used_at
    if not grace or used_at is None or used_at < now - grace or parent.expires_at <= now:
        return None
    _lock_families([parent.family_id])
    claimed = db.session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == parent.id,
            RefreshToken.reissued_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(reissued_at=now)
    )
    lost = None
    if rows_changed(claimed) == 1:
        lost = db.session.execute(
            update(RefreshToken)
            .where(RefreshToken.parent_id == parent.id, *UNSPENT)
            .values(replaced_at=now)
            .returning(RefreshToken.access_token_id, RefreshToken.created_at)
        ).one_or_none()
    if lost is None:
        db.session.rollback()
        return None
    pair = _successor(parent, client, now)
    lost_access_token_id, issued_at = lost
    staged = []
    if lost_access_token_id:
        lifetime = access_token_lifetime(Kind(parent.subject_type))
        staged = revocations.record_revoked_access_token(
            Principal(
                kind=Kind(parent.subject_type),
                subject_id=parent.subject_id,
                token_id=lost_access_token_id,
                expires_at=int(issued_at.timestamp()) + lifetime,
            )
        )
    db.session.commit()
    revocations.push(staged)
    return pair


def _owner_emails(row: RefreshToken) -> list[str]:
    """Who answers for a session: the developer who logged in, or the developer who
    minted an SDK token as admin. Other SDK sessions reach only `ALERT_EMAIL_TO`."""
    developer_id = (
        row.subject_id
        if row.subject_type == Kind.DEVELOPER.value
        else admin_developer_id(row.client_id)
    )
    address = developers.alert_address(developer_id)
    return [address] if address else []


def _queue_reuse_alert(row: RefreshToken, client: ClientInfo | None) -> None:
    owner = f"{row.subject_type} {row.subject_id}"
    if row.client_id:
        owner += f" via {row.client_id}"
    alerts.queue_alert(
        event="refresh_token.reuse_detected",
        subject="Refresh token reuse detected: session revoked",
        summary=(
            "A refresh token that had already been used was presented again, which "
            "means it was copied. Every token of its session has been revoked; the "
            "owner has to log in again."
        ),
        credential=alerts.Credential(
            type="refresh_token_session", id=str(row.family_id), name=f"session of {owner}"
        ),
        actor=Actor(type="anonymous", name="whoever presented the used refresh token"),
        client=client,
        recipients=_owner_emails(row),
    )


def revoke_families(family_ids: Iterable[uuid.UUID]) -> None:
    """Revoke every refresh token of these families and every access token minted from
    them: durable at commit, in Redis right after (or once Redis is back)."""
    family_ids = list(set(family_ids))
    if not family_ids:
        return
    staged = _mark_revoked(family_ids)
    db.session.commit()
    revocations.push(staged)


def _lock_families(family_ids: list[uuid.UUID]) -> None:
    """Lock the first token of each family until the transaction ends, before any other
    row of the family: what serialises a refresh with a revocation of its family.

    Without it a revoking UPDATE that waits on the row a refresh is consuming resumes
    with its snapshot from before that refresh, and misses the successor the refresh
    inserts: the session would outlive its logout. Locked first, in a statement of its
    own, the revocation's UPDATE starts after the refresh committed and sees the
    successor; a refresh that comes second finds its token revoked. Roots are locked in
    id order, so revocations of several families never deadlock (SQLite ignores FOR
    UPDATE; it serialises writers anyway)."""
    db.session.execute(
        select(RefreshToken.id)
        .where(RefreshToken.family_id.in_(family_ids), RefreshToken.parent_id.is_(None))
        .order_by(RefreshToken.id)
        .with_for_update()
    ).all()


def _mark_revoked(family_ids: list[uuid.UUID]) -> list[RevocationRecord]:
    """Revoke the families' unrevoked tokens in the current transaction, with the Redis
    flags to push after commit; none when this UPDATE revoked nothing (a concurrent one
    got there first and pushes them)."""
    _lock_families(family_ids)
    revoked = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id.in_(family_ids), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if rows_changed(revoked) == 0:
        return []
    return revocations.record_revoked_families(family_ids)


def _live_families(*conditions: ColumnElement[bool]) -> list[uuid.UUID]:
    return list(
        db.session.scalars(
            select(RefreshToken.family_id)
            .where(*conditions, RefreshToken.revoked_at.is_(None))
            .distinct()
        )
    )


def revoke_subject(kind: Kind, subject_id: str, keep_session: str | None = None) -> None:
    """Every session of one developer or end user, e.g. when it is deleted; all but
    `keep_session` (the caller's own) when one is given."""
    conditions: list[ColumnElement[bool]] = [
        RefreshToken.subject_type == kind.value,
        RefreshToken.subject_id == subject_id,
    ]
    if keep_session is not None:
        conditions.append(RefreshToken.family_id != uuid.UUID(keep_session))
    revoke_families(_live_families(*conditions))


def live_sessions(kind: Kind, subject_id: str) -> Select[Any]:
    """One row per live session of a subject, newest first: the family's latest token
    (the only one neither used nor revoked), which carries the family's start and the
    client of its last login or refresh."""
    return (
        select(RefreshToken)
        .where(
            RefreshToken.subject_type == kind.value,
            RefreshToken.subject_id == subject_id,
            *UNSPENT,
            RefreshToken.expires_at > utcnow(),
        )
        .order_by(RefreshToken.session_started_at.desc(), RefreshToken.family_id)
    )


def revoke_session(kind: Kind, subject_id: str, session_id: str) -> bool:
    """Revoke one live session of this subject; False when it has no such session."""
    try:
        family_id = uuid.UUID(session_id)
    except ValueError:
        return False
    owned = _live_families(
        RefreshToken.family_id == family_id,
        RefreshToken.subject_type == kind.value,
        RefreshToken.subject_id == subject_id,
        RefreshToken.expires_at > utcnow(),
    )
    revoke_families(owned)
    return bool(owned)


def family_of(refresh_token: str) -> uuid.UUID | None:
    """The family a presented refresh token belongs to, if it is one of ours."""
    row = _find(refresh_token)
    return row.family_id if row is not None else None


def revoke_client(client_id: str) -> None:
    """Every session minted by one application (`app_id`), e.g. when it is deleted."""
    revoke_families(_live_families(RefreshToken.client_id == client_id))


def revoke_presented_family(refresh_token: str, kind: Kind, subject_id: str) -> None:
    """Logout with a refresh token: revoke its family if it belongs to the caller."""
    row = _find(refresh_token)
    if row is None or row.subject_type != kind.value or row.subject_id != subject_id:
        raise ApiError(422, "Refresh token does not belong to this session.")
    revoke_families([row.family_id])


def purge(retention_days: int, batch_size: int) -> dict[str, int]:
    """Delete refresh tokens whose family expired or was revoked more than
    `retention_days` ago, `batch_size` rows per statement and transaction.

    Consumed tokens of a live family stay: presenting one is how reuse is detected,
    however long ago it was used. They go with their family (revoking a family marks
    every token of it, consumed ones included)."""
    cutoff = utcnow() - timedelta(days=retention_days)
    return {
        "expired": _delete_in_batches(RefreshToken.expires_at < cutoff, batch_size),
        "revoked": _delete_in_batches(RefreshToken.revoked_at < cutoff, batch_size),
    }


def _delete_in_batches(condition: ColumnElement[bool], batch_size: int) -> int:
    deleted = 0
    while True:
        batch = select(RefreshToken.id).where(condition).limit(batch_size).scalar_subquery()
        count = rows_changed(
            db.session.execute(delete(RefreshToken).where(RefreshToken.id.in_(batch)))
        )
        db.session.commit()
        deleted += count
        if count < batch_size:
            return deleted
