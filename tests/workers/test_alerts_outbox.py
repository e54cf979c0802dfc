"""The outbox without a worker process: the embedded default runs delivery eagerly."""

import time
import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from app.alerts import services as alerts
from app.alerts.channels import encode_payload, signature
from app.alerts.models import Alert
from app.config import load_config
from app.core.auth import Kind
from app.core.client import ClientInfo
from app.core.db import utcnow
from app.core.errors import ApiError
from app.extensions import db
from app.refresh_tokens import services as refresh_tokens
from tests.support.auth import login
from tests.support.environment import ADMIN_EMAIL, REPO, WEBHOOK_SECRET
from tests.support.network import SmtpServer, verify_signature


@pytest.fixture
def config_overrides(smtp, webhook):
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp.port,
        "ALERT_WEBHOOK_URL": webhook.url,
        "ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ALERT_SEND_TIMEOUT_SECONDS": 2,
        "ALERT_DELIVERY_LEASE_SECONDS": 5,
        "ALERT_EMAIL_TO": "security@example.com, soc@example.com",
    }


def queue_test_alert(recipients=("owner@example.com",)) -> Alert:
    return alerts.queue_alert(
        event="test.event",
        subject="Test alert",
        summary="Something happened to a credential.",
        credential=alerts.Credential(type="api_key", id="key-1", name="CI key"),
        actor=alerts.Actor(type="developer", id="dev-1", name="ada@example.com"),
        client=ClientInfo(ip="198.51.100.4", user_agent="curl"),
        recipients=list(recipients),
    )


def alerts_in_db(app) -> list[Alert]:
    with app.app_context():
        rows = list(db.session.scalars(select(Alert)))
        db.session.expunge_all()
        return rows


def test_alert_is_durable_with_the_commit_and_gone_with_a_rollback(app, smtp, webhook):
    with app.app_context():
        queue_test_alert()
        db.session.rollback()
    assert alerts_in_db(app) == []
    assert smtp.messages == []

    with app.app_context():
        queue_test_alert()
        assert smtp.messages == []
        db.session.commit()
        # No broker configured: the delivery ran eagerly, right after the commit.
        assert len(smtp.messages) == 1

    (alert,) = alerts_in_db(app)
    assert alert.status == "sent"
    assert alert.email_sent_at is not None
    assert alert.webhook_sent_at is not None
    assert len(webhook.accepted) == 1
    mail = smtp.messages[0]
    assert mail["X-Envelope-To"] == "owner@example.com, security@example.com, soc@example.com"
    assert mail["Message-ID"] == f"<alert-{alert.id}@open-wearables>"
    body = mail.get_payload(decode=True).decode()
    assert "Credential: CI key (api_key key-1)" in body
    assert "Who:        ada@example.com (developer dev-1)" in body
    assert "From IP:    198.51.100.4" in body


def test_reuse_alert_goes_to_the_session_owner_and_names_the_presenting_ip(
    client, admin, smtp, webhook
):
    tokens = login(client, admin["email"], admin["password"]).get_json()
    client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    reuse = client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
        environ_base={"REMOTE_ADDR": "192.0.2.55"},
    )

    assert reuse.status_code == 401
    assert len(smtp.messages) == 1
    assert ADMIN_EMAIL in smtp.messages[0]["X-Envelope-To"]
    payload = webhook.accepted[0][0]
    assert payload["ip"] == "192.0.2.55"
    assert tokens["refresh_token"] not in str(payload)


def test_reuse_of_an_sdk_session_minted_by_an_admin_alerts_that_admin(app, admin, smtp):
    with app.app_context():
        pair = refresh_tokens.start_session(
            Kind.SDK, str(uuid.uuid4()), client_id=f"admin:{admin['id']}"
        )
        refresh_tokens.rotate(pair.refresh_token)
        with pytest.raises(ApiError):
            refresh_tokens.rotate(pair.refresh_token, ClientInfo(ip="192.0.2.9", user_agent=None))

    (alert,) = alerts_in_db(app)
    assert alert.event == "refresh_token.reuse_detected"
    assert ADMIN_EMAIL in alert.recipients
    assert f"via admin:{admin['id']}" in alert.payload["credential"]["name"]
    assert len(smtp.messages) == 1


