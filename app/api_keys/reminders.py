"""Daily key hygiene: remind owners of keys not rotated, or not used, for too long.

Each reminder carries a dedupe key naming the key, the moment its clock started (last
rotation or creation; last use or creation) and how many whole periods have passed,
so a key gets at most one reminder of each kind per period, however often the task
runs, and a rotation or a use starts a new clock.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app.alerts import services as alerts
from app.alerts.models import Alert
from app.api_keys.models import ApiKey
from app.api_keys.services import owner_email
from app.core.actor import Actor
from app.core.db import utcnow
from app.extensions import db

SYSTEM = Actor(type="system", name="daily key hygiene check")


def queue_reminders(now: datetime | None = None) -> dict[str, int]:
    """Queue the reminders that are due; returns how many of each kind were queued."""
    now = now or utcnow()
    rotation_period = timedelta(days=current_app.config["KEY_ROTATION_REMINDER_DAYS"])
    unused_period = timedelta(days=current_app.config["KEY_UNUSED_REMINDER_DAYS"])
    rotated = func.coalesce(ApiKey.rotated_at, ApiKey.created_at)
    seen = func.coalesce(ApiKey.last_used_at, ApiKey.created_at)
    due = list(
        db.session.scalars(
            select(ApiKey).where(
                or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
                or_(rotated <= now - rotation_period, seen <= now - unused_period),
            )
        )
    )
    counts = {"rotation": 0, "unused": 0}
    for api_key in due:
        key_id, name = api_key.id, api_key.name
        recipient = owner_email(api_key)
        since_rotation = api_key.rotated_at or api_key.created_at
        last_seen = api_key.last_used_at or api_key.created_at
        never_used = api_key.last_used_at is None
        if since_rotation <= now - rotation_period:
            counts["rotation"] += _remind(
                key_id,
                name,
                recipient,
                "rotation",
                since_rotation,
                rotation_period,
                now,
                f"The API key '{name}' has not been rotated since "
                f"{since_rotation:%Y-%m-%d}. Rotate it (POST /api/v1/api-keys/{key_id}/rotate) "
                "and update the servers that use it.",
            )
        if last_seen <= now - unused_period:
            what = "created" if never_used else "last used"
            counts["unused"] += _remind(
                key_id,
                name,
                recipient,
                "unused",
                last_seen,
                unused_period,
                now,
                f"The API key '{name}' has not been used since it was {what} on "
                f"{last_seen:%Y-%m-%d}. Delete it if nothing needs it any more.",
            )
    return counts


def _remind(
    key_id: str,
    name: str,
    recipient: str | None,
    kind: str,
    since: datetime,
    period: timedelta,
    now: datetime,
    summary: str,
) -> int:
    periods = (now - since) // period
    dedupe_key = f"api_key.{kind}_reminder:{key_id}:{int(since.timestamp())}:{periods}"
    if db.session.scalar(select(Alert.id).where(Alert.dedupe_key == dedupe_key)) is not None:
        return 0
    alerts.queue_alert(
        event=f"api_key.{kind}_reminder",
        subject=(
            f"Reminder: rotate API key {name}"
            if kind == "rotation"
            else f"Reminder: API key {name} is unused"
        ),
        summary=summary,
        credential=alerts.Credential(type="api_key", id=key_id, name=name),
        actor=SYSTEM,
        client=None,
        recipients=[recipient] if recipient else [],
        occurred_at=now,
        dedupe_key=dedupe_key,
    )
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent run queued the same reminder first.
        db.session.rollback()
        return 0
    return 1
