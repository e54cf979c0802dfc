import base64
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import func, select, text

from app.data.models import Workout
from app.extensions import db
from tests.support.factories import create_user


def workouts_url(user_id) -> str:
    return f"/api/v1/users/{user_id}/events/workouts"


def workout(**fields) -> dict:
    return {
        "external_id": "hk-1",
        "type": "running",
        "name": "Morning run",
        "start_time": "2026-03-02T06:00:00Z",
        "end_time": "2026-03-02T06:45:30Z",
        "calories_kcal": 512.5,
        "distance_meters": 8000.0,
        "avg_heart_rate_bpm": 148,
        "max_heart_rate_bpm": 176,
        "source": {"provider": "apple_health", "device": "Apple Watch"},
        **fields,
    }


def store(client, headers, user_id, *items):
    return client.post(workouts_url(user_id), json={"data": list(items)}, headers=headers)


def read(client, headers, user_id, start="2026-03-01", end="2026-03-07", **query):
    params = {"start_date": start, "end_date": end, **query}
    return client.get(workouts_url(user_id), query_string=params, headers=headers)


def test_store_then_read_every_field(client, user, sdk_headers):
    stored = store(client, sdk_headers, user["id"], workout())

    assert stored.status_code == 200
    body = stored.get_json()
    assert (body["created"], body["updated"]) == (1, 0)
    read_back = read(client, sdk_headers, user["id"])
    assert read_back.status_code == 200
    page = read_back.get_json()
    assert page["pagination"] == {"next_cursor": None, "has_more": False}
    assert page["data"] == body["data"]
    (item,) = page["data"]
    assert uuid.UUID(item.pop("id"))
    assert item == {
        "external_id": "hk-1",
        "type": "running",
        "name": "Morning run",
        "start_time": "2026-03-02T06:00:00Z",
        "end_time": "2026-03-02T06:45:30Z",
        "duration_seconds": 2730,
        "calories_kcal": 512.5,
        "distance_meters": 8000.0,
        "avg_heart_rate_bpm": 148,
        "max_heart_rate_bpm": 176,
        "source": {"provider": "apple_health", "device": "Apple Watch"},
    }


def test_years_before_1000_keep_four_digits_in_responses(client, admin_headers, user):
    early = {"start_time": "0039-01-01T00:00:00Z", "end_time": "0039-01-01T00:00:00.500Z"}
    stored = store(client, admin_headers, user["id"], workout(**early))

    assert stored.status_code == 200
    (item,) = stored.get_json()["data"]
    assert (item["start_time"], item["end_time"]) == ("0039-01-01T00:00:00Z",) * 2


def test_resending_an_external_id_updates_instead_of_duplicating(client, admin_headers, user):
    first = store(client, admin_headers, user["id"], workout()).get_json()["data"][0]

    again = store(
        client,
        admin_headers,
        user["id"],
        workout(name="Renamed", calories_kcal=600),
        workout(external_id="hk-2", start_time="2026-03-03T06:00:00Z", end_time=None)
        | {"end_time": "2026-03-03T07:00:00Z"},
    ).get_json()

    assert (again["created"], again["updated"]) == (1, 1)
    assert again["data"][0]["id"] == first["id"]
    assert again["data"][0]["name"] == "Renamed"
    listed = read(client, admin_headers, user["id"]).get_json()["data"]
    assert [w["external_id"] for w in listed] == ["hk-1", "hk-2"]
    assert listed[0]["calories_kcal"] == 600


def test_a_later_duplicate_in_one_request_wins(client, admin_headers, user):
    body = store(
        client, admin_headers, user["id"], workout(name="first"), workout(name="second")
    ).get_json()

    assert (body["created"], body["updated"]) == (1, 0)
    assert [w["name"] for w in read(client, admin_headers, user["id"]).json["data"]] == ["second"]


def test_external_ids_are_per_user(client, admin_headers, user):
    other = create_user(client, admin_headers)

    store(client, admin_headers, user["id"], workout())
    store(client, admin_headers, other["id"], workout(name="theirs"))

    assert read(client, admin_headers, user["id"]).json["data"][0]["name"] == "Morning run"
    assert read(client, admin_headers, other["id"]).json["data"][0]["name"] == "theirs"