def test_alerts_are_logged_when_no_smtp_host_is_set(make_app, caplog):
    app = make_app(SMTP_HOST="")
    with app.app_context():
        alert = queue_test_alert()
        db.session.commit()
        alert_id = alert.id

    assert "Test alert" in caplog.text
    assert "From IP:    198.51.100.4" in caplog.text
    with app.app_context():
        assert db.session.get(Alert, alert_id).status == "sent"


def test_smtp_login_uses_the_configured_credentials(make_app):
    server = SmtpServer(credentials=("alerts", "smtp-password"))
    server.start()
    try:
        app = make_app(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=server.port,
            SMTP_USER="alerts",
            SMTP_PASSWORD="smtp-password",
        )
        with app.app_context():
            queue_test_alert()
            db.session.commit()
    finally:
        server.stop()

    assert server.sink.logins == [("alerts", "smtp-password")]
    assert len(server.messages) == 1


def test_receiver_recipe_rejects_replays_tampering_and_other_keys(app, webhook):
    with app.app_context():
        queue_test_alert()
        db.session.commit()
    _, body, headers = webhook.accepted[0]
    header = headers["X-OpenWearables-Signature"]
    now = time.time()

    assert verify_signature(WEBHOOK_SECRET, header, body, now)
    assert not verify_signature(WEBHOOK_SECRET, header, body, now + 301)
    assert not verify_signature(WEBHOOK_SECRET, header, body.replace(b"CI key", b"CI kez"), now)
    assert not verify_signature("another-secret", header, body, now)

    # A correctly signed request replayed six minutes later is refused by the receiver.
    stale = int(now) - 360
    replay = requests.post(
        webhook.url,
        data=body,
        headers={"X-OpenWearables-Signature": signature(WEBHOOK_SECRET, stale, body)},
        timeout=10,
    )
    assert replay.status_code == 401
    assert len(webhook.accepted) == 1


