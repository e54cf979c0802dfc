"""A web app on another origin, in a real browser: CORS lets an allowed origin read
workouts with an SDK token (and its rate-limit budget); any other origin is blocked."""

import pytest

from tests.factories import create_user, sdk_tokens_for
from tests.servers import free_port

pytestmark = pytest.mark.slow

SDK_LIMIT = 5


@pytest.fixture
def web_app_port() -> int:
    return free_port()


@pytest.fixture
def config_overrides(web_app_port):
    return {
        "CORS_ALLOWED_ORIGINS": (f"http://127.0.0.1:{web_app_port}",),
        "RATELIMIT_SDK_USER": f"{SDK_LIMIT} per minute",
    }


@pytest.fixture
def runner(client, admin_headers):
    """A user with one March workout, and an SDK token pair as a back end would mint it."""
    user = create_user(client, admin_headers, email="runner@example.com")
    workout = {
        "type": "running",
        "name": "Morning run",
        "start_time": "2026-03-07T07:00:00Z",
        "end_time": "2026-03-07T07:45:00Z",
    }
    response = client.post(
        f"/api/v1/users/{user['id']}/events/workouts",
        json={"data": [workout]},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.get_json()
    return user, sdk_tokens_for(client, admin_headers, user["id"])


def open_web_app(chromium, site: str, api: str, user_id: str, token: str) -> str:
    page = chromium.new_page()
    try:
        page.goto(f"{site}/cors_page.html#api={api}&user={user_id}&token={token}")
        page.wait_for_function(
            "document.getElementById('result').textContent !== 'loading…'", timeout=15000
        )
        return page.inner_text("#result")
    finally:
        page.close()


def test_an_allowed_origin_reads_workouts_and_its_budget(
    chromium, live_api, static_site, web_app_port, runner
):
    user, tokens = runner

    with static_site(web_app_port) as site:
        shown = open_web_app(chromium, site, live_api, user["id"], tokens["access_token"])

    # The browser's preflight was not counted: the one real call left limit - 1.
    assert shown == f"status=200 remaining={SDK_LIMIT - 1} workouts=Morning run"


def test_another_origin_is_blocked(chromium, live_api, static_site, runner):
    user, tokens = runner

    with static_site(free_port()) as site:
        shown = open_web_app(chromium, site, live_api, user["id"], tokens["access_token"])

    assert shown.startswith("blocked: TypeError: Failed to fetch")
