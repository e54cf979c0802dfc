import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from app.alerts import channels
from app.alerts.models import Alert
from app.core import outbox
from app.core.auth import Kind, Principal
from app.core.client import ClientInfo
from app.core.db import utcnow
from app.core.outbox import PENDING, SENT
from app.core.tasks import enqueue, enqueue_after_commit
from app.developers.models import Developer
from app.extensions import db

logger = logging.getLogger(__name__)

DELIVER_TASK = "alerts.deliver"


@dataclass(frozen=True)
class Credential:
    """What the alert is about; never carries a secret."""

    type: str
    id: str
    name: str


@dataclass(frozen=True)
class Actor:
    type: str
    """`developer`, `anonymous`, `system`, …"""
    id: str | None = None
    name: str | None = None


def actor_of(principal: Principal) -> Actor:
    """The caller as an alert names it: a developer by e-mail, anything else by id."""
    developer = None
    if principal.kind is Kind.DEVELOPER:
        developer = db.session.get(Developer, uuid.UUID(principal.subject_id))
    return Actor(
        type=principal.kind.value,
        id=principal.subject_id,
        name=developer.email if developer is not None else None,
    )


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


def render_body(payload: dict) -> str:
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
    return outbox.claim(Alert, alert_id, current_app.config["ALERT_DELIVERY_LEASE_SECONDS"])


def _mark(alert: Alert, **values) -> None:
    outbox.mark(Alert, alert.id, **values)


def retry_delay(attempts: int) -> timedelta:
    return outbox.retry_delay(current_app.config["ALERT_RETRY_BASE_SECONDS"], attempts)


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
    config = current_app.config
    return outbox.record_failure(
        Alert,
        alert,
        error,
        config["ALERT_MAX_ATTEMPTS"],
        config["ALERT_RETRY_BASE_SECONDS"],
    )


def sweep() -> int:
    """Re-queue alerts whose delivery task was lost (broker down after the commit, or a
    worker died mid-delivery). Returns how many were queued."""
    alert_ids = outbox.lost_ids(Alert, current_app.config["ALERT_SWEEP_SECONDS"])
    return sum(enqueue(DELIVER_TASK, str(alert_id)) for alert_id in alert_ids)
