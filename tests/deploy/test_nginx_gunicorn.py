"""The production stack on loopback: real nginx (deploy/nginx.conf, a certificate made
here) in front of real gunicorn (`make serve`: gunicorn.conf.py, 2 workers,
APP_ENV=production) on the test PostgreSQL database and Redis."""

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.support.auth import bearer
from tests.support.environment import ADMIN_EMAIL, REPO, process_environment, server_settings
from tests.support.nginx import nginx_binary, render_nginx_conf, self_signed_certificate
from tests.support.ports import free_port

FORGED_CLIENT = "203.0.113.9"
MAX_CONTENT_LENGTH = 4 * 1024 * 1024


@dataclass(frozen=True)
class Stack:
    https: str
    http: str
    gunicorn: str
    certificate: Path
    nginx_access_log: Path
    gunicorn_log: Path
    answer_without_app: tuple[int, dict]
    """What nginx answered before gunicorn started."""

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.https + path, verify=self.certificate, timeout=30, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.https + path, verify=self.certificate, timeout=30, **kwargs)


def wait_for(
    url: str, statuses: set[int], process: subprocess.Popen, log: Path, certificate: Path
) -> requests.Response:
    """The first response of `url` with one of `statuses`, while `process` keeps running."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited early:\n{log.read_text()}")
        try:
            response = requests.get(url, verify=certificate, timeout=5)
            if response.status_code in statuses:
                return response
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer {statuses} within 60 s:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def stop_group(process: subprocess.Popen) -> None:
    """`make serve` and the gunicorn master and workers it started, all of them."""
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)


def gunicorn_environment(database_url: str, redis_url: str, port: int) -> dict[str, str]:
    """Production settings only through the environment, as in the `api` container;
    TRUSTED_PROXY_HOPS is left to the production default."""
    return process_environment(
        server_settings(
            database_url,
            redis_url,
            APP_ENV="production",
            PUBLIC_BASE_URL="https://wearables.example.com",
            GUNICORN_BIND=f"127.0.0.1:{port}",
            GUNICORN_WORKERS="2",
            GUNICORN_THREADS="2",
        )
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory, database_url, redis_url):
    nginx = nginx_binary()
    prefix = tmp_path_factory.mktemp("nginx")
    certificate, key = self_signed_certificate(prefix)
    http_port, https_port, gunicorn_port = free_port(), free_port(), free_port()
    (prefix / "nginx.conf").write_text(
        render_nginx_conf(prefix, http_port, https_port, gunicorn_port, certificate, key)
    )
    https = f"https://127.0.0.1:{https_port}"
    gunicorn_log = prefix / "gunicorn.log"
    with (prefix / "nginx.out").open("w") as nginx_out:
        server = subprocess.Popen(
            [nginx, "-p", prefix, "-c", prefix / "nginx.conf", "-e", prefix / "error.log"],
            stdout=nginx_out,
            stderr=subprocess.STDOUT,
        )
    try:
        without_app = wait_for(https + "/healthz", {503}, server, prefix / "error.log", certificate)
        with gunicorn_log.open("w") as gunicorn_out:
            gunicorn = subprocess.Popen(
                ["make", "--no-print-directory", "serve"],
                cwd=REPO,
                env=gunicorn_environment(database_url, redis_url, gunicorn_port),
                stdout=gunicorn_out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(https + "/healthz", {200}, gunicorn, gunicorn_log, certificate)
            yield Stack(
                https=https,
                http=f"http://127.0.0.1:{http_port}",
                gunicorn=f"http://127.0.0.1:{gunicorn_port}",
                certificate=certificate,
                nginx_access_log=prefix / "access.log",
                gunicorn_log=gunicorn_log,
                answer_without_app=(without_app.status_code, without_app.json()),
            )
        finally:
            stop_group(gunicorn)
    finally:
        stop(server)


def read_when_logged(log: Path, line_part: str) -> str:
    """A log's text once it holds `line_part`: both servers log after they respond."""
    deadline = time.monotonic() + 10
    while line_part not in (text := log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return text


def login(stack: Stack, password: str, headers: dict | None = None) -> requests.Response:
    return stack.post(
        "/api/v1/auth/login", data={"username": ADMIN_EMAIL, "password": password}, headers=headers
    )


def observe_client_identity(stack: Stack, admin: dict, headers: dict) -> dict:
    """Every place the app identifies the caller by address, after one failed login sent
    through nginx with `headers`: the audit trail's IP (`remote_addr` after ProxyFix) and
    the per-IP rate-limit bucket of the unauthenticated endpoints (what is left of it)."""
    failed = login(stack, "wrong password", headers)
    assert failed.status_code == 401
    token = login(stack, admin["password"]).json()["access_token"]
    events = stack.get(
        "/api/v1/audit-events?action=developer.login_failed&limit=1",
        headers=bearer(token),
    ).json()["data"]
    return {
        "audit_ip": events[0]["ip"],
        "ip_limit_remaining": int(failed.headers["X-RateLimit-Remaining"]),
    }


@pytest.mark.slow
def test_make_serve_runs_two_gunicorn_workers_that_refuse_plain_http_themselves(stack):
    assert stack.gunicorn_log.read_text().count("Booting worker with pid") == 2

    direct = requests.post(stack.gunicorn + "/api/v1/auth/login", timeout=30)

    assert direct.status_code == 403
    assert direct.json() == {"detail": "HTTPS required"}


@pytest.mark.slow
def test_https_login_and_me_work_end_to_end_with_hsts(stack, admin):
    response = login(stack, admin["password"])

    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    me = stack.get("/api/v1/auth/me", headers=bearer(response.json()["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == ADMIN_EMAIL
    assert me.headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.slow
def test_plain_http_reads_are_redirected_to_https(stack):
    response = requests.get(
        stack.http + "/api/v1/auth/me?page=2", allow_redirects=False, timeout=30
    )

    assert response.status_code == 301
    assert response.headers["Location"] == stack.https + "/api/v1/auth/me?page=2"
    followed = requests.get(stack.http + "/healthz", verify=stack.certificate, timeout=30)
    assert followed.url == stack.https + "/healthz"
    assert followed.json() == {"status": "ok"}


@pytest.mark.slow
def test_plain_http_writes_are_refused(stack, admin):
    response = requests.post(
        stack.http + "/api/v1/auth/login",
        data={"username": ADMIN_EMAIL, "password": admin["password"]},
        allow_redirects=False,
        timeout=30,
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "HTTPS required"}
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.slow
def test_client_ip_is_the_one_nginx_saw_even_with_a_forged_forwarded_for(stack, admin):
    honest = observe_client_identity(stack, admin, {})
    forged = observe_client_identity(
        stack, admin, {"X-Forwarded-For": FORGED_CLIENT, "X-Real-IP": FORGED_CLIENT}
    )

    assert honest["audit_ip"] == forged["audit_ip"] == "127.0.0.1"
    # Same bucket: the honest failed and successful logins used two of its requests.
    assert forged["ip_limit_remaining"] == honest["ip_limit_remaining"] - 2


@pytest.mark.slow
def test_an_allowlisted_key_cannot_be_passed_by_a_forged_forwarded_for(stack, admin):
    """The allowlist sees the address nginx saw (ProxyFix, one trusted hop): a key allowed
    only from 203.0.113.0/24 is refused from loopback whatever X-Forwarded-For claims."""
    admin_headers = bearer(login(stack, admin["password"]).json()["access_token"])
    created = requests.post(
        stack.https + "/api/v1/api-keys",
        json={"name": "allowlisted", "allowed_ips": ["203.0.113.0/24"]},
        headers=admin_headers,
        verify=stack.certificate,
        timeout=30,
    ).json()
    forged = {
        **bearer(created["key"]),
        "X-Forwarded-For": FORGED_CLIENT,
        "X-Real-IP": FORGED_CLIENT,
    }

    refused = stack.get("/api/v1/users", headers=forged)
    requests.patch(
        f"{stack.https}/api/v1/api-keys/{created['id']}",
        json={"allowed_ips": ["127.0.0.1/32"]},
        headers=admin_headers,
        verify=stack.certificate,
        timeout=30,
    )
    allowed = stack.get("/api/v1/users", headers=forged)

    assert refused.status_code == 403
    assert refused.json() == {"detail": "This API key is not allowed from this IP address."}
    assert allowed.status_code == 200


@pytest.mark.slow
def test_a_forged_forwarded_proto_cannot_downgrade_or_fake_the_scheme(stack):
    response = stack.post("/api/v1/auth/login", headers={"X-Forwarded-Proto": "http"})

    assert response.status_code == 422
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.slow
def test_nginx_answers_in_the_api_error_shape_while_the_app_is_down(stack):
    assert stack.answer_without_app == (503, {"detail": "Service unavailable."})


@pytest.mark.slow
def test_nginx_body_limit_matches_max_content_length(stack):
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    at_limit = stack.post("/api/v1/auth/login", data=b"a" * MAX_CONTENT_LENGTH, headers=form)
    above = stack.post("/api/v1/auth/login", data=b"a" * (MAX_CONTENT_LENGTH + 1), headers=form)

    assert at_limit.status_code == 422
    assert above.status_code == 413
    assert above.json() == {"detail": "Request body too large."}


@pytest.mark.slow
def test_neither_access_log_records_tokens_or_query_strings(stack, admin):
    token = login(stack, admin["password"]).json()["access_token"]

    stack.get("/api/v1/auth/me?access_token=leak-me", headers=bearer(token))
    stack.get("/healthz?api_key=leak-me-too", headers={"Referer": "https://x.test/?t=leak-me"})

    for log in (stack.nginx_access_log, stack.gunicorn_log):
        text = read_when_logged(log, '"GET /healthz HTTP/1.')
        assert '"GET /api/v1/auth/me HTTP/1.' in text, log
        assert "leak-me" not in text, log
        assert token not in text, log
        assert "Bearer" not in text, log


@pytest.mark.slow
def test_nginx_refuses_overlong_request_lines_and_headers_in_the_api_error_shape(stack):
    """Fuzzing found gunicorn's HTML 414 page for request lines above 4094 bytes."""
    within = stack.get("/api/v1/users?search=" + "a" * 4000)
    too_long = stack.get("/api/v1/users?search=" + "a" * 4100)
    far_too_long = stack.get("/api/v1/users?search=" + "a" * 9000)
    huge_header = stack.get("/api/v1/users", headers={"X-Padding": "a" * 5000})

    assert within.status_code == 401
    for response in (too_long, far_too_long):
        assert (response.status_code, response.json()) == (
            414,
            {"detail": "Request URI too long."},
        )
    assert (huge_header.status_code, huge_header.json()) == (
        400,
        {"detail": "Request headers too large."},
    )
