"""What an admin does in the dashboard, in Chromium against gunicorn: every action is
checked in the page and, where it matters, against the API itself."""

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import Page, expect

from app.core.auth import API_KEY_SCOPES
from tests.support.auth import developer_token
from tests.support.browser import SHORT_ACCESS_TOKEN_SECONDS, USAGE_FLUSH_SECONDS, VIEWPORT, Visit
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.servers import wait_for

pytestmark = pytest.mark.slow
NEW_PASSWORD = "a much longer passphrase of my own"


def api(base: str, method: str, path: str, credential: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {credential}"}
    return requests.request(method, base + path, headers=headers, timeout=30, **kwargs)


def signed_in(visit: Visit, path: str = "/dashboard") -> Page:
    visit.open(path)
    visit.sign_in()
    expect(visit.page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    return visit.page


def shown_secret(page: Page, label: str) -> str:
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("you will not see it again").first).to_be_visible()
    return dialog.get_by_role("textbox", name=label).input_value()


def test_sign_in_shows_the_api_error_then_signs_in(visit):
    page = visit.page
    response = visit.open("/")

    assert page.url == visit.base + "/dashboard"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    visit.sign_in(password="not the password at all")
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password")
    visit.sign_in()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    expect(page.get_by_text("Ada Lovelace")).to_be_visible()
    cookie = visit.refresh_cookie()
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/api/v1/auth"
    assert page.evaluate("document.cookie") == ""
    visit.assert_nothing_leaked()


def test_api_key_secret_is_shown_once_and_rotation_kills_the_old_one(visit):
    page = signed_in(visit)
    page.get_by_role("button", name="Create API key").click()
    page.get_by_label("Name", exact=True).fill("Production Server")
    page.get_by_role("dialog").get_by_role("button", name="Create API key").click()
    secret = shown_secret(page, "API key")

    assert secret.startswith("ow_live_")
    page.get_by_role("button", name="Copy API key").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert api(visit.base, "GET", "/api/v1/users", secret).status_code == 200
    page.get_by_role("button", name="Done").click()
    row = page.get_by_role("row", name=re.compile("Production Server"))
    expect(row).to_contain_text(secret[:12])
    page.reload()
    expect(page.get_by_role("row", name=re.compile("Production Server"))).to_be_visible()
    assert secret not in page.content()

    page.get_by_role("button", name="Rotate Production Server").click()
    expect(page.get_by_role("dialog")).to_contain_text("stops working immediately")
    page.get_by_role("button", name="Rotate key").click()
    rotated = shown_secret(page, "API key")
    assert rotated != secret
    assert api(visit.base, "GET", "/api/v1/users", secret).status_code == 401
    assert api(visit.base, "GET", "/api/v1/users", rotated).status_code == 200
    page.get_by_role("button", name="Done").click()

    page.get_by_role("button", name="Rename Production Server").click()
    page.get_by_label("Name", exact=True).fill("Billing Server")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("row", name=re.compile("Billing Server"))).to_be_visible()
    page.get_by_role("button", name="Delete Billing Server").click()
    page.get_by_role("button", name="Delete key").click()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    assert api(visit.base, "GET", "/api/v1/users", rotated).status_code == 401
    visit.assert_nothing_leaked()


