"""`raise_activity_alert` itself: once per kind, subject and clock hour on PostgreSQL
and SQLite, an API key's owner as recipient, and the in-process counters of `make run`."""

import pytest
from flask_migrate import upgrade

from app import create_app
from app.activity_alerts.models import ActivityKind
from app.activity_alerts.services import network_of, raise_activity_alert
from app.alerts.models import Alert
from app.core.client import ClientInfo
from app.extensions import db
from tests.activity_alerts.conftest import (
    BUCKET_SECONDS,
    SECURITY_TEAM,
    THRESHOLD,
    alerts_of,
    raised,
    rows,
    start_of_a_bucket,
)
from tests.support.apps import close_app
from tests.support.environment import ADMIN_EMAIL, app_config
from tests.support.mail import smtp_settings

CLIENT = ClientInfo(ip="198.51.100.4", user_agent="scanner/1")


def raise_twice(app, kind: ActivityKind, subject: str) -> list[Alert | None]:
    with app.test_request_context():
        return [
            raise_activity_alert(kind, subject, "Something unusual.", {"seen": 1}, CLIENT)
            for _ in range(2)
        ]


def test_an_api_key_subject_mails_its_owner_once_per_hour(app, api_key, mail_server):
    first, second = raise_twice(app, ActivityKind.TRAFFIC_SPIKE, api_key["id"])

    assert first is not None
    assert second is None
    [mail] = mail_server.messages
    assert mail["X-Envelope-To"] == f"{ADMIN_EMAIL}, {SECURITY_TEAM}"
    assert mail["Subject"] == "Unusual activity, API key traffic spike: Test server"
    [alert] = alerts_of(app, "activity.traffic_spike")
    assert alert.payload["credential"] == {
        "type": "api_key",
        "id": api_key["id"],
        "name": "Test server",
    }
    assert [(row.kind, row.subject) for row in raised(app)] == [("traffic_spike", api_key["id"])]


def test_the_same_subject_alerts_once_per_kind(app, api_key, mail_server):
    raise_twice(app, ActivityKind.TRAFFIC_SPIKE, api_key["id"])
    raise_twice(app, ActivityKind.LIMIT_SUSTAINED, api_key["id"])

    assert sorted(row.kind for row in raised(app)) == ["limit_sustained", "traffic_spike"]
    assert len(mail_server.messages) == 2


@pytest.fixture
def sqlite_app(tmp_path, redis_url):
    app = create_app(app_config(f"sqlite:///{tmp_path / 'activity.sqlite3'}", redis_url))
    with app.app_context():
        upgrade()
    yield app
    close_app(app)


def test_sqlite_keeps_it_to_one_alert_per_hour_too(sqlite_app):
    first, second = raise_twice(sqlite_app, ActivityKind.AUTH_FAILURES, "203.0.113.0/24")

    assert first is not None
    assert second is None
    assert len(rows(sqlite_app, Alert)) == 1
    assert [row.subject for row in raised(sqlite_app)] == ["203.0.113.0/24"]


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("198.51.100.77", "198.51.100.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"),
        ("::ffff:198.51.100.77", "198.51.100.0/24"),
        (None, "unknown"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_networks_are_ipv4_24_and_ipv6_48(address, network):
    assert network_of(address) == network


@pytest.fixture
def embedded_app(app, database_url, mail_server):
    """`make run`'s shape: no Redis, counters in the process (on the test database)."""
    embedded = create_app(
        app_config(
            database_url,
            "",
            **smtp_settings(mail_server),
            ALERT_EMAIL_TO=SECURITY_TEAM,
            ACTIVITY_AUTH_FAILURES_THRESHOLD=THRESHOLD,
            ACTIVITY_AUTH_FAILURES_SECONDS=BUCKET_SECONDS,
        )
    )
    yield embedded
    close_app(embedded)


def test_without_redis_the_process_counts(app, embedded_app, mail_server):
    client = embedded_app.test_client()
    start_of_a_bucket()
    for number in range(THRESHOLD + 2):
        response = client.get(
            "/api/v1/users",
            headers={"Authorization": "Bearer ow_live_unknownkey"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{number}"},
        )
        assert response.status_code == 401

    [mail] = mail_server.messages
    assert mail["Subject"].endswith(": 192.0.2.0/24")
    with embedded_app.app_context():
        assert db.session.query(Alert).count() == 1
