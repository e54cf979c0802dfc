"""`last_used_at` through the real path: uses recorded in each key's Redis record by
the admission script of real requests, written by the beat-scheduled flush task on a
real worker. A PostgreSQL trigger records every row write with its transaction
and the writer's application_name (the worker's connections carry their own)."""

import time
from datetime import UTC, datetime

import psycopg
import pytest

from app.api_keys.models import ApiKey
from app.extensions import db
from tests.support.auth import bearer
from tests.support.servers import wait_for

pytestmark = pytest.mark.slow

USES = 2_000
WORKER = "owa-test-worker"


@pytest.fixture
def config_overrides(broker_url):
    return {"CELERY_BROKER_URL": broker_url}


@pytest.fixture
def row_writes(app, database_url):
    """Row UPDATEs of api_keys recorded by a trigger that is dropped afterwards.
    Returns (writer's application_name, writes) for each writing transaction."""
    statements = [
        "CREATE TABLE test_api_key_writes (key_id text, txid bigint, writer text)",
        "CREATE FUNCTION test_count_api_key_write() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO test_api_key_writes VALUES "
        "(NEW.id, txid_current(), current_setting('application_name')); RETURN NEW; END $$",
        "CREATE TRIGGER test_api_key_writes AFTER UPDATE ON api_keys FOR EACH ROW "
        "EXECUTE FUNCTION test_count_api_key_write()",
    ]
    with psycopg.connect(database_url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)

    def per_transaction() -> list[tuple[str, int]]:
        with psycopg.connect(database_url) as connection:
            return connection.execute(
                "SELECT min(writer), count(*) FROM test_api_key_writes GROUP BY txid"
            ).fetchall()

    yield per_transaction
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DROP TRIGGER test_api_key_writes ON api_keys")
        connection.execute("DROP FUNCTION test_count_api_key_write()")
        connection.execute("DROP TABLE test_api_key_writes")


@pytest.mark.usefixtures("smtp", "webhook")
def test_many_uses_cost_at_most_one_write_per_flush_and_the_latest_wins(
    app, make_app, database_url, broker_url, api_key, row_writes, start_worker
):
    # The uses go to a Redis database no other app of this test run reads (the
    # broker's), so only this worker can flush them.
    recorder = make_app(REDIS_URL=broker_url, CELERY_BROKER_URL=broker_url)
    worker = start_worker(
        beat=True,
        LAST_USED_FLUSH_SECONDS=1,
        REDIS_URL=broker_url,
        DATABASE_URL=f"{database_url}?application_name={WORKER}",
    )
    started = time.monotonic()
    client = recorder.test_client()
    headers = bearer(api_key["key"])
    for _ in range(USES - 1):
        client.get("/api/v1/users", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    # Uses are recorded to the second.
    before_last = datetime.now(UTC).replace(microsecond=0)
    client.get("/api/v1/users", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.99"})
    after_last = datetime.now(UTC)
    recording_seconds = time.monotonic() - started

    def flushed_last_use():
        with app.app_context():
            row = db.session.get(ApiKey, api_key["id"])
            db.session.remove()
            return row.last_used_ip == "192.0.2.99" and row

    try:
        wait_for(flushed_last_use, what="the last use in the database")
    except AssertionError as error:
        raise AssertionError(f"{error}; the worker logged:\n{worker.log}") from None
    row = flushed_last_use()
    assert before_last <= row.last_used_at <= after_last

    time.sleep(2)  # two more flushes find nothing to write
    elapsed = time.monotonic() - started
    writes = row_writes()
    print(
        f"{USES} uses recorded in {recording_seconds:.1f}s; {len(writes)} flushes wrote "
        f"the row in {elapsed:.1f}s"
    )
    # Every write is the worker's flush, one write of the row per flush (transaction),
    # and at most one flush per LAST_USED_FLUSH_SECONDS.
    assert {writer for writer, _ in writes} == {WORKER}
    assert all(count == 1 for _, count in writes)
    assert 1 <= len(writes) <= elapsed + 1
