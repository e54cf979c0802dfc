import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select, update

from app.alerts import channels
from app.alerts.models import FAILED, PENDING, SENDING, SENT, Alert
from app.core.actor import Actor
from app.core.client import ClientInfo
from app.core.db import rows_changed, utcnow
from app.core.tasks import enqueue, enqueue_after_commit
from app.extensions import db

logger = logging.getLogger(__name__)

DELIVER_TASK = "alerts.deliver"
LONGEST_RETRY_DELAY = timedelta(hours=1)


@dataclass(frozen=True)
class Credential:
    """What the alert is about; never carries a secret."""

    type: str
    id: str
    name: str


def _extra_recipients() -> list[str]:
    return [a.strip() for a in current_app.config["ALERT_EMAIL_TO"].split(",") if a.strip()]


def queue_alert(
    event: str,
    subject: str,
    summary: str,
    credential: Credential,
    actor: Actor,
    client: ClientInfo | None,
    recipients: list[str],
    occurred_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> Alert:
    """Add an alert to the current transaction; the caller's commit makes it durable
    together with the change it reports, and only then is its delivery task queued."""
    alert_id = uuid.uuid4()
    occurred_at = occurred_at or utcnow()
    payload = {
        "id": str(alert_id),
        "event": event,
        "summary": summary,
        "occurred_at": occurred_at.isoformat(),
        "credential": {"type": credential.type, "id": credential.id, "name": credential.name},
        "actor": {"type": actor.type, "id": actor.id, "name": actor.name},
        "ip": client.ip if client else None,
    }
    alert = Alert(
        id=alert_id,
        event=event,
        subject=subject,
        recipients=sorted({*recipients, *_extra_recipients()}),
        payload=payload,
        dedupe_key=dedupe_key,
        status=PENDING,
        attempts=0,
        next_attempt_at=occurred_at,
    )
    db.session.add(alert)
    enqueue_after_commit(DELIVER_TASK, str(alert_id))
    return alert


def render_body(payload: dict[str, Any]) -> str:
    credential = payload["credential"]
    actor = payload["actor"]
    who = actor["name"] or actor["id"] or actor["type"]
    if actor["id"] and actor["name"]:
        who = f"{actor['name']} ({actor['type']} {actor['id']})"
    return "\n".join(
        [
            payload["summary"],
            "",
            f"Credential: {credential['name']} ({credential['type']} {credential['id']})",
            f"When:       {payload['occurred_at']}",
            f"Who:        {who}",
            f"From IP:    {payload['ip'] or 'unknown'}",
            "",
            f"Alert id: {payload['id']}",
        ]
    )


def _claim(alert_id: uuid.UUID) -> Alert | None:
    """Take the alert for one delivery attempt, atomically: of two workers (a task and
    its redelivered copy, or a task and the sweep's) exactly one gets it."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["ALERT_DELIVERY_LEASE_SECONDS"])
    claimed = rows_changed(
        db.session.execute(
            update(Alert)
            .where(
                Alert.id == alert_id,
                or_(
                    Alert.status == PENDING,
                    and_(Alert.status == SENDING, Alert.claimed_until < now),
                ),
            )
            .values(status=SENDING, claimed_until=now + lease, attempts=Alert.attempts + 1)
        )
    )
    db.session.commit()
    if claimed != 1:
        return None
    return db.session.get(Alert, alert_id)


def _mark(alert: Alert, **values: object) -> None:
    db.session.execute(update(Alert).where(Alert.id == alert.id).values(**values))
    db.session.commit()


def retry_delay(attempts: int) -> timedelta:
    base = current_app.config["ALERT_RETRY_BASE_SECONDS"]
    return min(timedelta(seconds=base * 2 ** (attempts - 1)), LONGEST_RETRY_DELAY)


def deliver(alert_id: str) -> timedelta | None:
    """One delivery attempt. Each channel is marked sent as soon as it succeeds, so a
    later attempt (retry, redelivered task, sweep) never repeats it.

    Returns the delay before the next attempt when one is due, else None."""
    alert = _claim(uuid.UUID(alert_id))
    if alert is None:
        return None
    config = current_app.config
    if not alert.recipients and not config["ALERT_WEBHOOK_URL"]:
        logger.warning(
            "alert %s (%s) has no recipient and no webhook is configured; set ALERT_EMAIL_TO",
            alert.id,
            alert.event,
        )
    try:
        if alert.email_sent_at is None and alert.recipients:
            channels.send_mail(
                config,
                list(alert.recipients),
                alert.subject,
                render_body(alert.payload),
                f"<alert-{alert.id}@open-wearables>",
            )
            _mark(alert, email_sent_at=utcnow())
        if alert.webhook_sent_at is None and config["ALERT_WEBHOOK_URL"]:
            channels.post_webhook(config, alert.payload)
            _mark(alert, webhook_sent_at=utcnow())
    except Exception as error:
        db.session.rollback()
        return _failed_attempt(alert, error)
    _mark(alert, status=SENT, sent_at=utcnow(), claimed_until=None, last_error=None)
    return None


def _failed_attempt(alert: Alert, error: Exception) -> timedelta | None:
    reason = f"{type(error).__name__}: {error}"[:500]
    if alert.attempts >= current_app.config["ALERT_MAX_ATTEMPTS"]:
        logger.error(
            "alert %s failed for good after %d attempts: %s", alert.id, alert.attempts, reason
        )
        _mark(alert, status=FAILED, claimed_until=None, last_error=reason)
        return None
    delay = retry_delay(alert.attempts)
    logger.warning(
        "alert %s attempt %d failed (%s); retry in %s", alert.id, alert.attempts, reason, delay
    )
    _mark(
        alert,
        status=PENDING,
        claimed_until=None,
        next_attempt_at=utcnow() + delay,
        last_error=reason,
    )
    return delay


def sweep() -> int:
    """Re-queue alerts whose delivery task was lost: pending and overdue by a whole sweep
    interval (the broker was down after the commit), or claimed by a worker whose lease
    ran out (it died mid-delivery). Returns how many were queued."""
    now = utcnow()
    overdue = now - timedelta(seconds=current_app.config["ALERT_SWEEP_SECONDS"])
    alert_ids = list(
        db.session.scalars(
            select(Alert.id)
            .where(
                or_(
                    and_(Alert.status == PENDING, Alert.next_attempt_at <= overdue),
                    and_(Alert.status == SENDING, Alert.claimed_until < now),
                )
            )
            .order_by(Alert.next_attempt_at)
            .limit(1000)
        )
    )
    db.session.rollback()
    return sum(enqueue(DELIVER_TASK, str(alert_id)) for alert_id in alert_ids)
