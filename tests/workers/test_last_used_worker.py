"""`last_used_at` through the real path: uses recorded in Redis by `record_use` (what
the API-key resolver calls on each request), written by the beat-scheduled flush task
on a real worker. A PostgreSQL trigger counts the row writes the worker makes."""

import time
from datetime import UTC, datetime

import psycopg
import pytest

from app.api_keys import services
from app.api_keys.models import ApiKey
from app.extensions import db
from tests.workers.servers import wait_for

pytestmark = pytest.mark.slow

USES = 10_000


@pytest.fixture
def config_overrides(broker_url):
    return {"CELERY_BROKER_URL": broker_url}


@pytest.fixture
def row_writes(app, database_url):
    """Row UPDATEs of api_keys, each with its transaction id, recorded by a trigger that
    is dropped afterwards. Returns the number of writes of each transaction."""
    statements = [
        "CREATE TABLE test_api_key_writes (key_id text NOT NULL, txid bigint NOT NULL)",
        "CREATE FUNCTION test_count_api_key_write() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO test_api_key_writes VALUES (NEW.id, txid_current()); "
        "RETURN NEW; END $$",
        "CREATE TRIGGER test_api_key_writes AFTER UPDATE ON api_keys FOR EACH ROW "
        "EXECUTE FUNCTION test_count_api_key_write()",
    ]
    with psycopg.connect(database_url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)

    def per_transaction() -> list[int]:
        with psycopg.connect(database_url) as connection:
            rows = connection.execute(
                "SELECT count(*) FROM test_api_key_writes GROUP BY txid"
            ).fetchall()
        return [count for (count,) in rows]

    yield per_transaction
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DROP TRIGGER test_api_key_writes ON api_keys")
        connection.execute("DROP FUNCTION test_count_api_key_write()")
        connection.execute("DROP TABLE test_api_key_writes")


@pytest.mark.usefixtures("smtp", "webhook")
def test_ten_thousand_uses_cost_at_most_one_write_per_flush_and_the_latest_wins(
    app, api_key, row_writes, start_worker
):
    start_worker(beat=True, LAST_USED_FLUSH_SECONDS=1)
    started = time.monotonic()
    with app.app_context():
        for _ in range(USES - 1):
            services.record_use(api_key["id"], "192.0.2.1")
        before_last = datetime.now(UTC)
        services.record_use(api_key["id"], "192.0.2.99")
        after_last = datetime.now(UTC)
    recording_seconds = time.monotonic() - started

    def flushed_last_use():
        with app.app_context():
            row = db.session.get(ApiKey, api_key["id"])
            db.session.remove()
            return row.last_used_ip == "192.0.2.99" and row

    wait_for(flushed_last_use, what="the last use in the database")
    row = flushed_last_use()
    assert before_last <= row.last_used_at <= after_last

    time.sleep(2)  # two more flushes find nothing to write
    elapsed = time.monotonic() - started
    writes = row_writes()
    print(
        f"{USES} uses recorded in {recording_seconds:.1f}s; {len(writes)} flushes wrote "
        f"the row (one write each: {writes}) in {elapsed:.1f}s"
    )
    # Each flush is one transaction: at most one write of the row per flush, and at
    # most one flush per LAST_USED_FLUSH_SECONDS.
    assert writes
    assert max(writes) == 1
    assert len(writes) <= elapsed + 1
