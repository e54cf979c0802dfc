from datetime import UTC, datetime

import pytest

from app.api_keys import services
from app.api_keys.tasks import flush_last_used
from app.core.store import MemoryStore, get_store

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


def test_ten_thousand_uses_are_one_write_and_the_latest_wins(app, api_key, count_statements):
    with app.app_context():
        store = get_store()
        for second in range(10_000):
            store.touch(services.LAST_USED, api_key["id"], 1_800_000_000 + second, "198.51.100.1")
        count_statements.clear()

        assert services.flush_last_used() == 1

        writes = [s for s in count_statements if s.lstrip().upper().startswith("UPDATE")]
        assert len(writes) == 1
        row = services.get_key(api_key["id"])
        assert row.last_used_at == datetime.fromtimestamp(1_800_000_000 + 9_999, tz=UTC)
        assert row.last_used_ip == "198.51.100.1"


def test_flush_never_moves_time_backwards(app, api_key):
    with app.app_context():
        store = get_store()
        store.touch(services.LAST_USED, api_key["id"], 1_900_000_000, "192.0.2.1")
        services.flush_last_used()
        store.touch(services.LAST_USED, api_key["id"], 1_800_000_000, "192.0.2.2")
        services.flush_last_used()

        row = services.get_key(api_key["id"])
        assert row.last_used_at == datetime.fromtimestamp(1_900_000_000, tz=UTC)
        assert row.last_used_ip == "192.0.2.1"


def test_nothing_recorded_means_no_write(app, count_statements):
    with app.app_context():
        count_statements.clear()
        assert services.flush_last_used() == 0
    assert count_statements == []


def fail_while_draining(store):
    with store.draining(services.LAST_USED) as uses:
        assert uses
        raise RuntimeError("database went away")


def test_a_failed_flush_keeps_the_uses_for_the_next_one(app, api_key):
    with app.app_context():
        store = get_store()
        store.touch(services.LAST_USED, api_key["id"], 1_800_000_000, "192.0.2.1")
        with pytest.raises(RuntimeError):
            fail_while_draining(store)
        store.touch(services.LAST_USED, api_key["id"], 1_800_000_005, None)

        assert services.flush_last_used() == 1
        assert services.get_key(api_key["id"]).last_used_at == datetime.fromtimestamp(
            1_800_000_005, tz=UTC
        )


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
