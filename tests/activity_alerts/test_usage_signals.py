"""Unusual activity read from the usage rollup: a new network, a key held at its limit,
a traffic spike; each once per key and hour, from real requests counted, flushed to
Redis and rolled up, or from minutes written as a flush would."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from app.activity_alerts import usage_signals
from app.activity_alerts.models import KeyNetwork
from app.extensions import db
from app.usage import services as usage
from app.usage.counter import usage_counter
from app.usage.minutes import Batch, CountKey
from app.usage.models import UsageBucket
from tests.activity_alerts.conftest import alerts_of, audit_events, rows, start_of_a_bucket
from tests.support.auth import bearer
from tests.support.mail import smtp_settings

USERS = "/api/v1/users"


def call(client, key: dict, ip: str = "192.0.2.1", times: int = 1) -> list[int]:
    return [
        client.get(USERS, headers=bearer(key["key"]), environ_base={"REMOTE_ADDR": ip}).status_code
        for _ in range(times)
    ]


def roll_up(app, through: int | None = None) -> None:
    """Flush, then roll up every minute up to `through` (default: the current one), so
    a later minute is still left to roll up."""
    usage_counter(app).flush()
    through = int(time.time() // 60) if through is None else through
    settle = 2 * app.config["USAGE_FLUSH_SECONDS"] + usage.SETTLE_MARGIN_SECONDS
    with app.app_context():
        usage.roll_up((through + 1) * 60 + settle + 1)


def write_minute(app, minute: int, key_id: str, status_class: str, requests: int, ips=()):
    """What a flush writes for `minute` (a request can only be counted in the present)."""
    batch = Batch()
    batch.counts[(minute, CountKey("api_key", key_id, status_class, USERS))] = requests
    if ips:
        batch.ips[(minute, key_id)] = set(ips)
    app.extensions["owa_usage_minutes"].write(batch)


def networks_of(app, key_id: str) -> dict[str, datetime]:
    return {row.network: row.last_seen for row in rows(app, KeyNetwork) if row.key_id == key_id}


class TestNewNetwork:
    @pytest.fixture
    def config_overrides(self, config_overrides):
        return {**config_overrides, "ACTIVITY_NEW_NETWORK_LEARNING_SECONDS": 0}

    def test_a_key_used_from_a_new_network_alerts_its_owner_once_an_hour(
        self, app, client, api_key, mail_server
    ):
        call(client, api_key, ip="192.0.2.1")
        call(client, api_key, ip="192.0.2.77")  # the same /24
        roll_up(app)

        [alert] = alerts_of(app, "activity.new_network")
        assert "192.0.2.0/24" in alert.payload["summary"]
        [mail] = mail_server.messages
        assert mail["Subject"] == "Unusual activity, API key used from a new network: Test server"
        [event] = audit_events(app, "activity.new_network")
        assert event.target_id == api_key["id"]
        assert event.details["networks"] == ["192.0.2.0/24"]
        assert set(networks_of(app, api_key["id"])) == {"192.0.2.0/24"}

        # Another network within the hour is remembered, not alerted again.
        minute = int(time.time() // 60) + 1
        write_minute(app, minute, api_key["id"], "2xx", 1, ips={"2001:db8:1:2::5"})
        roll_up(app, through=minute)
        assert len(alerts_of(app, "activity.new_network")) == 1
        assert set(networks_of(app, api_key["id"])) == {"192.0.2.0/24", "2001:db8:1::/48"}

    def test_a_network_seen_lately_is_not_new_but_one_forgotten_is(self, app, client, api_key):
        now = datetime.now(UTC)
        with app.app_context():
            db.session.add_all(
                [
                    KeyNetwork(
                        key_id=api_key["id"],
                        network="192.0.2.0/24",
                        last_seen=now - timedelta(days=29),
                    ),
                    KeyNetwork(
                        key_id=api_key["id"],
                        network="198.51.100.0/24",
                        last_seen=now - timedelta(days=31),
                    ),
                ]
            )
            db.session.commit()

        call(client, api_key, ip="192.0.2.9")
        roll_up(app)
        assert alerts_of(app, "activity.new_network") == []
        assert networks_of(app, api_key["id"])["192.0.2.0/24"] > now - timedelta(minutes=2)

        minute = int(time.time() // 60) + 1
        write_minute(app, minute, api_key["id"], "2xx", 1, ips={"198.51.100.9"})
        roll_up(app, through=minute)
        [alert] = alerts_of(app, "activity.new_network")
        assert "198.51.100.0/24" in alert.payload["summary"]

    def test_a_failed_check_of_one_key_leaves_the_other_keys_checked(
        self, app, client, api_key, admin_headers, monkeypatch, caplog
    ):
        other = client.post(
            "/api/v1/api-keys", json={"name": "Other server"}, headers=admin_headers
        ).get_json()
        failing = min(api_key["id"], other["id"])  # the keys are checked in id order
        checked = max(api_key["id"], other["id"])
        check_networks = usage_signals._new_networks

        def database_fails_for_one_key(key, start, ips):
            if key.id == failing:
                raise OperationalError("INSERT INTO api_key_networks", {}, Exception("gone"))
            check_networks(key, start, ips)

        monkeypatch.setattr(usage_signals, "_new_networks", database_fails_for_one_key)
        call(client, api_key, ip="192.0.2.1")
        call(client, other, ip="198.51.100.1")
        roll_up(app)

        [event] = audit_events(app, "activity.new_network")
        assert event.target_id == checked
        assert len(alerts_of(app, "activity.new_network")) == 1
        assert f"activity checks of API key {failing} failed" in caplog.text
        # The rollup itself stands: both keys' requests are counted.
        assert sum(row.requests_2xx for row in rows(app, UsageBucket)) >= 2


def test_networks_seen_in_a_keys_first_day_are_learned_without_an_alert(app, client, api_key):
    call(client, api_key, ip="203.0.113.8")
    roll_up(app)

    assert alerts_of(app, "activity.new_network") == []
    assert set(networks_of(app, api_key["id"])) == {"203.0.113.0/24"}


class TestLimitSustained:
    @pytest.fixture
    def config_overrides(self, config_overrides):
        return {**config_overrides, "ACTIVITY_LIMIT_SUSTAINED_MINUTES": 3}

    def test_three_minutes_at_the_limit_in_a_row_alert_once(self, app, api_key, mail_server):
        now = int(time.time() // 60)
        for minute in (now - 4, now - 3, now - 2):
            write_minute(app, minute, api_key["id"], "429", 2)
        write_minute(app, now - 1, api_key["id"], "429", 1)  # a 4th: same hour, no 2nd alert
        roll_up(app)

        [alert] = alerts_of(app, "activity.limit_sustained")
        assert "3 minutes in a row (6 requests refused)" in alert.payload["summary"]
        assert [m["Subject"] for m in mail_server.messages] == [
            "Unusual activity, API key held at its rate limit: Test server"
        ]

    def test_a_gap_in_the_streak_alerts_nothing(self, app, api_key):
        now = int(time.time() // 60)
        write_minute(app, now - 5, api_key["id"], "429", 2)
        write_minute(app, now - 4, api_key["id"], "2xx", 5)  # served, not refused
        write_minute(app, now - 3, api_key["id"], "429", 2)
        write_minute(app, now - 2, api_key["id"], "429", 2)
        roll_up(app)

        assert alerts_of(app, "activity.limit_sustained") == []


def test_requests_refused_by_the_limit_through_the_api_alert(
    make_app, client, api_key, mail_server
):
    limited = make_app(
        RATELIMIT_API_KEY="2 per minute",
        ACTIVITY_LIMIT_SUSTAINED_MINUTES=1,
        ALERT_EMAIL_TO="security@example.com",
        **smtp_settings(mail_server),
    )
    assert call(limited.test_client(), api_key, times=4) == [200, 200, 429, 429]
    roll_up(limited)

    [alert] = alerts_of(limited, "activity.limit_sustained")
    assert "(2 requests refused)" in alert.payload["summary"]
    assert len(mail_server.messages) == 1


class TestTrafficSpike:
    @pytest.fixture
    def config_overrides(self, config_overrides):
        return {**config_overrides, "ACTIVITY_SPIKE_FACTOR": 5, "ACTIVITY_SPIKE_BASELINE_HOURS": 3}

    def usual_hours(self, app, key_id: str, requests: list[int]) -> None:
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        with app.app_context():
            db.session.add_all(
                UsageBucket(
                    granularity="hour",
                    subject_kind="api_key",
                    subject_id=key_id,
                    bucket_start=hour - timedelta(hours=index + 1),
                    route=USERS,
                    requests_2xx=count,
                    requests_4xx=0,
                    requests_429=0,
                    requests_5xx=0,
                )
                for index, count in enumerate(requests)
            )
            db.session.commit()

    def test_an_hour_far_above_the_usual_alerts_once(self, app, client, api_key, mail_server):
        start_of_a_bucket(1)
        self.usual_hours(app, api_key["id"], [2, 3, 1])  # median 2: a spike is 10
        call(client, api_key, times=9)
        roll_up(app)
        assert alerts_of(app, "activity.traffic_spike") == []

        minute = int(time.time() // 60) + 1
        write_minute(app, minute, api_key["id"], "2xx", 3)
        roll_up(app, through=minute)
        [alert] = alerts_of(app, "activity.traffic_spike")
        assert "made 12 requests since" in alert.payload["summary"]
        assert "6 times its usual 2 an hour" in alert.payload["summary"]
        assert [m["Subject"] for m in mail_server.messages] == [
            "Unusual activity, API key traffic spike: Test server"
        ]

    def test_a_key_without_usual_traffic_has_no_spike(self, app, client, api_key):
        self.usual_hours(app, api_key["id"], [0, 40, 0])  # median 0
        call(client, api_key, times=20)
        roll_up(app)

        assert alerts_of(app, "activity.traffic_spike") == []


def test_a_deleted_key_is_skipped(app, client, api_key, admin_headers):
    now = int(time.time() // 60)
    write_minute(app, now - 2, api_key["id"], "2xx", 3, ips={"192.0.2.1"})
    assert (
        client.delete(f"/api/v1/api-keys/{api_key['id']}", headers=admin_headers).status_code == 204
    )
    roll_up(app)

    assert rows(app, KeyNetwork) == []
