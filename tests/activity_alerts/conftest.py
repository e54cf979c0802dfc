"""Shared by the unusual-activity tests: short thresholds and buckets, a real SMTP
server (alerts are delivered eagerly, inside the request, without a broker), and what
the app wrote."""

import time

import pytest
from sqlalchemy import select

from app.activity_alerts.models import RaisedActivityAlert
from app.alerts.models import Alert
from app.audit.models import AuditEvent
from app.extensions import db
from tests.support.mail import smtp_settings

SECURITY_TEAM = "security@example.com"
THRESHOLD = 3
BUCKET_SECONDS = 4


@pytest.fixture
def config_overrides(mail_server):
    return {
        **smtp_settings(mail_server),
        "ALERT_EMAIL_TO": SECURITY_TEAM,
        "ACTIVITY_MINT_FAILURES_THRESHOLD": THRESHOLD,
        "ACTIVITY_MINT_FAILURES_SECONDS": BUCKET_SECONDS,
        "ACTIVITY_AUTH_FAILURES_THRESHOLD": THRESHOLD,
        "ACTIVITY_AUTH_FAILURES_SECONDS": BUCKET_SECONDS,
    }


def start_of_a_bucket(seconds: float = BUCKET_SECONDS) -> None:
    """Wait for a fresh bucket, and past the clock hour when it is about to end, so a
    test's few requests share one bucket and one hour."""
    now = time.time()
    if now % 3600 > 3600 - 3 * seconds:
        time.sleep(3600 - now % 3600 + 0.05)
        now = time.time()
    time.sleep(seconds - now % seconds + 0.05)


def rows(app, model) -> list:
    with app.app_context():
        found = list(db.session.scalars(select(model)))
        db.session.expunge_all()
        return found


def alerts_of(app, event: str) -> list[Alert]:
    return [alert for alert in rows(app, Alert) if alert.event == event]


def audit_events(app, action: str) -> list[AuditEvent]:
    return [event for event in rows(app, AuditEvent) if event.action == action]


def raised(app) -> list[RaisedActivityAlert]:
    return rows(app, RaisedActivityAlert)
