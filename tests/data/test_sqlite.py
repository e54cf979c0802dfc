"""The data endpoints on the embedded default (SQLite), which `make run` uses."""

from flask_migrate import upgrade
from sqlalchemy import func, select

from app.data.models import TimeSeriesPoint, Workout
from app.extensions import db
from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.factories import create_user, sdk_tokens_for


def test_store_read_page_and_cascade_on_sqlite(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}", REDIS_URL="")
    with app.app_context():
        upgrade()
        from app.developers import services as developers

        developers.create_developer(ADMIN_EMAIL, ADMIN_PASSWORD)
    client = app.test_client()
    admin_headers = bearer(login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"])
    user = create_user(client, admin_headers)
    sdk = bearer(sdk_tokens_for(client, admin_headers, user["id"])["access_token"])
    workouts = f"/api/v1/users/{user['id']}/events/workouts"
    timeseries = f"/api/v1/users/{user['id']}/timeseries"
    batch = [
        {
            "external_id": f"w{day}",
            "type": "cycling",
            "start_time": f"2026-03-{day:02d}T18:00:00+01:00",
            "end_time": f"2026-03-{day:02d}T19:00:00+01:00",
        }
        for day in range(1, 8)
    ]
    samples = [
        {"type": "heart_rate", "time": f"2026-03-01T10:0{m}:00Z", "value": 60 + m} for m in range(5)
    ]

    for _ in range(2):
        assert client.post(workouts, json={"data": batch}, headers=sdk).status_code == 200
        assert client.post(timeseries, json={"data": samples}, headers=sdk).status_code == 200

    seen, cursor = [], None
    while True:
        query = {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-07", "limit": 3}
        page = client.get(
            workouts, query_string=query | ({"cursor": cursor} if cursor else {}), headers=sdk
        ).get_json()
        seen += [w["external_id"] for w in page["data"]]
        cursor = page["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"w{day}" for day in range(1, 8)]
    points = client.get(
        timeseries,
        query_string={
            "types": "heart_rate",
            "start_time": "2026-03-01",
            "end_time": "2026-03-01",
            "limit": 2,
        },
        headers=sdk,
    ).get_json()
    assert [p["value"] for p in points["data"]] == [60, 61]
    assert points["pagination"]["has_more"] is True

    assert client.delete(f"/api/v1/users/{user['id']}", headers=admin_headers).status_code == 204
    with app.app_context():
        for model in (Workout, TimeSeriesPoint):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0
        db.session.remove()
