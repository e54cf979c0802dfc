"""Delivery bookkeeping shared by the outboxes (alerts, account mail).

An outbox row has `status`, `attempts`, `next_attempt_at` and `claimed_until`. A worker
claims a row for one attempt with an atomic UPDATE, so of two workers (a task and its
redelivered copy, or a task and the sweep's) exactly one gets it; a worker that dies
mid-delivery releases it when its lease runs out.
"""

import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from app.core.db import utcnow
from app.extensions import db

logger = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
LONGEST_RETRY_DELAY = timedelta(hours=1)


def _claimable(model: Any, now: Any) -> Any:
    return or_(
        model.status == PENDING,
        and_(model.status == SENDING, model.claimed_until < now),
    )


def claim(model: Any, row_id: uuid.UUID, lease_seconds: int) -> Any:
    """Take the row for one delivery attempt; None when another worker has it or it is done."""
    now = utcnow()
    claimed = db.session.execute(
        update(model)
        .where(model.id == row_id, _claimable(model, now))
        .values(
            status=SENDING,
            claimed_until=now + timedelta(seconds=lease_seconds),
            attempts=model.attempts + 1,
        )
    )
    db.session.commit()
    if claimed.rowcount != 1:
        return None
    return db.session.get(model, row_id)


def mark(model: Any, row_id: uuid.UUID, **values: Any) -> None:
    db.session.execute(update(model).where(model.id == row_id).values(**values))
    db.session.commit()


def retry_delay(base_seconds: int, attempts: int) -> timedelta:
    return min(timedelta(seconds=base_seconds * 2 ** (attempts - 1)), LONGEST_RETRY_DELAY)


def lost_ids(model: Any, sweep_seconds: int, limit: int = 1000) -> list[uuid.UUID]:
    """Rows whose delivery task was lost: pending and overdue by a whole sweep interval
    (the broker was down after the commit), or claimed by a worker whose lease ran out."""
    now = utcnow()
    overdue = now - timedelta(seconds=sweep_seconds)
    ids = list(
        db.session.scalars(
            select(model.id)
            .where(
                or_(
                    and_(model.status == PENDING, model.next_attempt_at <= overdue),
                    and_(model.status == SENDING, model.claimed_until < now),
                )
            )
            .order_by(model.next_attempt_at)
            .limit(limit)
        )
    )
    db.session.rollback()
    return ids


def record_failure(
    model: Any,
    row: Any,
    error: Exception,
    max_attempts: int,
    retry_base_seconds: int,
    **final_values: Any,
) -> timedelta | None:
    """After a failed attempt: back to pending with an exponential delay (returned), or,
    after `max_attempts`, failed for good (with `final_values`, e.g. an erased secret)."""
    what = model.__tablename__.removesuffix("s").replace("_", " ")
    reason = f"{type(error).__name__}: {error}"[:500]
    if row.attempts >= max_attempts:
        logger.error(
            "%s %s failed for good after %d attempts: %s", what, row.id, row.attempts, reason
        )
        mark(model, row.id, status=FAILED, claimed_until=None, last_error=reason, **final_values)
        return None
    delay = retry_delay(retry_base_seconds, row.attempts)
    logger.warning(
        "%s %s attempt %d failed (%s); retry in %s", what, row.id, row.attempts, reason, delay
    )
    mark(
        model,
        row.id,
        status=PENDING,
        claimed_until=None,
        next_attempt_at=utcnow() + delay,
        last_error=reason,
    )
    return delay