def test_workouts_without_external_id_are_always_new(client, admin_headers, user):
    item = workout(external_id=None)

    store(client, admin_headers, user["id"], item)
    store(client, admin_headers, user["id"], item)

    assert len(read(client, admin_headers, user["id"]).json["data"]) == 2


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-03-01", "2026-03-07", ["mar-01-start", "mar-07-late"]),
        ("2026-03-01T00:00:00Z", "2026-03-07T23:59:59Z", ["mar-01-start", "mar-07-late"]),
        ("2026-03-01T00:00:00Z", "2026-03-07T00:00:00Z", ["mar-01-start"]),
        ("2026-03-01T01:00:00+01:00", "2026-03-08T00:59:59+01:00", ["mar-01-start", "mar-07-late"]),
        (
            "2026-03-01T00:00:00.000Z",
            "2026-03-07T21:59:59.999-02:00",
            ["mar-01-start", "mar-07-late"],
        ),
        ("2026-03-08", "2026-03-08", ["mar-08-start"]),
        ("2026-03-07T23:00:00Z", "2026-03-08T00:00:00Z", ["mar-07-late", "mar-08-start"]),
    ],
)
def test_dates_and_iso_date_times_select_by_start_time(
    client, admin_headers, user, start, end, expected
):
    store(
        client,
        admin_headers,
        user["id"],
        workout(
            external_id="feb-28-late",
            start_time="2026-02-28T23:59:59Z",
            end_time="2026-03-01T00:30:00Z",
        ),
        workout(
            external_id="mar-01-start",
            start_time="2026-03-01T00:00:00Z",
            end_time="2026-03-01T01:00:00Z",
        ),
        workout(
            external_id="mar-07-late",
            start_time="2026-03-07T23:30:00Z",
            end_time="2026-03-07T23:59:00Z",
        ),
        workout(
            external_id="mar-08-start",
            start_time="2026-03-08T00:00:00Z",
            end_time="2026-03-08T01:00:00Z",
        ),
    )

    response = read(client, admin_headers, user["id"], start, end)

    assert response.status_code == 200, response.get_json()
    assert [w["external_id"] for w in response.get_json()["data"]] == expected


def test_swift_iso8601_dateformatter_query_string_is_served(client, user, sdk_headers):
    """Exactly what the seed's Swift client puts in the URL (no percent-encoding)."""
    store(client, sdk_headers, user["id"], workout())

    response = client.get(
        f"{workouts_url(user['id'])}?start_date=2026-03-01T00:00:00Z&end_date=2026-03-07T00:00:00Z",
        headers=sdk_headers,
    )

    assert response.status_code == 200
    assert [w["external_id"] for w in response.get_json()["data"]] == ["hk-1"]


def test_an_unencoded_plus_offset_is_understood(client, admin_headers, user):
    store(client, admin_headers, user["id"], workout())

    response = client.get(
        f"{workouts_url(user['id'])}?start_date=2026-03-02T07:00:00+01:00&end_date=2026-03-02T08:00:00+01:00",
        headers=admin_headers,
    )

    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["data"]) == 1


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("2026-03-07", "2026-03-01", "end_date", "must not be before start_date"),
        ("2026-03-02T00:00:00Z", "2026-03-01", "end_date", "must not be before start_date"),
        ("2026-03-01T10:00:00Z", "2026-03-01T09:59:59Z", "end_date", "must not be before"),
        ("2025-01-01", "2026-01-02", "end_date", "must not exceed 366 days"),
        ("2026-03-01T00:00:00", "2026-03-07", "start_date", "Include a UTC offset"),
        ("03/01/2026", "2026-03-07", "start_date", "ISO 8601"),
        ("2026-02-30", "2026-03-07", "start_date", "ISO 8601"),
        ("yesterday", "2026-03-07", "start_date", "ISO 8601"),
        ("2026-03-01", "9999-12-31", "end_date", ""),
        ("0001-01-01T00:00:00+14:00", "2026-03-07", "start_date", "ISO 8601"),
    ],
)
def test_bad_windows_are_422_with_detail(client, admin_headers, user, start, end, field, message):
    response = read(client, admin_headers, user["id"], start, end)

    assert response.status_code == 422
    body = response.get_json()
    assert body["detail"].startswith("Validation error.")
    assert message in " ".join(body["errors"][field])


