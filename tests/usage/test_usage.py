"""Usage analytics in one process: what is counted, the rollup, the endpoints."""

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.usage import services
from app.usage.counter import usage_counter
from app.usage.minutes import Batch, CountKey
from app.usage.models import RolledMinute, UsageBucket, UsageDistinctIps
from app.usage.services import register_minute_listener
from tests.support.auth import bearer
from tests.support.factories import create_user, sdk_tokens_for
from tests.support.ports import free_port

USERS = "/api/v1/users"
USER_ROUTE = "/api/v1/users/<uuid:user_id>"
LATER = 3600
"""A `now` for `roll_up` by which every minute of the test is finished."""


def key_usage(client, admin_headers, key_id, **query):
    response = client.get(
        f"/api/v1/api-keys/{key_id}/usage", query_string=query, headers=admin_headers
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def flush(app) -> int:
    return usage_counter(app).flush()


def call(client, key, path=USERS, ip="192.0.2.1", method="get", **kwargs):
    return getattr(client, method)(
        path, headers=bearer(key), environ_base={"REMOTE_ADDR": ip}, **kwargs
    )


def counts(n2=0, n4=0, n429=0, n5=0):
    return {"2xx": n2, "4xx": n4, "429": n429, "5xx": n5}


def test_each_status_class_and_route_is_counted_per_key(app, client, admin_headers, api_key):
    key = api_key["key"]
    assert call(client, key).status_code == 200
    assert call(client, key, ip="192.0.2.2").status_code == 200
    assert call(client, key, f"{USERS}/{uuid.uuid4()}", ip="192.0.2.3").status_code == 404
    assert call(client, key, query_string={"limit": 0}).status_code == 422
    assert call(client, key, "/api/v1/no-such-route").status_code == 404
    client.get(USERS, headers=admin_headers)  # developer traffic is not counted

    assert flush(app) == 5
    usage = key_usage(client, admin_headers, api_key["id"], granularity="minute")

    assert usage["totals"] == counts(n2=2, n4=3)
    assert {r["route"]: {k: r[k] for k in counts()} for r in usage["routes"]} == {
        "/api/v1/users": counts(n2=2, n4=1),
        USER_ROUTE: counts(n4=1),
        "unmatched": counts(n4=1),
    }
    busy = [point for point in usage["data"] if any(point[k] for k in counts())]
    assert len(busy) == 1
    assert busy[0]["distinct_ips"] == 3
    # The last hour (its first and current minute included), every minute, zeros too.
    start, end = (datetime.fromisoformat(usage[edge]) for edge in ("start", "end"))
    assert [point["start"] for point in usage["data"]] == [
        _iso(start + timedelta(minutes=n)) for n in range((end - start) // timedelta(minutes=1))
    ]
    assert len(usage["data"]) in (60, 61)
    assert usage["id"] == api_key["id"]


def test_requests_over_the_key_limit_count_as_429(make_app, admin_headers, client):
    limited = make_app(RATELIMIT_API_KEY="3 per minute")
    limited_client = limited.test_client()
    created = client.post("/api/v1/api-keys", json={"name": "limited"}, headers=admin_headers)
    key = created.get_json()
    statuses = [call(limited_client, key["key"]).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]

    assert flush(limited) == 5
    usage = key_usage(client, admin_headers, key["id"], granularity="minute")

    assert usage["totals"] == counts(n2=3, n429=2)


def test_closing_a_response_flushes_once_the_interval_has_passed(
    make_app, client, admin_headers, api_key
):
    eager = make_app(USAGE_FLUSH_SECONDS=0)
    response = call(eager.test_client(), api_key["key"])
    before = key_usage(client, admin_headers, api_key["id"], granularity="minute")

    response.close()  # what the WSGI server does once the body is sent

    after = key_usage(client, admin_headers, api_key["id"], granularity="minute")
    assert before["totals"] == counts()
    assert after["totals"] == counts(n2=1)


def test_a_flush_with_redis_unreachable_drops_its_batch_with_a_warning(
    make_app, admin_headers, api_key, caplog
):
    unreachable = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    # The admission falls back to PostgreSQL and memory; the request still works.
    assert call(unreachable.test_client(), api_key["key"]).status_code == 200

    with caplog.at_level(logging.WARNING, logger="app.usage.counter"):
        assert flush(unreachable) == 0
        assert flush(unreachable) == 0

    warnings = [r for r in caplog.records if "usage counts of 1 requests dropped" in r.message]
    assert len(warnings) == 1


def test_without_redis_usage_is_kept_in_process(make_app, admin_headers):
    solo = make_app(REDIS_URL="")
    solo_client = solo.test_client()
    created = solo_client.post("/api/v1/api-keys", json={"name": "solo"}, headers=admin_headers)
    key = created.get_json()
    assert call(solo_client, key["key"]).status_code == 200

    flush(solo)
    minute = key_usage(solo_client, admin_headers, key["id"], granularity="minute")
    with solo.app_context():
        assert services.roll_up(time.time() + LATER) == 1
    hour = key_usage(solo_client, admin_headers, key["id"], granularity="hour")

    assert minute["totals"] == counts(n2=1)
    assert hour["totals"] == counts(n2=1)
    assert sum(point["distinct_ips"] for point in hour["data"]) == 1


def test_hour_buckets_add_unrolled_minutes_and_the_rollup_counts_once(
    app, client, admin_headers, api_key
):
    for number in range(4):
        call(client, api_key["key"], ip=f"198.51.100.{number % 2}")
    flush(app)
    unrolled = key_usage(client, admin_headers, api_key["id"])

    with app.app_context():
        assert services.roll_up(time.time() + LATER) == 4
        rows = _rows()
        assert services.roll_up(time.time() + LATER) == 0  # a second run adds nothing
        assert _rows() == rows
    rolled = key_usage(client, admin_headers, api_key["id"])
    daily = key_usage(client, admin_headers, api_key["id"], granularity="day")

    assert unrolled["totals"] == rolled["totals"] == daily["totals"] == counts(n2=4)
    assert unrolled["data"] == rolled["data"]
    assert max(point["distinct_ips"] for point in rolled["data"]) == 2
    assert max(point["distinct_ips"] for point in daily["data"]) == 2
    assert {(r[0], r[4], r[5]) for r in rows} == {
        ("hour", "/api/v1/users", 4),
        ("day", "/api/v1/users", 4),
    }


def _rows():
    return sorted(
        (b.granularity, b.subject_kind, b.subject_id, b.bucket_start, b.route, b.requests_2xx)
        for b in db.session.scalars(db.select(UsageBucket))
    )


def _write_minute(app, when: datetime, key_id: str, requests: int, ips: set[str]) -> int:
    """Stand in for traffic flushed at `when` (a request can only count the present)."""
    minute = int(when.timestamp() // 60)
    batch = Batch()
    batch.counts[(minute, CountKey("api_key", key_id, "2xx", "/api/v1/users"))] = requests
    batch.ips[(minute, key_id)] = ips
    app.extensions["owa_usage_minutes"].write(batch)
    return minute


def test_one_answer_joins_rolled_hours_and_minutes_still_in_redis(
    app, client, admin_headers, api_key
):
    now = datetime.now(UTC)
    earlier = now - timedelta(minutes=90)
    _write_minute(app, earlier, api_key["id"], 7, {"192.0.2.7"})
    with app.app_context():
        assert services.roll_up() == 7  # only the earlier minute is finished
        assert db.session.get(RolledMinute, int(earlier.timestamp() // 60)) is not None
    call(client, api_key["key"])
    flush(app)

    usage = key_usage(client, admin_headers, api_key["id"], granularity="hour")
    by_hour = {point["start"]: point["2xx"] for point in usage["data"] if point["2xx"]}

    assert usage["totals"] == counts(n2=8)
    expected = {_hour(earlier): 7}
    expected[_hour(now)] = expected.get(_hour(now), 0) + 1
    assert by_hour == expected


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hour(moment: datetime) -> str:
    return _iso(moment.replace(minute=0, second=0, microsecond=0))


def test_rows_older_than_the_retention_are_deleted(app, api_key):
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        for age in (timedelta(days=91), timedelta(days=89)):
            db.session.add(
                UsageBucket(
                    granularity="day",
                    subject_kind="api_key",
                    subject_id=api_key["id"],
                    bucket_start=now - age,
                    route="/api/v1/users",
                    requests_2xx=1,
                    requests_4xx=0,
                    requests_429=0,
                    requests_5xx=0,
                )
            )
            db.session.add(
                UsageDistinctIps(
                    granularity="day", key_id=api_key["id"], bucket_start=now - age, distinct_ips=1
                )
            )
        db.session.commit()

        services.roll_up()

        kept = db.session.scalars(db.select(UsageBucket.bucket_start)).all()
        kept_ips = db.session.scalars(db.select(UsageDistinctIps.bucket_start)).all()
    assert kept == [now - timedelta(days=89)]
    assert kept_ips == [now - timedelta(days=89)]


def test_minute_listeners_get_each_rolled_minute_with_its_ips(app, client, api_key):
    heard = []
    register_minute_listener(app, heard.append)
    call(client, api_key["key"], ip="203.0.113.1")
    call(client, api_key["key"], f"{USERS}/{uuid.uuid4()}", ip="203.0.113.2")
    flush(app)

    with app.app_context():
        services.roll_up(time.time() + LATER)
        services.roll_up(time.time() + LATER)

    assert len(heard) == 1
    assert heard[0].per_key == {api_key["id"]: counts(n2=1, n4=1)}
    assert heard[0].ips == {api_key["id"]: {"203.0.113.1", "203.0.113.2"}}
    assert heard[0].start.second == 0


def test_all_usage_breaks_down_by_key_and_by_end_user(app, client, admin_headers, api_key):
    user = create_user(client, admin_headers, external_user_id="usage-sdk")
    sdk = sdk_tokens_for(client, admin_headers, user["id"])["access_token"]
    assert client.get(f"{USERS}/{user['id']}", headers=bearer(sdk)).status_code == 200
    assert client.get(f"{USERS}/{user['id']}", headers=bearer(sdk)).status_code == 200
    assert call(client, api_key["key"]).status_code == 200
    flush(app)

    response = client.get("/api/v1/usage", headers=admin_headers)
    usage = response.get_json()

    assert response.status_code == 200
    assert usage["totals"] == counts(n2=3)
    assert usage["api_keys"] == [{"id": api_key["id"], "name": api_key["name"], **counts(n2=1)}]
    assert usage["users"] == [{"user_id": user["id"], **counts(n2=2)}]
    assert {r["route"] for r in usage["routes"]} == {USER_ROUTE, "/api/v1/users"}
    assert len(usage["data"]) in (24, 25)  # hour buckets covering the last 24 hours
    assert usage["granularity"] == "hour"


@pytest.mark.parametrize(
    "query",
    [
        {"granularity": "week"},
        {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        {"start": "2026-01-01T00:00:00"},
        {"start": "yesterday"},
        {"start": "2026-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
        {"granularity": "minute", "start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z"},
        {"granularity": "day", "start": "2024-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        # The calendar's edges: buckets there cannot be named as datetimes.
        {"granularity": "day", "end": "9999-12-31T23:59:59Z"},
        {"granularity": "hour", "end": "9999-12-31T23:59:59Z"},
        {"granularity": "hour", "end": "0001-01-01T00:30:00Z"},  # its default start
    ],
)
def test_bad_ranges_are_422(client, admin_headers, api_key, query):
    for path in (f"/api/v1/api-keys/{api_key['id']}/usage", "/api/v1/usage"):
        response = client.get(path, query_string=query, headers=admin_headers)

        assert response.status_code == 422
        assert response.get_json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        {"granularity": "hour", "start": "6100-01-01T00:00:00Z", "end": "6100-01-02T00:00:00Z"},
        {"granularity": "day", "start": "6100-01-01T00:00:00Z", "end": "6100-02-01T00:00:00Z"},
        {"granularity": "day", "start": "1000-01-01T00:00:00Z", "end": "1000-02-01T00:00:00Z"},
    ],
    ids=["hours-in-6100", "days-in-6100", "days-in-1000"],
)
def test_ranges_far_from_now_are_zeros(client, admin_headers, api_key, query):
    for path in (f"/api/v1/api-keys/{api_key['id']}/usage", "/api/v1/usage"):
        response = client.get(path, query_string=query, headers=admin_headers)

        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert (body["start"], body["end"]) == (query["start"], query["end"])
        assert body["totals"] == counts()
        assert all(point["2xx"] == 0 for point in body["data"])


def test_unknown_key_is_404(client, admin_headers):
    response = client.get("/api/v1/api-keys/key_0000000000000000/usage", headers=admin_headers)

    assert response.status_code == 404
    assert response.get_json() == {"detail": "API key not found."}


def test_only_developers_read_usage(client, api_key):
    for path in (f"/api/v1/api-keys/{api_key['id']}/usage", "/api/v1/usage"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=bearer(api_key["key"])).status_code == 403


def test_the_rollup_is_scheduled_on_the_beat(app):
    schedule = app.extensions["celery"].conf.beat_schedule

    assert schedule["usage.roll_up"]["schedule"] == 60
