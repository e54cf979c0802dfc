from datetime import UTC, datetime

import pytest

from app.api_keys import services
from app.api_keys.tasks import flush_last_used
from app.core.auth import api_key_subject
from app.core.revocation import cache_key
from app.core.secrets import digest
from app.core.store import MemoryStore, get_store
from tests.support.auth import bearer

KEYS = "/api/v1/api-keys"


def listed(client, admin_headers, key_id):
    return next(k for k in client.get(KEYS, headers=admin_headers).get_json() if k["id"] == key_id)


def test_use_becomes_visible_after_the_flush_task(
    app, client, admin_headers, api_key, api_key_headers
):
    client.get("/api/v1/users", headers=api_key_headers, environ_base={"REMOTE_ADDR": "192.0.2.5"})
    assert listed(client, admin_headers, api_key["id"])["last_used_at"] is None

    with app.app_context():
        assert flush_last_used.delay().get() == 1

    seen = listed(client, admin_headers, api_key["id"])
    age = datetime.now(UTC) - datetime.fromisoformat(seen["last_used_at"])
    assert abs(age.total_seconds()) < 60
    assert seen["last_used_ip"] == "192.0.2.5"


def test_flush_is_scheduled_on_the_beat(app):
    schedule = app.extensions["celery"].conf.beat_schedule

    assert schedule["api_keys.flush_last_used"]["schedule"] == 30


def _updates(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("UPDATE")]


def _record_use_at(app, api_key, when: int, ip: str) -> None:
    """Stand in for a use at `when` (a request can only record the present)."""
    with app.app_context():
        record = cache_key(api_key_subject(digest(api_key["key"])))
        get_store().client.hset(record, mapping={"used_at": when, "used_ip": ip})


def test_many_uses_are_one_write_of_the_latest(app, client, api_key, count_statements):
    for number in range(300):
        client.get(
            "/api/v1/users",
            headers=bearer(api_key["key"]),
            environ_base={"REMOTE_ADDR": f"198.51.100.{number % 3 + 1}"},
        )
    with app.app_context():
        count_statements.clear()

        assert services.flush_last_used() == 1

        assert len(_updates(count_statements)) == 1
        row = services.get_key(api_key["id"])
        assert abs((datetime.now(UTC) - row.last_used_at).total_seconds()) < 60
        assert row.last_used_ip == "198.51.100.3"


def test_flush_never_moves_time_backwards_nor_writes_twice(app, api_key, count_statements):
    _record_use_at(app, api_key, 1_900_000_000, "192.0.2.1")
    with app.app_context():
        assert services.flush_last_used() == 1
    _record_use_at(app, api_key, 1_800_000_000, "192.0.2.2")
    with app.app_context():
        count_statements.clear()
        assert services.flush_last_used() == 0
        assert _updates(count_statements) == []

        row = services.get_key(api_key["id"])
        assert row.last_used_at == datetime.fromtimestamp(1_900_000_000, tz=UTC)
        assert row.last_used_ip == "192.0.2.1"


def test_nothing_recorded_means_no_write(app, api_key, count_statements):
    with app.app_context():
        count_statements.clear()
        assert services.flush_last_used() == 0
    assert _updates(count_statements) == []


def test_without_redis_uses_are_kept_in_process_until_the_flush(make_app, admin_headers):
    app = make_app(REDIS_URL="")
    client = app.test_client()
    created = client.post(KEYS, json={"name": "solo"}, headers=admin_headers).get_json()

    client.get("/api/v1/users", headers=bearer(created["key"]))
    with app.app_context():
        assert services.flush_last_used() == 1
        assert services.flush_last_used() == 0
        assert services.get_key(created["id"]).last_used_at is not None


def test_memory_store_keeps_the_latest_use_and_survives_a_failed_drain():
    store = MemoryStore()
    store.touch("uses", "k", 10.0, "a")
    store.touch("uses", "k", 5.0, "b")
    with pytest.raises(RuntimeError), store.draining("uses"):
        raise RuntimeError
    store.touch("uses", "k", 7.0, "c")

    with store.draining("uses") as uses:
        assert uses == {"k": (10.0, "a")}
    with store.draining("uses") as uses:
        assert uses == {}


def test_another_client_in_the_same_second_is_written_too(app, api_key):
    _record_use_at(app, api_key, 1_900_000_000, "192.0.2.1")
    with app.app_context():
        assert services.flush_last_used() == 1
    _record_use_at(app, api_key, 1_900_000_000, "192.0.2.2")
    with app.app_context():
        assert services.flush_last_used() == 1
        assert services.flush_last_used() == 0
        assert services.get_key(api_key["id"]).last_used_ip == "192.0.2.2"