def test_a_year_is_allowed(client, admin_headers, user):
    assert read(client, admin_headers, user["id"], "2024-01-01", "2024-12-31").status_code == 200


@pytest.mark.parametrize("missing", ["start_date", "end_date"])
def test_both_dates_are_required(client, admin_headers, user, missing):
    params = {"start_date": "2026-03-01", "end_date": "2026-03-07"}
    del params[missing]

    response = client.get(workouts_url(user["id"]), query_string=params, headers=admin_headers)

    assert response.status_code == 422
    assert missing in response.get_json()["errors"]


def test_cursor_pages_through_everything_once_in_time_order(client, admin_headers, user):
    items = [
        workout(
            external_id=f"w{i}",
            start_time=f"2026-03-0{1 + i % 5}T0{i % 3}:00:00Z",
            end_time=f"2026-03-0{1 + i % 5}T09:00:00Z",
        )
        for i in range(12)
    ]
    store(client, admin_headers, user["id"], *items)

    seen, cursor = [], None
    while True:
        query = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = read(client, admin_headers, user["id"], **query).get_json()
        seen.extend(page["data"])
        cursor = page["pagination"]["next_cursor"]
        assert page["pagination"]["has_more"] is (cursor is not None)
        if cursor is None:
            break

    assert sorted(w["external_id"] for w in seen) == sorted(f"w{i}" for i in range(12))
    starts = [w["start_time"] for w in seen]
    assert starts == sorted(starts)


def cursor_of(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": cursor_of("2026-03-01T00:00:00", str(uuid.uuid4()))},
        {"cursor": cursor_of("0001-01-01T00:00:00+14:00", str(uuid.uuid4()))},
        {"cursor": cursor_of("2026-03-01T00:00:00Z", "not-a-uuid")},
        {"limit": 0},
        {"limit": 101},
    ],
)
def test_bad_paging_is_422(client, admin_headers, user, query):
    assert read(client, admin_headers, user["id"], **query).status_code == 422


def encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MOMENT, ROW_ID = "2026-03-01T00:00:00+00:00", "6f1c2a4e-8d3b-4a5f-9c7e-1b2d3e4f5a6b"


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(cursor_of(MOMENT, 5), id="number-id"),
        pytest.param(cursor_of(MOMENT, 5.5), id="float-id"),
        pytest.param(cursor_of(MOMENT, True), id="boolean-id"),
        pytest.param(cursor_of(MOMENT, None), id="null-id"),
        pytest.param(cursor_of(MOMENT, [ROW_ID]), id="list-id"),
        pytest.param(cursor_of(MOMENT, {"id": ROW_ID}), id="object-id"),
        pytest.param(cursor_of(1772323200, ROW_ID), id="number-moment"),
        pytest.param(cursor_of(None, ROW_ID), id="null-moment"),
        pytest.param(cursor_of([MOMENT], ROW_ID), id="list-moment"),
        pytest.param(cursor_of(MOMENT), id="one-value"),
        pytest.param(cursor_of(MOMENT, ROW_ID, ROW_ID), id="three-values"),
        pytest.param(cursor_of(), id="empty-list"),
        pytest.param(cursor_of([MOMENT, ROW_ID]), id="nested"),
        pytest.param(encoded(b"5"), id="bare-number"),
        pytest.param(encoded(b"null"), id="bare-null"),
        pytest.param(encoded(json.dumps({MOMENT: 1, ROW_ID: 2}).encode()), id="object"),
        pytest.param(encoded(b"not json"), id="not-json"),
        pytest.param(encoded(b"\xff\xfe"), id="not-utf8"),
        pytest.param("!!!!", id="not-base64"),
    ],
)
def test_tampered_cursors_are_422_invalid_cursor(client, admin_headers, user, cursor):
    response = read(client, admin_headers, user["id"], cursor=cursor)

    assert response.status_code == 422
    assert response.get_json() == {"detail": "Invalid cursor."}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"type": ""}, "type"),
        ({"start_time": "2026-03-02T06:00:00"}, "start_time"),
        ({"end_time": "2026-03-02T05:00:00Z"}, "end_time"),
        ({"end_time": "2026-04-02T06:00:00Z"}, "end_time"),
        ({"start_time": "0001-01-01T00:00:00+14:00"}, "start_time"),
        ({"end_time": "9999-12-31T23:59:59-14:00"}, "end_time"),
        ({"avg_heart_rate_bpm": 400}, "avg_heart_rate_bpm"),
        ({"avg_heart_rate_bpm": 180}, "avg_heart_rate_bpm"),
        ({"calories_kcal": -1}, "calories_kcal"),
        ({"duration_seconds": 1.5}, "duration_seconds"),
        ({"source": {"provider": "x" * 51}}, "source.provider"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_workouts_are_422_naming_the_field(client, admin_headers, user, fields, field):
    response = store(
        client, admin_headers, user["id"], workout(), workout(external_id="b", **fields)
    )

    assert response.status_code == 422
    assert f"data.1.{field}" in response.get_json()["errors"]
    assert read(client, admin_headers, user["id"]).json["data"] == []


def test_nan_is_refused(client, admin_headers, user):
    response = client.post(
        workouts_url(user["id"]),
        data='{"data": [{"type": "run", "start_time": "2026-03-02T06:00:00Z", '
        '"end_time": "2026-03-02T07:00:00Z", "calories_kcal": NaN}]}',
        content_type="application/json",
        headers=admin_headers,
    )

    assert response.status_code == 422


@pytest.mark.parametrize("config_overrides", [{"MAX_WORKOUTS_PER_REQUEST": 3}])
def test_batch_size_is_limited(client, admin_headers, user):
    items = [workout(external_id=f"w{i}") for i in range(4)]

    too_many = store(client, admin_headers, user["id"], *items)
    empty = store(client, admin_headers, user["id"])

    assert too_many.status_code == 422
    assert too_many.get_json()["errors"]["data"] == ["At most 3 items per request."]
    assert empty.status_code == 422


def test_a_thousand_workouts_in_one_request(client, admin_headers, user):
    items = [
        workout(
            external_id=f"w{i}",
            start_time=f"2026-03-01T{i // 60 % 24:02d}:{i % 60:02d}:00Z",
            end_time="2026-03-02T00:00:00Z",
        )
        for i in range(1000)
    ]

    response = store(client, admin_headers, user["id"], *items)

    assert response.status_code == 200
    assert response.get_json()["created"] == 1000


def test_delete_one_workout(client, user, sdk_headers, admin_headers):
    kept, doomed = store(
        client, sdk_headers, user["id"], workout(), workout(external_id="hk-2")
    ).get_json()["data"]
    other = create_user(client, admin_headers)
    url = f"{workouts_url(user['id'])}/{doomed['id']}"

    assert (
        client.delete(
            f"{workouts_url(other['id'])}/{doomed['id']}", headers=admin_headers
        ).status_code
        == 404
    )
    response = client.delete(url, headers=sdk_headers)

    assert response.status_code == 204
    assert [w["id"] for w in read(client, sdk_headers, user["id"]).json["data"]] == [kept["id"]]
    again = client.delete(url, headers=sdk_headers)
    assert again.status_code == 404
    assert again.get_json() == {"detail": "Workout not found."}


def test_unknown_user_is_404(client, admin_headers):
    missing = uuid.uuid4()

    assert read(client, admin_headers, missing).status_code == 404
    assert store(client, admin_headers, missing, workout()).get_json() == {
        "detail": "User not found."
    }


def test_an_sdk_token_reaches_only_its_own_users_workouts(client, admin_headers, user, sdk_headers):
    other = create_user(client, admin_headers)
    store(client, admin_headers, other["id"], workout())

    for response in (
        read(client, sdk_headers, other["id"]),
        store(client, sdk_headers, other["id"], workout()),
    ):
        assert response.status_code == 403
        assert response.get_json() == {"detail": "This SDK token is not valid for this user."}


def test_deleting_a_user_deletes_its_data_by_cascade(app, client, admin_headers, user):
    from sqlalchemy import func, select

    from app.data.models import TimeSeriesPoint, Workout
    from app.extensions import db

    other = create_user(client, admin_headers)
    sample = {"type": "steps", "time": "2026-03-01T10:00:00Z", "value": 10}
    for owner in (user, other):
        store(client, admin_headers, owner["id"], workout(), workout(external_id="hk-2"))
        client.post(
            f"/api/v1/users/{owner['id']}/timeseries",
            json={"data": [sample]},
            headers=admin_headers,
        )

    client.delete(f"/api/v1/users/{user['id']}", headers=admin_headers)

    with app.app_context():
        for model, left in ((Workout, 2), (TimeSeriesPoint, 1)):
            assert db.session.scalar(select(func.count()).select_from(model)) == left
        db.session.remove()


def test_data_needs_credentials(client, user):
    assert read(client, {}, user["id"]).status_code == 401


def test_an_api_key_reads_and_writes_any_users_workouts(client, admin_headers, api_key_headers):
    first, second = create_user(client, admin_headers), create_user(client, admin_headers)

    for target in (first, second):
        stored = store(client, api_key_headers, target["id"], workout())
        assert stored.status_code == 200
        listed = read(client, api_key_headers, target["id"])
        assert listed.status_code == 200
        assert [w["id"] for w in listed.get_json()["data"]] == [stored.json["data"][0]["id"]]
        workout_id = stored.json["data"][0]["id"]
        deleted = client.delete(
            f"{workouts_url(target['id'])}/{workout_id}", headers=api_key_headers
        )
        assert deleted.status_code == 204


def test_concurrent_posts_of_the_same_external_ids_store_each_once(app, admin_headers, user):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from sqlalchemy import func, select

    from app.data.models import Workout
    from app.extensions import db

    rounds, parallel = 6, 4
    barrier = Barrier(parallel)

    def post(round_number):
        barrier.wait()
        items = [workout(external_id=f"r{round_number}-{i}") for i in range(20)]
        return store(app.test_client(), admin_headers, user["id"], *items).status_code

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for round_number in range(rounds):
            statuses = list(pool.map(post, [round_number] * parallel))
            assert statuses == [200] * parallel

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Workout)) == rounds * 20
        db.session.remove()


