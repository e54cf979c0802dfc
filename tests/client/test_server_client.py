"""`OpenWearables` with an API key or a developer login, against the live app."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from openwearables import (
    Forbidden,
    NewSample,
    NewWorkout,
    NotFound,
    OpenWearables,
    SdkSession,
    Unauthorized,
    __version__,
)

from app.usage.counter import usage_counter
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD


@pytest.fixture
def admin_client(live, admin):
    with OpenWearables.login(live.url, ADMIN_EMAIL, ADMIN_PASSWORD) as client:
        yield client


def test_users_list_iterates_over_every_page(server_client):
    created = {server_client.users.create(email=f"user{n}@example.com").id for n in range(27)}

    listed = [user.id for user in server_client.users.list(page_size=10)]

    assert len(listed) == 27
    assert set(listed) == created


def test_users_list_passes_filters(server_client):
    server_client.users.create(email="ada@example.com", first_name="Ada")
    server_client.users.create(email="alan@example.com", first_name="Alan")

    assert [user.email for user in server_client.users.list(search="ada")] == ["ada@example.com"]


def test_user_create_get_update_delete(server_client):
    user = server_client.users.create(email="Grace@Example.com", external_user_id="ext-1")

    assert user.email == "grace@example.com"
    assert user.created_at.tzinfo is not None
    assert abs(datetime.now(UTC) - user.created_at) < timedelta(minutes=1)
    assert server_client.users.get(user.id) == user

    updated = server_client.users.update(user.id, first_name="Grace", external_user_id=None)
    assert (updated.first_name, updated.external_user_id, updated.email) == (
        "Grace",
        None,
        "grace@example.com",
    )

    server_client.users.delete(user.id)
    assert list(server_client.users.list()) == []


def test_workouts_round_trip_with_dates_datetimes_and_strings(server_client):
    user = server_client.users.create()
    late_on_the_seventh = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    stored = server_client.workouts.create(
        user.id,
        [
            NewWorkout(
                type="running",
                start_time=late_on_the_seventh,
                end_time=late_on_the_seventh + timedelta(minutes=30),
                external_id="run-1",
                calories_kcal=300.5,
                device="Apple Watch Series 9",
            ),
            {
                "type": "cycling",
                "start_time": "2026-03-09T08:00:00Z",
                "end_time": "2026-03-09T09:00:00Z",
            },
        ],
    )
    assert (stored.created, stored.updated) == (2, 0)
    run = stored.data[0]
    assert run.start_time == late_on_the_seventh
    assert run.duration_seconds == 1800
    assert run.source.device == "Apple Watch Series 9"

    # A date end includes its whole day.
    seventh = list(server_client.workouts.list(user.id, date(2026, 3, 7), date(2026, 3, 7)))
    assert [workout.id for workout in seventh] == [run.id]
    # An aware datetime keeps its offset: 00:30+02:00 on the 8th is 22:30Z on the 7th.
    plus_two = timezone(timedelta(hours=2))
    after = list(
        server_client.workouts.list(
            user.id, datetime(2026, 3, 8, 0, 30, tzinfo=plus_two), "2026-03-10"
        )
    )
    assert [workout.type for workout in after] == ["running", "cycling"]

    server_client.workouts.delete(user.id, run.id)
    remaining = server_client.workouts.list(user.id, "2026-03-01", "2026-03-31", page_size=1)
    assert [workout.type for workout in remaining] == ["cycling"]


def test_workouts_list_iterates_over_cursor_pages(server_client):
    user = server_client.users.create()
    start = datetime(2026, 3, 1, 6, tzinfo=UTC)
    server_client.workouts.create(
        user.id,
        [
            NewWorkout(
                type="walk",
                start_time=start + timedelta(hours=n),
                end_time=start + timedelta(hours=n, minutes=10),
            )
            for n in range(7)
        ],
    )

    listed = list(
        server_client.workouts.list(user.id, date(2026, 3, 1), date(2026, 3, 1), page_size=3)
    )

    assert [workout.start_time for workout in listed] == [
        start + timedelta(hours=n) for n in range(7)
    ]


def test_naive_datetimes_are_refused_before_sending(server_client):
    with pytest.raises(ValueError, match="naive datetime"):
        list(server_client.workouts.list("any", datetime(2026, 3, 1), date(2026, 3, 2)))


@pytest.mark.parametrize("user_id", ["", ".", ".."], ids=["empty", "dot", "dot-dot"])
def test_ids_that_would_change_the_path_are_refused_before_sending(live, server_client, user_id):
    calls = [
        lambda: server_client.users.get(user_id),
        lambda: server_client.users.update(user_id, first_name="x"),
        lambda: server_client.users.delete(user_id),
        lambda: list(server_client.workouts.list(user_id, "2026-03-01", "2026-03-02")),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="is not an id"):
            call()

    assert live.paths == []


@pytest.mark.parametrize(
    ("user_id", "sent"),
    [
        ("a/b", "a%2Fb"),
        ("a?b", "a%3Fb"),
        ("a#b", "a%23b"),
        ("%2E%2E", "%252E%252E"),
        ("100%", "100%25"),
        ("...", "..."),
    ],
)
def test_reserved_characters_stay_inside_the_id_segment(live, server_client, user_id, sent):
    with pytest.raises(NotFound):
        server_client.users.get(user_id)

    assert live.paths == [f"/api/v1/users/{sent}"]


def test_timeseries_round_trip(server_client):
    user = server_client.users.create()
    at = datetime(2026, 3, 7, 10, tzinfo=UTC)
    samples = [NewSample("heart_rate", at + timedelta(minutes=n), 60 + n) for n in range(5)]
    samples.append(NewSample("steps", at, 1200, unit="count"))

    assert server_client.timeseries.create(user.id, samples) == 6

    heart = list(
        server_client.timeseries.list(user.id, at, "2026-03-07", types=["heart_rate"], page_size=2)
    )
    assert [(point.value, point.unit) for point in heart] == [(60.0 + n, "bpm") for n in range(5)]
    assert heart[0].time == at
    assert (
        len(list(server_client.timeseries.list(user.id, date(2026, 3, 7), date(2026, 3, 7)))) == 6
    )


def test_requests_carry_a_user_agent_naming_the_client_and_version(live, server_client):
    server_client.users.create()

    assert live.user_agents[-1].startswith(f"openwearables-python/{__version__} ")


def test_api_key_lifecycle_through_a_developer_login(live, admin_client):
    created = admin_client.api_keys.create("Nightly export", environment="test")
    assert created.key.startswith("ow_test_")
    assert created.created_at.tzinfo is not None
    assert created.key not in repr(created)

    with OpenWearables(live.url, api_key=created.key) as export:
        assert list(export.users.list()) == []

        renamed = admin_client.api_keys.rename(created.id, "Nightly export v2")
        assert renamed.name == "Nightly export v2"
        assert [key.name for key in admin_client.api_keys.list()] == ["Nightly export v2"]

        rotated = admin_client.api_keys.rotate(created.id)
        with pytest.raises(Unauthorized):
            list(export.users.list())
    with OpenWearables(live.url, api_key=rotated.key) as export:
        assert list(export.users.list()) == []
        admin_client.api_keys.delete(created.id)
        with pytest.raises(Unauthorized):
            list(export.users.list())


def test_a_restricted_key_its_grace_rotation_and_its_usage(app, live, admin_client):
    created = admin_client.api_keys.create(
        "Reports", scopes=["users:read"], allowed_ips=["127.0.0.1", "2001:db8::/32"]
    )
    assert created.scopes == ("users:read",)
    assert created.allowed_ips == ("127.0.0.1/32", "2001:db8::/32")

    with OpenWearables(live.url, api_key=created.key) as reports:
        assert list(reports.users.list()) == []
        with pytest.raises(Forbidden, match="users:write"):
            reports.users.create()

        moved = admin_client.api_keys.update(created.id, allowed_ips=["203.0.113.0/24"])
        assert moved.scopes == ("users:read",)  # what is not given stays
        with pytest.raises(Forbidden, match="not allowed from this IP address"):
            list(reports.users.list())
        lifted = admin_client.api_keys.update(created.id, scopes=None, allowed_ips=None)
        assert (lifted.scopes, lifted.allowed_ips) == (None, None)
        assert reports.users.create().id

        rotated = admin_client.api_keys.rotate(created.id, grace_seconds=600)
        assert rotated.previous_key_expires_at is not None
        assert list(reports.users.list())  # the previous secret works during the grace
    with OpenWearables(live.url, api_key=rotated.key) as reports:
        assert list(reports.users.list())

    usage_counter(app).flush()
    usage = admin_client.api_keys.usage(created.id, granularity="minute")
    assert usage.granularity == "minute"
    assert len(usage.buckets) >= 60
    assert usage.totals == {"2xx": 4, "4xx": 1, "429": 0, "5xx": 0}
    assert usage.routes["/api/v1/users"]["2xx"] == 4


def test_applications_and_minting_through_a_developer_login(live, admin_client):
    application = admin_client.applications.create("My Mobile App")
    user = admin_client.users.create(email="mia@example.com")

    with SdkSession.from_app_credentials(
        live.url, application.app_id, application.app_secret, user.id
    ) as session:
        assert session.get_user().email == "mia@example.com"

    rotated = admin_client.applications.rotate_secret(application.id)
    assert rotated.app_id == application.app_id
    assert rotated.app_secret != application.app_secret
    assert [app.name for app in admin_client.applications.list(page_size=1)] == ["My Mobile App"]

    pair = admin_client.sdk_tokens.mint(user.id)
    assert pair.refresh_token not in repr(pair)
    with SdkSession(
        live.url, user.id, access_token=pair.access_token, refresh_token=pair.refresh_token
    ) as session:
        assert session.get_user().id == user.id

    admin_client.applications.delete(application.id)
    assert list(admin_client.applications.list()) == []


def test_logout_ends_the_developer_session(live, admin):
    pairs = []
    client = OpenWearables.login(live.url, ADMIN_EMAIL, ADMIN_PASSWORD, on_tokens=pairs.append)

    client.logout()

    stale = OpenWearables(live.url, api_key=pairs[0].access_token)
    with stale, pytest.raises(Unauthorized) as refused:
        list(stale.applications.list())
    assert refused.value.detail == "Token has been revoked."
