"""An unusual-activity alert through a real worker, broker, SMTP server and webhook
receiver: a scanner's refused API keys from one network give one mail and one signed
webhook, and more refusals in the same hour none."""

import time

import pytest
from sqlalchemy import select

from app.alerts.models import Alert
from app.core.secrets import generate_secret
from app.extensions import db
from tests.support.auth import bearer
from tests.support.servers import wait_for

pytestmark = pytest.mark.slow

THRESHOLD = 3
SECURITY_TEAM = "security@example.com"


@pytest.fixture
def config_overrides(broker_url):
    return {
        "CELERY_BROKER_URL": broker_url,
        "ALERT_EMAIL_TO": SECURITY_TEAM,
        "ACTIVITY_AUTH_FAILURES_THRESHOLD": THRESHOLD,
    }


def scan(client, count: int) -> None:
    for number in range(count):
        response = client.get(
            "/api/v1/users",
            headers=bearer(generate_secret("ow_live_")),
            environ_base={"REMOTE_ADDR": f"198.51.100.{number + 1}"},
        )
        assert response.status_code == 401


def test_a_scanner_gets_one_mail_and_one_signed_webhook(app, client, smtp, webhook, start_worker):
    start_worker()

    scan(client, 2 * THRESHOLD)

    wait_for(lambda: smtp.messages and webhook.accepted, what="a mail and a webhook")
    scan(client, THRESHOLD)
    time.sleep(3)
    assert len(smtp.messages) == 1
    assert len(webhook.accepted) == 1
    assert webhook.rejected == []
    [mail] = smtp.messages
    assert mail["X-Envelope-To"] == SECURITY_TEAM
    payload, _, _ = webhook.accepted[0]
    assert payload["event"] == "activity.auth_failures"
    assert payload["credential"] == {
        "type": "network",
        "id": "198.51.100.0/24",
        "name": "198.51.100.0/24",
    }
    assert payload["actor"]["type"] == "system"
    assert payload["ip"] == f"198.51.100.{THRESHOLD}"
    with app.app_context():
        [alert] = db.session.scalars(select(Alert)).all()
        assert alert.status == "sent"
        assert str(alert.id) == payload["id"]
