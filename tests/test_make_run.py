"""`make run` on the embedded defaults (SQLite, no Redis, eager Celery) serves and logs in."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {process.stdout.read()}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds}s")


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
    )
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base + "/healthz", process)
        yield base, env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)


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
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert me.status_code == 200
    assert me.json()["email"] == env["ADMIN_EMAIL"]

    ready = requests.get(base + "/readyz", timeout=10).json()
    assert ready["checks"] == {"database": "ok", "redis": "in-process", "rate_limits": "in-process"}

    logout = requests.post(
        base + "/api/v1/auth/logout",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert logout.status_code == 204
    after = requests.get(
        base + "/api/v1/auth/me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert after.status_code == 401