def documented_verify():
    """The verification recipe exactly as docs/api.md prints it."""
    api_guide = (REPO / "docs" / "api.md").read_text()
    code = api_guide.split("To verify:\n\n```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own docs
    return namespace["verify"]


def test_the_documented_recipe_verifies_a_real_delivery_and_rejects_a_replay(app, webhook):
    with app.app_context():
        queue_test_alert()
        db.session.commit()
    _, body, headers = webhook.accepted[0]
    header = headers["X-OpenWearables-Signature"]
    verify = documented_verify()

    assert verify(WEBHOOK_SECRET, header, body)
    assert not verify(WEBHOOK_SECRET, header, body + b" ")
    stale = signature(WEBHOOK_SECRET, int(time.time()) - 301, body)
    assert not verify(WEBHOOK_SECRET, stale, body)


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = encode_payload({"b": 1, "a": "x"})
    assert body == b'{"a":"x","b":1}'
    assert signature("key", 1700000000, body) == (
        "t=1700000000,v1=" + "89b97aecf0574967f992dbc9b7c45d0841ae886ef4e86ac2cb447291552eec94"
    )


def test_an_alert_that_keeps_failing_is_marked_failed_after_max_attempts(make_app, smtp, webhook):
    smtp.sink.refuse_next = 99
    app = make_app(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp.port,
        ALERT_MAX_ATTEMPTS=2,
        ALERT_RETRY_BASE_SECONDS=30,
    )
    with app.app_context():
        alert_id = str(queue_test_alert().id)
        db.session.commit()
        first = db.session.get(Alert, uuid.UUID(alert_id))
        assert (first.status, first.attempts) == ("pending", 1)
        assert "451" in first.last_error
        waited = first.next_attempt_at - utcnow()
        assert timedelta(seconds=25) < waited <= timedelta(seconds=30)
        db.session.remove()

        assert alerts.deliver(alert_id) is None
        final = db.session.get(Alert, uuid.UUID(alert_id))
        assert (final.status, final.attempts) == ("failed", 2)
    assert smtp.messages == []
    assert webhook.accepted == []


def test_retry_delay_doubles_up_to_an_hour(app):
    with app.app_context():
        assert [alerts.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
        assert alerts.retry_delay(20) == timedelta(hours=1)


def outbox_row(recipient: str, status: str, due, claimed_until=None) -> Alert:
    """A row as a lost or in-flight delivery leaves it (no task queued for it)."""
    alert_id = uuid.uuid4()
    return Alert(
        id=alert_id,
        event="test.event",
        subject="Test alert",
        recipients=[recipient],
        payload={
            "id": str(alert_id),
            "event": "test.event",
            "summary": "Something happened.",
            "occurred_at": due.isoformat(),
            "credential": {"type": "api_key", "id": "key-1", "name": "CI key"},
            "actor": {"type": "system", "id": None, "name": None},
            "ip": None,
        },
        status=status,
        attempts=0,
        next_attempt_at=due,
        claimed_until=claimed_until,
    )


def test_sweep_requeues_only_lost_alerts(make_app, smtp):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, ALERT_SWEEP_SECONDS=60)
    now = utcnow()
    long_ago = now - timedelta(minutes=5)
    with app.app_context():
        db.session.add_all(
            [
                outbox_row("lost@example.com", "pending", long_ago),
                outbox_row("just-queued@example.com", "pending", now),
                outbox_row("dead-worker@example.com", "sending", long_ago, now - timedelta(1)),
                outbox_row("busy-worker@example.com", "sending", long_ago, now + timedelta(1)),
                outbox_row("sent@example.com", "sent", long_ago),
            ]
        )
        db.session.commit()

        assert alerts.sweep() == 2

    delivered = sorted(m["X-Envelope-To"] for m in smtp.messages)
    assert delivered == ["dead-worker@example.com", "lost@example.com"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ALERT_WEBHOOK_URL": "https://hooks.example.com/x"}, "ALERT_WEBHOOK_SECRET is empty"),
        (
            {"ALERT_WEBHOOK_URL": "file:///etc/passwd", "ALERT_WEBHOOK_SECRET": "s"},
            "http:// or https://",
        ),
        ({"ALERT_DELIVERY_LEASE_SECONDS": "20"}, "must exceed"),
        (
            {"ACTIVITY_MINT_FAILURES_THRESHOLD": "31"},
            r"must not exceed the count of RATELIMIT_FAILED_MINTS_PER_APP \(30\)",
        ),
        (
            {"ACTIVITY_MINT_FAILURES_THRESHOLD": "8", "RATELIMIT_FAILED_MINTS_PER_APP": "5/minute"},
            r"\(5\)",
        ),
    ],
)
def test_inconsistent_alert_settings_are_refused_at_startup(settings, message):
    with pytest.raises(ValueError, match=message):
        load_config(environ=settings)


def test_boolean_settings_accept_the_usual_spellings():
    assert load_config(environ={"SMTP_STARTTLS": "true"})["SMTP_STARTTLS"] is True
    assert load_config(environ={"SMTP_STARTTLS": "0"})["SMTP_STARTTLS"] is False


def test_embedded_default_on_sqlite_delivers_right_after_the_commit(tmp_path):
    from flask_migrate import upgrade

    from app import create_app
    from tests.support.apps import close_app
    from tests.support.environment import app_config

    app = create_app(app_config(f"sqlite:///{tmp_path / 'embedded.sqlite3'}", ""))
    try:
        with app.app_context():
            upgrade()
            alert_id = queue_test_alert().id
            db.session.commit()
            assert db.session.get(Alert, alert_id).status == "sent"
    finally:
        close_app(app)
        app.extensions["celery"].close()
