"""Alerts through a real worker, real broker, real SMTP server and webhook receiver.

The trigger is refresh-token reuse: presenting a consumed refresh token revokes the
session and must notify its owner exactly once, naming the session, the time and the
IP, and never carrying a token.
"""

import time
from datetime import datetime

import pytest
from sqlalchemy import select

from app.alerts.models import Alert
from app.core.tasks import enqueue
from app.extensions import db
from tests.support.auth import login
from tests.support.environment import ADMIN_EMAIL
from tests.support.factories import create_application
from tests.support.servers import wait_for

pytestmark = pytest.mark.slow

ATTACKER_IP = "203.0.113.7"


@pytest.fixture
def config_overrides(broker_url):
    return {"CELERY_BROKER_URL": broker_url}


def present_a_used_refresh_token(client, admin) -> list[str]:
    """Log in, refresh once, then refresh again with the first (now used) token.

    Returns every secret the client saw, none of which may appear in an alert."""
    tokens = login(client, admin["email"], admin["password"]).get_json()
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    reuse = client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
        environ_base={"REMOTE_ADDR": ATTACKER_IP},
    )
    assert reuse.status_code == 401
    second = refreshed.get_json()
    return [
        tokens["refresh_token"],
        tokens["access_token"],
        second["refresh_token"],
        second["access_token"],
        admin["password"],
    ]


def the_alert(app) -> Alert:
    with app.app_context():
        alert = db.session.scalars(select(Alert)).one()
        db.session.expunge(alert)
        return alert


def assert_one_mail_and_one_webhook(smtp, webhook, settle_seconds: float = 3) -> None:
    wait_for(lambda: smtp.messages and webhook.accepted, what="a mail and a webhook")
    time.sleep(settle_seconds)
    assert len(smtp.messages) == 1
    assert len(webhook.accepted) == 1
    assert webhook.rejected == []


def test_reuse_alert_sends_exactly_one_mail_and_one_signed_webhook_without_secrets(
    app, client, admin, smtp, webhook, start_worker
):
    worker = start_worker()
    secrets = present_a_used_refresh_token(client, admin)

    assert_one_mail_and_one_webhook(smtp, webhook)
    alert = the_alert(app)
    assert alert.status == "sent"
    assert alert.attempts == 1

    mail = smtp.messages[0]
    body = mail.get_payload(decode=True).decode()
    assert mail["To"] == ADMIN_EMAIL
    assert mail["X-Envelope-To"] == ADMIN_EMAIL
    assert mail["Subject"] == "Refresh token reuse detected: session revoked"
    family_id = alert.payload["credential"]["id"]
    assert f"refresh_token_session {family_id}" in body
    assert f"From IP:    {ATTACKER_IP}" in body
    assert alert.payload["occurred_at"] in body

    payload, raw_body, headers = webhook.accepted[0]
    assert payload["id"] == str(alert.id)
    assert payload["event"] == "refresh_token.reuse_detected"
    assert payload["credential"]["id"] == family_id
    assert payload["ip"] == ATTACKER_IP
    assert payload["actor"]["type"] == "anonymous"
    occurred_at = datetime.fromisoformat(payload["occurred_at"])
    assert abs(time.time() - occurred_at.timestamp()) < 120
    assert headers["Content-Type"] == "application/json"

    everything_sent = smtp.sink.raw[0] + raw_body + str(headers).encode()
    for secret in secrets:
        assert secret.encode() not in everything_sent

    # A redelivered task (broker redelivery, sweep) finds the alert sent: no duplicate.
    with app.app_context():
        assert enqueue("alerts.deliver", str(alert.id))
    wait_for(lambda: worker.succeeded("alerts.deliver") == 2, what="the redelivered task")
    time.sleep(1)
    assert len(smtp.messages) == 1
    assert len(webhook.accepted) == 1


def test_alert_queued_while_the_broker_is_down_arrives_after_it_returns(
    app, make_app, admin, smtp, webhook, broker_proxy, start_worker
):
    api = make_app(CELERY_BROKER_URL=broker_proxy.url)
    try:
        started = time.monotonic()
        present_a_used_refresh_token(api.test_client(), admin)
        reuse_took = time.monotonic() - started
    finally:
        api.extensions["celery"].close()

    assert reuse_took < 10, "an unreachable broker must not hold the request for long"
    alert = the_alert(app)
    assert alert.status == "pending"
    assert alert.attempts == 0

    broker_proxy.start()
    start_worker(beat=True, broker=broker_proxy.url)

    assert_one_mail_and_one_webhook(smtp, webhook)
    assert the_alert(app).status == "sent"