def test_a_restricted_key_is_made_and_narrowed_in_the_dashboard(visit):
    page = signed_in(visit)
    page.get_by_role("button", name="Create API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("Reporting")
    scope_boxes = dialog.get_by_role("group", name="Scopes").get_by_role("checkbox")
    labels = [box.evaluate("b => b.labels[0].textContent") for box in scope_boxes.all()]
    assert [label.split(": ")[0] for label in labels] == list(API_KEY_SCOPES)
    dialog.get_by_label("users:read: Read users").check()
    dialog.get_by_label("data:read: Read workouts and time series").check()
    dialog.get_by_label("Allowed IPs").fill("127.0.0.1\n2001:DB8::/32\n")
    dialog.get_by_role("button", name="Create API key").click()
    secret = shown_secret(page, "API key")
    page.get_by_role("button", name="Done").click()

    token = developer_token(visit.base)
    [record] = [
        k
        for k in api(visit.base, "GET", "/api/v1/api-keys", token).json()
        if k["name"] == "Reporting"
    ]
    assert record["scopes"] == ["users:read", "data:read"]
    assert record["allowed_ips"] == ["127.0.0.1/32", "2001:db8::/32"]
    row = page.get_by_role("row", name=re.compile("Reporting"))
    expect(row).to_contain_text("users:read, data:read")
    expect(row).to_contain_text("from 127.0.0.1/32, 2001:db8::/32")
    # Every action of the row is on screen, none hidden past the table's scroll edge.
    table = page.locator(".table-wrap").bounding_box()
    for action in row.locator(".row-actions > *").all():
        box = action.bounding_box()
        assert table["x"] <= box["x"]
        assert box["x"] + box["width"] <= table["x"] + table["width"]
    assert api(visit.base, "GET", "/api/v1/users", secret).status_code == 200
    created = api(visit.base, "POST", "/api/v1/users", secret, json={"external_user_id": "r"})
    assert created.status_code == 403

    page.get_by_role("button", name="Restrict Reporting").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("users:read: Read users")).to_be_checked()
    dialog.get_by_label("Allowed IPs").fill("203.0.113.0/24")
    dialog.get_by_role("button", name="Save restrictions").click()
    expect(row).to_contain_text("from 203.0.113.0/24")
    refused = api(visit.base, "GET", "/api/v1/users", secret)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "This API key is not allowed from this IP address."}
    visit.assert_nothing_leaked()


def test_application_secret_is_shown_once_and_mints_sdk_tokens(visit):
    page = signed_in(visit, "/dashboard/applications")
    expect(page.get_by_text("No applications yet")).to_be_visible()
    page.get_by_role("button", name="Create application").click()
    page.get_by_label("Name", exact=True).fill("My Mobile App")
    page.get_by_role("dialog").get_by_role("button", name="Create application").click()
    app_secret = shown_secret(page, "App secret")
    app_id = page.get_by_role("dialog").locator("code").inner_text()
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("row", name=re.compile("My Mobile App"))).to_contain_text(app_id)

    token = developer_token(visit.base)
    user = api(visit.base, "POST", "/api/v1/users", token, json={}).json()
    credentials = {"app_id": app_id, "app_secret": app_secret}
    user_path = f"/api/v1/users/{user['id']}"
    mint = requests.post(f"{visit.base}{user_path}/token", json=credentials, timeout=30)
    assert mint.status_code == 200

    page.get_by_role("button", name="Rotate secret of My Mobile App").click()
    page.get_by_label(re.compile("Also sign out every SDK session")).check()
    page.get_by_role("dialog").get_by_role("button", name="Rotate secret").click()
    rotated = shown_secret(page, "App secret")
    assert rotated != app_secret
    sdk_token = mint.json()["access_token"]
    assert api(visit.base, "GET", user_path, sdk_token).status_code == 401
    visit.assert_nothing_leaked()


def test_users_page_shows_a_user_made_through_the_api_with_their_data(visit):
    token = developer_token(visit.base)
    user = api(
        visit.base,
        "POST",
        "/api/v1/users",
        token,
        json={"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"},
    ).json()
    api(visit.base, "POST", "/api/v1/users", token, json={"email": "alan@example.com"})
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    workout = {
        "type": "running",
        "name": "Morning run",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(minutes=45)).isoformat(),
        "distance_meters": 8200,
    }
    samples = [
        {"type": "heart_rate", "time": (start + timedelta(minutes=m)).isoformat(), "value": 120 + m}
        for m in range(30)
    ]
    base_path = f"/api/v1/users/{user['id']}"
    for path, data in (("/events/workouts", [workout]), ("/timeseries", samples)):
        assert api(visit.base, "POST", base_path + path, token, json={"data": data}).ok

    page = signed_in(visit, "/dashboard/users")
    expect(page.get_by_role("row")).to_have_count(3)
    page.get_by_label("Search users").fill("grace")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row")).to_have_count(2)
    page.get_by_role("link", name="Grace Hopper").click()

    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Morning run"))).to_contain_text("8.20 km")
    expect(page.get_by_role("img", name=re.compile("Heart rate: 30 samples"))).to_be_visible()
    page.get_by_label("Type").select_option("steps")
    expect(page.get_by_text("No steps samples in this range.")).to_be_visible()

    page.get_by_role("button", name="Generate SDK token").click()
    sdk_token = shown_secret(page, "Access token")
    assert api(visit.base, "GET", base_path, sdk_token).json()["email"] == "grace@example.com"
    visit.assert_nothing_leaked()


