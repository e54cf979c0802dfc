"""Regenerate docs/screenshots/: every dashboard page at 1280x800 in Debian's Chromium.

`make screenshots` runs this against a throwaway SQLite database and gunicorn, filled
through the API with made-up people and data. Secrets the dashboard shows once are
replaced by an obviously fake value before the picture is taken.
"""

import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from playwright.sync_api import Page, expect, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.support.environment import REPO
from tests.support.ports import free_port
from tests.support.servers import VENV_BIN, serving

EMAIL = "ada@example.com"
PASSWORD = "screenshots only, not a real password"
FAKE_SECRETS = {
    "API key": "ow_live_EXAMPLEexampleEXAMPLEexample000000",
    "App secret": "secret_EXAMPLEexampleEXAMPLEexample000000",
    "Invitation link": "https://wearables.example.com/dashboard/accept-invitation#token=EXAMPLE",
}
PEOPLE = [
    ("Grace", "Hopper", "grace@example.com", "crm-1001"),
    ("Alan", "Turing", "alan@example.com", "crm-1002"),
    ("Katherine", "Johnson", "katherine@example.com", "crm-1003"),
    ("Edsger", "Dijkstra", "edsger@example.com", "crm-1004"),
    ("Barbara", "Liskov", "barbara@example.com", None),
]


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}", "User-Agent": "Firefox on macOS"}

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method, self.base + path, headers=self.headers, timeout=30, **kwargs
        )


def prepare_database(env: dict[str, str]) -> None:
    flask = str(VENV_BIN / "flask")
    subprocess.run([flask, "db", "upgrade"], cwd=REPO, env=env, check=True, capture_output=True)
    admin = [
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
    ]
    subprocess.run(
        [flask, "create-admin", *admin],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )


def login(base: str, user_agent: str) -> str:
    response = requests.post(
        base + "/api/v1/auth/login",
        data={"username": EMAIL, "password": PASSWORD},
        headers={"User-Agent": user_agent},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def seed(base: str) -> str:
    """Made-up keys, applications, users with a month of data, and a pending invitation;
    returns the id of the user whose page is shown."""
    api = Api(base, login(base, "Firefox on macOS"))
    production = api.call("POST", "/api/v1/api-keys", json={"name": "Production Server"}).json()
    expiry = (datetime.now(UTC) + timedelta(days=90)).isoformat()
    staging = api.call(
        "POST",
        "/api/v1/api-keys",
        json={"name": "Staging worker", "environment": "test", "expires_at": expiry},
    ).json()
    for name in ("iOS app", "Android app"):
        api.call("POST", "/api/v1/applications", json={"name": name})
    user_ids = []
    for first, last, email, external in PEOPLE:
        person = {"first_name": first, "last_name": last, "email": email}
        if external:
            person["external_user_id"] = external
        user_ids.append(api.call("POST", "/api/v1/users", json=person).json()["id"])
    shown = user_ids[0]
    today = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    workouts = [
        {
            "type": "running" if day % 2 else "cycling",
            "name": "Morning run" if day % 2 else "Commute",
            "start_time": (today - timedelta(days=day)).isoformat(),
            "end_time": (today - timedelta(days=day, minutes=-35 - day)).isoformat(),
            "distance_meters": 5200 + 150 * day,
            "calories_kcal": 310 + 9 * day,
            "avg_heart_rate_bpm": 138 + day % 7,
            "source": {"provider": "garmin", "device": "Forerunner 265"},
        }
        for day in range(1, 13)
    ]
    api.call("POST", f"/api/v1/users/{shown}/events/workouts", json={"data": workouts})
    start = datetime.now(UTC) - timedelta(days=6)
    heart_rate = []
    for step in range(6 * 72):
        time_of_sample = start + timedelta(minutes=20 * step)
        hour = time_of_sample.hour + time_of_sample.minute / 60
        resting = 64 + 10 * math.sin((hour - 9) / 24 * 2 * math.pi) + 3 * math.sin(step * 1.7)
        workout = 70 if 7 <= hour < 8 else 0
        sample = {"time": time_of_sample.isoformat(), "value": round(resting + workout, 1)}
        heart_rate.append({"type": "heart_rate", **sample})
    api.call("POST", f"/api/v1/users/{shown}/timeseries", json={"data": heart_rate})
    sdk_token = api.call("POST", f"/api/v1/users/{shown}/token").json()["access_token"]
    make_traffic(base, [production["key"], staging["key"]], sdk_token, user_ids)
    time.sleep(1.5)  # the in-process flushes (LAST_USED_ and USAGE_FLUSH_SECONDS) record it
    joined = api.call("POST", "/api/v1/invitations", json={"email": "grace@example.com"}).json()
    requests.post(
        base + "/api/v1/invitations/accept",
        json={
            "token": joined["accept_url"].partition("#token=")[2],
            "password": "another screenshots-only password",
            "first_name": "Grace",
            "last_name": "Hopper",
        },
        timeout=30,
    ).raise_for_status()
    api.call("POST", "/api/v1/invitations", json={"email": "alan@example.com"})
    login(base, "Safari on iPhone")
    return shown


def make_traffic(base: str, keys: list[str], sdk_token: str, user_ids: list[str]) -> None:
    """Requests with the API keys and an SDK token, some refused, for the usage pages."""
    production, staging = (Api(base, key) for key in keys)
    sdk = Api(base, sdk_token)
    for round_number in range(12):
        production.call("GET", "/api/v1/users")
        for user_id in user_ids:
            production.call("GET", f"/api/v1/users/{user_id}")
        if round_number % 3 == 0:
            staging.call("GET", f"/api/v1/users/{uuid.uuid4()}")  # 404
            production.call("GET", "/api/v1/users", params={"limit": 0})  # 422
        sdk.call("GET", f"/api/v1/users/{user_ids[0]}")
        week = {"start_date": (date.today() - timedelta(days=7)).isoformat()}
        week["end_date"] = date.today().isoformat()
        sdk.call("GET", f"/api/v1/users/{user_ids[0]}/events/workouts", params=week)


def fake_secrets(page: Page) -> None:
    dialog = page.get_by_role("dialog")
    for label, fake in FAKE_SECRETS.items():
        field = dialog.get_by_role("textbox", name=label)
        if field.count():
            field.evaluate("(input, fake) => { input.value = fake; }", fake)


def take(page: Page, out: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out / f"{name}.png"))
    print(f"docs/screenshots/{name}.png")