def test_worker_killed_mid_delivery_delivers_the_alert_exactly_once(
    app, client, admin, smtp, webhook, start_worker
):
    smtp.sink.hold_first.set()
    first = start_worker(beat=True)
    present_a_used_refresh_token(client, admin)

    # The worker is in the middle of the SMTP conversation when it dies.
    assert smtp.sink.holding.wait(60), first.log
    first.kill()
    smtp.sink.release.set()
    in_flight = the_alert(app)
    assert in_flight.status == "sending"
    assert in_flight.attempts == 1

    # Its lease runs out, the next worker's sweep re-queues the alert.
    start_worker(beat=True)
    assert_one_mail_and_one_webhook(smtp, webhook)
    delivered = the_alert(app)
    assert delivered.status == "sent"
    assert delivered.attempts == 2


def test_failed_channel_is_retried_with_exponential_backoff_and_the_other_not_repeated(
    app, client, admin, smtp, webhook, start_worker
):
    webhook.refuse_next = 2
    start_worker()
    present_a_used_refresh_token(client, admin)

    wait_for(lambda: webhook.accepted, what="the webhook after two refusals")
    first_attempt, second_attempt = webhook.refusals
    third_attempt = webhook.accepted_at[0]
    # ALERT_RETRY_BASE_SECONDS=1: the delay doubles, 1 s then 2 s.
    assert second_attempt - first_attempt >= 0.9
    assert third_attempt - second_attempt >= 1.9
    assert_one_mail_and_one_webhook(smtp, webhook, settle_seconds=1)
    delivered = the_alert(app)
    assert delivered.status == "sent"
    assert delivered.attempts == 3
    assert delivered.last_error is None


def test_api_key_rotation_alert_names_key_actor_and_ip_once_without_any_secret(
    app, client, admin, admin_headers, api_key, smtp, webhook, start_worker
):
    start_worker()
    rotated = client.post(
        f"/api/v1/api-keys/{api_key['id']}/rotate",
        headers=admin_headers,
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    assert rotated.status_code == 200

    assert_one_mail_and_one_webhook(smtp, webhook)
    mail = smtp.messages[0]
    body = mail.get_payload(decode=True).decode()
    assert mail["X-Envelope-To"] == ADMIN_EMAIL
    assert mail["Subject"] == f"API key rotated: {api_key['name']}"
    assert f"Credential: {api_key['name']} (api_key {api_key['id']})" in body
    assert f"Who:        {ADMIN_EMAIL} (developer {admin['id']})" in body
    assert "From IP:    198.51.100.23" in body
    assert rotated.get_json()["rotated_at"][:19] in body.replace("+00:00", "Z")

    payload, raw_body, headers = webhook.accepted[0]
    assert payload["event"] == "api_key.rotated"
    assert payload["credential"] == {"type": "api_key", "id": api_key["id"], "name": "Test server"}
    assert payload["actor"] == {"type": "developer", "id": admin["id"], "name": ADMIN_EMAIL}
    assert payload["ip"] == "198.51.100.23"

    everything_sent = smtp.sink.raw[0] + raw_body + str(headers).encode()
    bearer = admin_headers["Authorization"].removeprefix("Bearer ")
    for secret in (api_key["key"], rotated.get_json()["key"], bearer):
        assert secret.encode() not in everything_sent
    # Not even the displayable prefix of the new key: the alert names the key by id and name.
    assert rotated.get_json()["prefix"].encode() not in everything_sent


def test_application_secret_rotation_alert_arrives_once_without_any_secret(
    app, client, admin, admin_headers, smtp, webhook, start_worker
):
    application = create_application(client, admin_headers, name="Fitness iOS")
    start_worker()
    rotated = client.post(
        f"/api/v1/applications/{application['id']}/rotate-secret",
        json={"revoke_sessions": True},
        headers=admin_headers,
        environ_base={"REMOTE_ADDR": "198.51.100.77"},
    )
    assert rotated.status_code == 200

    assert_one_mail_and_one_webhook(smtp, webhook)
    mail = smtp.messages[0]
    body = mail.get_payload(decode=True).decode()
    assert mail["X-Envelope-To"] == ADMIN_EMAIL
    assert mail["Subject"] == "Application secret rotated: Fitness iOS"
    assert f"Credential: Fitness iOS (application {application['app_id']})" in body
    assert f"Who:        {ADMIN_EMAIL} (developer {admin['id']})" in body
    assert "From IP:    198.51.100.77" in body
    assert "Every SDK session it had minted was revoked." in body

    payload, raw_body, headers = webhook.accepted[0]
    assert payload["event"] == "application.secret_rotated"
    assert payload["credential"]["id"] == application["app_id"]
    assert payload["ip"] == "198.51.100.77"

    everything_sent = smtp.sink.raw[0] + raw_body + str(headers).encode()
    for secret in (application["app_secret"], rotated.get_json()["app_secret"]):
        assert secret.encode() not in everything_sent