@pytest.fixture
def slow_workout_inserts(app):
    """Every inserted workout row takes 20 ms, so concurrent batches overlap row by row
    (without it one batch usually finishes before the next starts)."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(0.02); RETURN NEW; END $$;"
                "CREATE TRIGGER test_slow_insert BEFORE INSERT ON workouts "
                "FOR EACH ROW EXECUTE FUNCTION test_slow_insert()"
            )
        )
    yield
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text("DROP TRIGGER test_slow_insert ON workouts;DROP FUNCTION test_slow_insert()")
        )


def test_concurrent_batches_sharing_external_ids_in_different_orders_never_500(
    app, admin_headers, user, slow_workout_inserts
):
    """Four batches of the same ten new external_ids, each in its own order, at once:
    rows locked in different orders are PostgreSQL's classic deadlock."""
    items = [workout(external_id=f"w{i}") for i in range(10)]
    orders = [items, items[::-1], items[5:] + items[:5], items[::2] + items[1::2]]
    barrier = Barrier(len(orders))

    def post(batch):
        barrier.wait()
        return store(app.test_client(), admin_headers, user["id"], *batch).status_code

    with ThreadPoolExecutor(max_workers=len(orders)) as pool:
        statuses = list(pool.map(post, orders))

    assert statuses == [200] * len(orders)
    with app.app_context():
        stored = db.session.execute(
            select(Workout.external_id, func.count()).group_by(Workout.external_id)
        ).all()
        db.session.remove()
    assert sorted(stored) == [(f"w{i}", 1) for i in range(10)]