def shoot(base: str, user_id: str, out: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT, user_agent="Chrome on Linux")
        page = context.new_page()
        page.goto(base + "/dashboard")
        page.get_by_label("Email").fill(EMAIL)
        take(page, out, "sign-in")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        take(page, out, "api-keys")

        page.get_by_role("button", name="Create API key").click()
        page.get_by_label("Name", exact=True).fill("Data pipeline")
        page.get_by_role("dialog").get_by_role("button", name="Create API key").click()
        expect(page.get_by_role("dialog").get_by_text("you will not see it again")).to_be_visible()
        fake_secrets(page)
        take(page, out, "api-key-created")
        page.get_by_role("button", name="Done").click()

        page.get_by_role("button", name="Rotate Production Server").click()
        take(page, out, "api-key-rotate")
        page.get_by_role("button", name="Cancel").click()

        page.get_by_role("link", name="Usage of Production Server").click()
        expect(page.get_by_role("region", name="Totals")).to_be_visible()
        take(page, out, "api-key-usage")

        for path, name in [
            ("/applications", "applications"),
            ("/users", "users"),
            (f"/users/{user_id}", "user"),
            ("/usage", "usage"),
            ("/audit", "audit-log"),
            ("/account", "account"),
            ("/team", "team"),
        ]:
            page.goto(base + "/dashboard" + path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            take(page, out, name)

        page.get_by_role("button", name="Sign out").click()
        for path, name in [
            ("/forgot-password", "forgot-password"),
            ("/accept-invitation#token=EXAMPLE", "accept-invitation"),
        ]:
            page.goto(base + "/dashboard" + path)
            take(page, out, name)
        browser.close()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{work}/screenshots.db",
            "PUBLIC_BASE_URL": "https://wearables.example.com",
            "LAST_USED_FLUSH_SECONDS": "1",
            "USAGE_FLUSH_SECONDS": "1",
        }
        env.pop("REDIS_URL", None)
        prepare_database(env)
        command = [str(VENV_BIN / "gunicorn"), "--workers", "1", "--threads", "4"]
        command += ["--bind", f"127.0.0.1:{port}", "wsgi:app"]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        with serving(command, env, port, **quiet) as base:
            user_id = seed(base)
            shoot(base, user_id, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "screenshots")
