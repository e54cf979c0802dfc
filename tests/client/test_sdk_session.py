"""`SdkSession`: one end user's tokens, refreshed before expiry, after a 401 and across
threads without ever presenting a refresh token twice; 429s waited out."""

import threading
import time
from datetime import date

import pytest
from openwearables import (
    Forbidden,
    NewWorkout,
    OpenWearables,
    RateLimited,
    SdkSession,
    SessionExpired,
)

from tests.client.conftest import refresh_token_rows_by_family
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.factories import create_user, mint_with_app

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
RUN = NewWorkout(type="running", start_time="2026-03-07T07:00:00Z", end_time="2026-03-07T07:45:00Z")


def _in_threads(count: int, call) -> list:
    """Run `call` in `count` threads released at the same instant; their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_a_session_from_app_credentials_reads_and_writes_its_users_data(live, application, user):
    pairs = []
    with SdkSession.from_app_credentials(
        live.url,
        application["app_id"],
        application["app_secret"],
        user["id"],
        on_tokens=pairs.append,
    ) as session:
        assert session.workouts.create([RUN]).created == 1
        assert [workout.type for workout in session.workouts.list(*MARCH)] == ["running"]
        assert (
            session.timeseries.create(
                [{"type": "steps", "time": "2026-03-07T08:00:00Z", "value": 10}]
            )
            == 1
        )
        assert [point.value for point in session.timeseries.list(*MARCH)] == [10.0]
    assert [pair.access_token for pair in pairs] == [session.access_token]


@pytest.mark.parametrize(
    "config_overrides",
    [{"SDK_TOKEN_EXPIRES_SECONDS": 5, "ACCESS_TOKEN_EXPIRES_SECONDS": 5}],
)
def test_sessions_outlive_5_second_tokens_with_one_refresh_for_many_threads(
    app, live, admin, application, user
):
    sdk_pairs, developer_pairs = [], []
    session = SdkSession.from_app_credentials(
        live.url,
        application["app_id"],
        application["app_secret"],
        user["id"],
        on_tokens=sdk_pairs.append,
    )
    admin_client = OpenWearables.login(
        live.url, ADMIN_EMAIL, ADMIN_PASSWORD, on_tokens=developer_pairs.append
    )
    with session, admin_client:
        session.workouts.create([RUN])
        assert len(list(admin_client.users.list())) == 1

        time.sleep(5.5)
        results = _in_threads(6, lambda: [w.type for w in session.workouts.list(*MARCH)])
        assert results == [["running"]] * 6
        assert len(list(admin_client.users.list())) == 1

        # Exactly one refresh per session: the mint or login row plus one rotation.
        assert refresh_token_rows_by_family(app, user["id"]) == [2]
        # The developer's: the fixtures' login (never refreshed), the client's login + one.
        assert refresh_token_rows_by_family(app, admin["id"]) == [1, 2]
        assert len(sdk_pairs) == len(developer_pairs) == 2
        assert session.refresh_token == sdk_pairs[-1].refresh_token != sdk_pairs[0].refresh_token


def test_a_401_refreshes_once_and_retries_once_even_from_many_threads(
    app, live, client, application, user
):
    minted = mint_with_app(client, user["id"], application).get_json()
    pairs = []
    # A stored access token the server no longer accepts: every thread's first call is a 401.
    session = SdkSession(
        live.url,
        user["id"],
        access_token="not-a-valid-token",
        refresh_token=minted["refresh_token"],
        on_tokens=pairs.append,
    )
    with session:
        results = _in_threads(5, lambda: session.get_user().id)

    assert results == [user["id"]] * 5
    assert refresh_token_rows_by_family(app, user["id"]) == [2]
    assert [pair.refresh_token for pair in pairs] == [session.refresh_token]


def test_a_refused_refresh_raises_session_expired_and_stays_expired(live, user):
    session = SdkSession(live.url, user["id"], access_token="stale", refresh_token="rt_unknown")

    with session:
        with pytest.raises(SessionExpired) as first:
            session.get_user()
        with pytest.raises(SessionExpired):
            list(session.workouts.list(*MARCH))

    assert (first.value.status, first.value.detail) == (401, "Invalid refresh token.")


def test_another_users_data_is_403(live, client, admin_headers, application, user):
    other = create_user(client, admin_headers, email="other@example.com")
    minted = mint_with_app(client, user["id"], application).get_json()
    pointed_at_other = SdkSession(
        live.url,
        other["id"],
        access_token=minted["access_token"],
        refresh_token=minted["refresh_token"],
    )

    with pointed_at_other, pytest.raises(Forbidden) as refused:
        list(pointed_at_other.workouts.list(*MARCH))

    assert refused.value.status == 403
    assert refused.value.detail == "This SDK token is not valid for this user."


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_SDK_USER": "5 per 2 seconds"}])
def test_a_burst_past_the_sdk_limit_completes_by_waiting(live, application, user):
    credentials = (live.url, application["app_id"], application["app_secret"], user["id"])
    impatient = SdkSession.from_app_credentials(*credentials, rate_limit_retries=0)
    with impatient:
        for _ in range(5):
            impatient.get_user()
        with pytest.raises(RateLimited) as limited:
            impatient.get_user()
    assert limited.value.status == 429
    assert 1 <= limited.value.retry_after <= 2
    assert limited.value.detail.startswith("Rate limit exceeded")

    started = time.monotonic()
    with SdkSession.from_app_credentials(*credentials) as patient:
        users = [patient.get_user().id for _ in range(8)]

    assert users == [user["id"]] * 8
    assert time.monotonic() - started >= 2
