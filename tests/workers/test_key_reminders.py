"""Daily reminders: keys not rotated for KEY_ROTATION_REMINDER_DAYS, keys unused for
KEY_UNUSED_REMINDER_DAYS; at most one reminder per key and kind per period."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.alerts.models import Alert
from app.api_keys import reminders
from app.api_keys.models import ApiKey
from app.core.db import utcnow
from app.extensions import db
from tests.support.environment import ADMIN_EMAIL

DAY = timedelta(days=1)


@pytest.fixture
def config_overrides(smtp):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port}


def create_key(client, admin_headers, name: str) -> str:
    response = client.post("/api/v1/api-keys", json={"name": name}, headers=admin_headers)
    assert response.status_code == 201
    return response.get_json()["id"]


def age_key(app, key_id: str, **ago) -> None:
    now = utcnow()
    values = {column: now - days * DAY for column, days in ago.items()}
    with app.app_context():
        db.session.execute(update(ApiKey).where(ApiKey.id == key_id).values(**values))
        db.session.commit()


def run_reminders(app, now=None) -> dict[str, int]:
    with app.app_context():
        return reminders.queue_reminders(now)


def reminder_events(app) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(select(Alert.event, Alert.payload)).all()
        return sorted((event, payload["credential"]["name"]) for event, payload in rows)


def test_each_due_reminder_is_sent_once_per_period(app, client, admin_headers, smtp):
    stale = create_key(client, admin_headers, "stale but busy")
    age_key(app, stale, created_at=100, last_used_at=1)
    idle = create_key(client, admin_headers, "idle")
    age_key(app, idle, created_at=40)
    fresh = create_key(client, admin_headers, "recently rotated")
    age_key(app, fresh, created_at=200, rotated_at=10, last_used_at=2)
    expired = create_key(client, admin_headers, "expired")
    age_key(app, expired, created_at=200, expires_at=1)

    assert run_reminders(app) == {"rotation": 1, "unused": 1}
    assert run_reminders(app) == {"rotation": 0, "unused": 0}

    assert reminder_events(app) == [
        ("api_key.rotation_reminder", "stale but busy"),
        ("api_key.unused_reminder", "idle"),
    ]
    assert len(smtp.messages) == 2
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert subjects == [
        "Reminder: API key idle is unused",
        "Reminder: rotate API key stale but busy",
    ]
    assert {m["X-Envelope-To"] for m in smtp.messages} == {ADMIN_EMAIL}
    body = next(m for m in smtp.messages if "rotate" in m["Subject"]).get_payload(decode=True)
    assert f"/api/v1/api-keys/{stale}/rotate".encode() in body


def test_a_key_still_idle_a_period_later_gets_one_more_reminder(app, client, admin_headers):
    idle = create_key(client, admin_headers, "idle")
    age_key(app, idle, created_at=40)

    # Periods count from the last use (here: creation): days 30-59, 60-89, ...
    assert run_reminders(app)["unused"] == 1
    assert run_reminders(app, utcnow() + 19 * DAY)["unused"] == 0
    assert run_reminders(app, utcnow() + 21 * DAY)["unused"] == 1
    assert run_reminders(app, utcnow() + 22 * DAY)["unused"] == 0


def test_rotating_or_using_a_key_restarts_its_clock(app, client, admin_headers):
    key = create_key(client, admin_headers, "old")
    age_key(app, key, created_at=100)
    assert run_reminders(app) == {"rotation": 1, "unused": 1}

    age_key(app, key, rotated_at=0, last_used_at=0)

    assert run_reminders(app) == {"rotation": 0, "unused": 0}
    assert run_reminders(app, utcnow() + 91 * DAY) == {"rotation": 1, "unused": 1}


def test_reminders_run_daily_on_the_beat(app):
    schedule = app.extensions["celery"].conf.beat_schedule

    assert schedule["api_keys.send_reminders"]["schedule"] == 24 * 60 * 60
