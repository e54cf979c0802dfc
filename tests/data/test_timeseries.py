import uuid

import pytest

from tests.support.factories import create_user


def url(user_id) -> str:
    return f"/api/v1/users/{user_id}/timeseries"


def store(client, headers, user_id, *points):
    return client.post(url(user_id), json={"data": list(points)}, headers=headers)


def read(client, headers, user_id, start="2026-03-01", end="2026-03-01", **query):
    params = {"start_time": start, "end_time": end, **query}
    return client.get(url(user_id), query_string=params, headers=headers)


SAMPLES = [
    {"type": "heart_rate", "time": "2026-03-01T08:00:00Z", "value": 61, "unit": "bpm"},
    {"type": "steps", "time": "2026-03-01T08:00:30Z", "value": 120},
    {"type": "active_energy", "time": "2026-03-01T08:30:00+01:00", "value": 12.5},
    {"type": "weight", "time": "2026-03-01T07:00:00Z", "value": 72.4, "unit": "kg"},
    {"type": "heart_rate", "time": "2026-03-02T08:00:00Z", "value": 70},
]


def test_store_and_read_every_type_in_time_order_with_units(client, user, sdk_headers):
    stored = store(client, sdk_headers, user["id"], *SAMPLES)

    assert stored.status_code == 200
    assert stored.get_json() == {"stored": 5}
    assert read(client, sdk_headers, user["id"]).get_json() == {
        "data": [
            {"type": "weight", "time": "2026-03-01T07:00:00Z", "value": 72.4, "unit": "kg"},
            {
                "type": "active_energy",
                "time": "2026-03-01T07:30:00Z",
                "value": 12.5,
                "unit": "kcal",
            },
            {"type": "heart_rate", "time": "2026-03-01T08:00:00Z", "value": 61.0, "unit": "bpm"},
            {"type": "steps", "time": "2026-03-01T08:00:30Z", "value": 120.0, "unit": "count"},
        ],
        "pagination": {"next_cursor": None, "has_more": False},
    }


def test_types_filter(client, admin_headers, user):
    store(client, admin_headers, user["id"], *SAMPLES)

    page = read(
        client, admin_headers, user["id"], "2026-03-01", "2026-03-02", types="heart_rate,steps"
    )

    assert [(p["type"], p["value"]) for p in page.get_json()["data"]] == [
        ("heart_rate", 61),
        ("steps", 120),
        ("heart_rate", 70),
    ]


def test_resending_a_sample_replaces_it(client, admin_headers, user):
    store(client, admin_headers, user["id"], SAMPLES[0])

    again = store(
        client, admin_headers, user["id"], SAMPLES[0] | {"value": 64}, SAMPLES[0] | {"value": 65}
    )

    assert again.get_json() == {"stored": 1}
    assert [p["value"] for p in read(client, admin_headers, user["id"]).json["data"]] == [65]


def test_pages_with_a_cursor(client, admin_headers, user):
    points = [
        {"type": "heart_rate", "time": f"2026-03-01T10:{minute:02d}:00Z", "value": 60 + minute}
        for minute in range(25)
    ]
    store(client, admin_headers, user["id"], *points)

    values, cursor = [], None
    while True:
        query = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        page = read(client, admin_headers, user["id"], **query).get_json()
        values += [p["value"] for p in page["data"]]
        cursor = page["pagination"]["next_cursor"]
        if cursor is None:
            break

    assert values == [60 + minute for minute in range(25)]


@pytest.mark.parametrize(
    ("point", "field"),
    [
        ({"type": "mood", "time": "2026-03-01T08:00:00Z", "value": 1}, "type"),
        ({"type": "weight", "time": "2026-03-01T08:00:00Z", "value": 70, "unit": "lb"}, "unit"),
        ({"type": "steps", "time": "2026-03-01T08:00:00", "value": 1}, "time"),
        ({"type": "steps", "time": "2026-03-01T08:00:00Z", "value": -1}, "value"),
        ({"type": "steps", "time": "2026-03-01T08:00:00Z"}, "value"),
    ],
)
def test_invalid_samples_are_422(client, admin_headers, user, point, field):
    response = store(client, admin_headers, user["id"], point)

    assert response.status_code == 422
    assert f"data.0.{field}" in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"types": "heart_rate,mood"}, "types.1"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "end_time"),
        ({"start": "2026-01-01", "end": "2027-01-03"}, "end_time"),
        ({"start": "soon"}, "start_time"),
        ({"limit": 1001}, "limit"),
    ],
)
def test_bad_queries_are_422(client, admin_headers, user, query, field):
    response = read(client, admin_headers, user["id"], **query)

    assert response.status_code == 422
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("config_overrides", [{"MAX_TIMESERIES_POINTS_PER_REQUEST": 2}])
def test_batch_size_is_limited(client, admin_headers, user):
    response = store(client, admin_headers, user["id"], *SAMPLES[:3])

    assert response.status_code == 422
    assert response.get_json()["errors"]["data"] == ["At most 2 items per request."]


def test_sdk_token_of_another_user_is_403(client, admin_headers, sdk_headers):
    other = create_user(client, admin_headers)

    assert read(client, sdk_headers, other["id"]).status_code == 403
    assert store(client, sdk_headers, other["id"], SAMPLES[0]).status_code == 403


def test_unknown_user_is_404(client, admin_headers):
    assert read(client, admin_headers, uuid.uuid4()).status_code == 404
    assert store(client, admin_headers, uuid.uuid4(), SAMPLES[0]).status_code == 404


def test_an_api_key_reads_and_writes_time_series(client, api_key_headers, user):
    assert store(client, api_key_headers, user["id"], *SAMPLES).get_json() == {"stored": 5}

    page = read(client, api_key_headers, user["id"], types="weight")

    assert page.status_code == 200
    assert [p["value"] for p in page.get_json()["data"]] == [72.4]