def shown_total(page: Page, label: str) -> str:
    totals = page.get_by_role("region", name="Totals")
    return (
        totals.locator("dl > div", has=page.get_by_text(label, exact=True))
        .locator("dd")
        .inner_text()
    )


def shown_counts(page: Page, row_header: str) -> list[str]:
    """The All, 2xx, 4xx, 429 and 5xx cells of a usage table's row."""
    header = page.get_by_role("rowheader", name=row_header, exact=True)
    return page.get_by_role("row").filter(has=header).get_by_role("cell").all_inner_texts()


def wait_for_usage(base: str, token: str, path: str, totals: dict[str, int]) -> None:
    wait_for(
        lambda: api(base, "GET", path, token).json()["totals"] == totals,
        seconds=10,
        what=f"the gunicorn workers' usage counts of {path} flushed",
    )


def test_usage_pages_show_the_requests_made_with_a_key_and_an_sdk_token(visit):
    token = developer_token(visit.base)
    # The server outlives each test: counts of the previous test's last requests may
    # reach Redis after it was emptied. Let them land, then count from there.
    time.sleep(USAGE_FLUSH_SECONDS * 3)
    before = api(visit.base, "GET", "/api/v1/usage", token).json()["totals"]
    made = {"2xx": 4, "4xx": 1, "429": 0, "5xx": 0}
    key = api(visit.base, "POST", "/api/v1/api-keys", token, json={"name": "Billing"}).json()
    user = api(visit.base, "POST", "/api/v1/users", token, json={}).json()
    user_path = f"/api/v1/users/{user['id']}"
    for _ in range(3):
        assert api(visit.base, "GET", "/api/v1/users", key["key"]).status_code == 200
    missing = f"/api/v1/users/{uuid.uuid4()}"
    assert api(visit.base, "GET", missing, key["key"]).status_code == 404
    sdk_token = api(visit.base, "POST", f"{user_path}/token", token).json()["access_token"]
    assert api(visit.base, "GET", user_path, sdk_token).status_code == 200
    wait_for_usage(visit.base, token, "/api/v1/usage", {k: before[k] + made[k] for k in made})

    page = signed_in(visit, "/dashboard/usage")
    expect(page.get_by_role("heading", name="Usage", exact=True)).to_be_visible()
    assert shown_total(page, "All requests") == str(sum(before.values()) + 5)
    assert shown_total(page, "4xx client error") == str(before["4xx"] + 1)
    chart = page.get_by_role("img", name=re.compile(r"Requests by status: 2[45] samples"))
    expect(chart.locator("path.series")).to_have_count(4)
    expect(page.get_by_role("list", name="Legend").get_by_role("listitem")).to_have_text(
        ["2xx success", "4xx client error", "429 rate limited", "5xx server error"]
    )
    assert shown_counts(page, "Billing") == ["4", "3", "1", "0", "0"]
    assert shown_counts(page, user["id"]) == ["1", "1", "0", "0", "0"]
    for route in api(visit.base, "GET", "/api/v1/usage", token).json()["routes"]:
        counts = [route[status] for status in ("2xx", "4xx", "429", "5xx")]
        assert shown_counts(page, route["route"]) == [str(n) for n in [sum(counts), *counts]]
    page.get_by_label("Period").select_option("minute")
    minutes = page.get_by_role("img", name=re.compile(r"Requests by status: 6[01] samples"))
    expect(minutes).to_be_visible()
    assert shown_counts(page, "Billing") == ["4", "3", "1", "0", "0"]

    assert api(visit.base, "GET", "/api/v1/users", key["key"]).status_code == 200
    key_usage = f"/api/v1/api-keys/{key['id']}/usage"
    wait_for_usage(visit.base, token, key_usage, {"2xx": 4, "4xx": 1, "429": 0, "5xx": 0})
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("row").filter(has_text="Billing")).to_contain_text("5410")

    page.get_by_role("link", name="API keys").click()
    page.get_by_role("link", name="Usage of Billing").click()
    expect(page.get_by_role("heading", name="Usage of Billing")).to_be_visible()
    assert shown_total(page, "All requests") == "5"
    assert shown_total(page, "2xx success") == "4"
    expect(page.get_by_text("At most 1 distinct IP in one hour.")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Distinct IPs per hour"))).to_be_visible()
    visit.assert_nothing_leaked()


def test_audit_log_reads_as_sentences(visit):
    page = signed_in(visit)
    page.get_by_role("button", name="Create API key").click()
    page.get_by_label("Name", exact=True).fill("Production Server")
    page.get_by_role("dialog").get_by_role("button", name="Create API key").click()
    shown_secret(page, "API key")
    page.get_by_role("button", name="Done").click()

    page.get_by_role("link", name="Audit log").click()
    events = page.get_by_role("list", name="Events").get_by_role("listitem")
    expect(events.first).to_contain_text(
        re.compile(
            r"Ada Lovelace created API key Production Server \(ow_live_\w+…\) from 127\.0\.0\.1\."
        )
    )
    expect(page.get_by_text("Ada Lovelace signed in from 127.0.0.1.")).to_be_visible()
    page.get_by_label("Action").select_option("developer.login")
    expect(events).to_have_count(1)
    expect(events).to_contain_text("Ada Lovelace signed in from 127.0.0.1.")
    visit.assert_nothing_leaked()


def test_sign_out_ends_the_session_for_good(visit):
    page = signed_in(visit)
    refresh_token = visit.refresh_cookie()["value"]

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert [c for c in visit.context.cookies() if c["name"] == "ow_refresh_token"] == []
    replay = requests.post(
        visit.base + "/api/v1/auth/refresh", json={"refresh_token": refresh_token}, timeout=30
    )
    assert replay.status_code == 401
    visit.assert_nothing_leaked()


def refresh_statuses(visit: Visit) -> list[int]:
    return [status for url, status in visit.api_statuses if url.endswith("/api/v1/auth/refresh")]


def test_a_session_outlives_its_access_tokens(short_visit):
    page = signed_in(short_visit)
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    short_visit.api_statuses.clear()  # the refresh tried before signing in had no cookie

    time.sleep(SHORT_ACCESS_TOKEN_SECONDS * 2.5)
    page.get_by_role("link", name="Applications").click()
    expect(page.get_by_text("No applications yet")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()

    assert len(refresh_statuses(short_visit)) >= 3
    assert set(refresh_statuses(short_visit)) == {200}
    short_visit.assert_nothing_leaked()


def test_two_tabs_share_one_session_without_tripping_reuse_detection(short_visit):
    first = signed_in(short_visit)
    short_visit.api_statuses.clear()  # the refresh tried before signing in had no cookie
    second = short_visit.new_page()
    short_visit.open("/dashboard/users", page=second)
    expect(second.get_by_role("heading", name="Users")).to_be_visible()

    time.sleep(SHORT_ACCESS_TOKEN_SECONDS * 2.5)
    # Both tabs reload at the same moment: each one's start-up refresh sends the cookie,
    # and without coordination the second would present the token the first just used.
    for page in (first, second):
        page.evaluate("setTimeout(() => location.reload(), 0)")
    expect(first.get_by_role("heading", name="API keys")).to_be_visible()
    expect(second.get_by_role("heading", name="Users")).to_be_visible()
    second.get_by_role("link", name="Account").click()
    expect(second.get_by_role("row", name=re.compile("this session"))).to_be_visible()

    statuses = refresh_statuses(short_visit)
    assert set(statuses) == {200}, statuses
    token = developer_token(short_visit.base)
    sessions = api(short_visit.base, "GET", "/api/v1/auth/sessions", token).json()
    assert len(sessions["items"]) == 2  # the tabs' session, still alive, and this one
    short_visit.assert_nothing_leaked()


def test_account_changes_the_password_and_ends_other_sessions(visit):
    other_session = developer_token(visit.base)
    page = signed_in(visit, "/dashboard/account")
    sessions = page.get_by_role("table").get_by_role("row")
    expect(sessions).to_have_count(3)  # the header, this session, the other one
    expect(page.get_by_role("row", name=re.compile("this session"))).to_be_visible()

    page.get_by_role("button", name="Sign out everywhere else").click()
    page.get_by_role("button", name="Sign out other sessions").click()
    expect(sessions).to_have_count(2)
    assert api(visit.base, "GET", "/api/v1/auth/me", other_session).status_code == 401

    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Current password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed.")).to_be_visible()

    page.get_by_role("button", name="Sign out", exact=True).click()
    visit.sign_in(password=NEW_PASSWORD)
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    visit.assert_nothing_leaked()


def test_team_invites_a_developer_who_joins_and_is_removed(visit, chromium):
    page = signed_in(visit, "/dashboard/team")
    expect(page.get_by_text("No pending invitations.")).to_be_visible()
    page.get_by_role("button", name="Invite", exact=True).click()
    page.get_by_role("dialog").get_by_label("Email").fill("grace@example.com")
    page.get_by_role("dialog").get_by_role("button", name="Invite").click()
    accept_url = shown_secret(page, "Invitation link")
    assert "/dashboard/accept-invitation#token=" in accept_url
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_role("row", name=re.compile("grace@example.com"))).to_be_visible()

    newcomer = chromium.new_context(viewport=VIEWPORT)
    joining = newcomer.new_page()
    joining.goto(accept_url)
    joining.get_by_label("First name").fill("Grace")
    assert "#" not in joining.url  # the token left the address bar
    joining.get_by_label("Last name").fill("Hopper")
    joining.get_by_label("Password").fill(NEW_PASSWORD)
    joining.get_by_role("button", name="Create my account").click()
    expect(joining.get_by_text("Your account grace@example.com is ready.")).to_be_visible()
    newcomer.close()

    page.reload()
    expect(page.get_by_text("No pending invitations.")).to_be_visible()
    page.get_by_role("button", name="Remove Grace Hopper").click()
    page.get_by_role("dialog").get_by_label("Your password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Remove developer").click()
    expect(page.get_by_role("row", name=re.compile("Grace Hopper"))).to_have_count(0)
    login = requests.post(
        visit.base + "/api/v1/auth/login",
        data={"username": "grace@example.com", "password": NEW_PASSWORD},
        timeout=30,
    )
    assert login.status_code == 401
    visit.assert_nothing_leaked()


def test_a_rate_limited_call_says_when_to_retry(visit):
    page = signed_in(visit)
    page.route(
        "**/api/v1/applications?*",
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": "17"},
            json={"detail": "Rate limit exceeded: 1000 per 1 minute"},
        ),
    )
    page.get_by_role("link", name="Applications").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Rate limit exceeded: 1000 per 1 minute. Try again in 17 seconds."
    )


def test_forgotten_password_pages(visit):
    page = visit.page
    visit.open("/dashboard")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("status")).to_contain_text(f"If {ADMIN_EMAIL} belongs to an account")

    visit.open("/dashboard/reset-password#token=not-a-real-token")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert "token" not in page.url
    visit.assert_nothing_leaked()


def test_a_session_ended_elsewhere_goes_back_to_sign_in_with_a_message(visit):
    page = signed_in(visit)
    other_device = developer_token(visit.base)
    assert api(visit.base, "DELETE", "/api/v1/auth/sessions", other_device).status_code == 204

    page.get_by_role("link", name="Users").click()

    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Your session has ended. Please sign in again.")).to_be_visible()
    visit.sign_in()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    visit.assert_nothing_leaked()
