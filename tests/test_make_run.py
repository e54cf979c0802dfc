"""`make run` on the embedded defaults (SQLite, no Redis, eager Celery) serves and logs in."""

import json
import os
import re
import subprocess
import time

import pytest
import requests

from tests.support.auth import bearer
from tests.support.ports import free_port
from tests.support.servers import serving

MAKE_RUN_LOG = "make-run.log"


@pytest.fixture
def make_run(tmp_path):
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL", "APP_ENV"}
    }
    env.update(
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
        ADMIN_EMAIL="newcomer@example.com",
        ADMIN_PASSWORD="a newcomer's password",
        LAST_USED_FLUSH_SECONDS="1",
    )
    command = ["make", "--no-print-directory", "run"]
    with (
        (tmp_path / MAKE_RUN_LOG).open("w") as log,
        serving(command, env, port, stdout=log, stderr=subprocess.STDOUT) as base,
    ):
        yield base, env


@pytest.mark.slow
def test_make_run_serves_login_and_me_with_embedded_defaults(make_run):
    base, env = make_run

    login = requests.post(
        base + "/api/v1/auth/login",
        data={"username": env["ADMIN_EMAIL"], "password": env["ADMIN_PASSWORD"]},
        timeout=10,
    )
    assert login.status_code == 200
    tokens = login.json()
    assert set(tokens) == {"access_token", "token_type", "refresh_token", "expires_in"}

    me = requests.get(
        base + "/api/v1/auth/me",
        headers=bearer(tokens["access_token"]),
        timeout=10,
    )
    assert me.status_code == 200
    assert me.json()["email"] == env["ADMIN_EMAIL"]

    ready = requests.get(base + "/readyz", timeout=10).json()
    assert ready["checks"] == {"database": "ok", "redis": "in-process", "rate_limits": "in-process"}

    logout = requests.post(
        base + "/api/v1/auth/logout",
        headers=bearer(tokens["access_token"]),
        timeout=10,
    )
    assert logout.status_code == 204
    after = requests.get(
        base + "/api/v1/auth/me",
        headers=bearer(tokens["access_token"]),
        timeout=10,
    )
    assert after.status_code == 401


@pytest.mark.slow
def test_make_run_prints_no_spurious_warnings(make_run, tmp_path):
    """No PyJWT short-key warning (the development secret is generated long enough) and
    no kombu missing-hostname warning (the eager in-memory broker names a host)."""
    base, env = make_run
    login = requests.post(
        base + "/api/v1/auth/login",
        data={"username": env["ADMIN_EMAIL"], "password": env["ADMIN_PASSWORD"]},
        timeout=10,
    )
    headers = bearer(login.json()["access_token"])
    key = requests.post(base + "/api/v1/api-keys", json={"name": "k"}, headers=headers, timeout=10)
    rotated = requests.post(
        base + f"/api/v1/api-keys/{key.json()['id']}/rotate", headers=headers, timeout=10
    )

    assert rotated.status_code == 200
    log = (tmp_path / MAKE_RUN_LOG).read_text()
    assert "Task alerts.deliver[" in log
    assert re.findall(r"\w+Warning: .*|No hostname was supplied.*", log) == []


def curl(*args: str) -> tuple[int, dict | None]:
    """Run curl as the seed documents it; return the status and the JSON body, if any."""
    result = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = result.stdout.rpartition("\n")
    return int(status), json.loads(body) if body.strip() else None


@pytest.mark.slow
def test_seed_api_key_flow_with_curl(make_run):
    base, env = make_run
    _, tokens = curl(
        "-X",
        "POST",
        f"{base}/api/v1/auth/login",
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "-d",
        f"username={env['ADMIN_EMAIL']}",
        "-d",
        f"password={env['ADMIN_PASSWORD']}",
    )
    admin = f"Authorization: Bearer {tokens['access_token']}"

    status, created = curl(
        "-X",
        "POST",
        f"{base}/api/v1/api-keys",
        "-H",
        admin,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"name": "Production Server"}',
    )
    assert status == 201
    assert created["key"].startswith("ow_live_")
    assert created["last_used_at"] is None
    key = created["key"]

    status, users = curl("-X", "GET", f"{base}/api/v1/users", "-H", f"Authorization: Bearer {key}")
    assert status == 200
    assert users["items"] == []

    time.sleep(2.5)
    status, listed = curl("-X", "GET", f"{base}/api/v1/api-keys", "-H", admin)
    assert status == 200
    assert listed[0]["id"] == created["id"]
    assert "key" not in listed[0]
    assert listed[0]["last_used_at"] is not None

    status, renamed = curl(
        "-X",
        "PATCH",
        f"{base}/api/v1/api-keys/{created['id']}",
        "-H",
        admin,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"name": "Production Server - Updated"}',
    )
    assert (status, renamed["name"]) == (200, "Production Server - Updated")

    status, rotated = curl(
        "-X", "POST", f"{base}/api/v1/api-keys/{created['id']}/rotate", "-H", admin
    )
    assert status == 200
    assert curl(f"{base}/api/v1/users", "-H", f"Authorization: Bearer {key}") == (
        401,
        {"detail": "Invalid API key"},
    )
    new_key = rotated["key"]
    assert curl(f"{base}/api/v1/users", "-H", f"Authorization: Bearer {new_key}")[0] == 200

    status, _ = curl("-X", "DELETE", f"{base}/api/v1/api-keys/{created['id']}", "-H", admin)
    assert status == 204
    assert curl(f"{base}/api/v1/users", "-H", f"Authorization: Bearer {new_key}")[0] == 401
