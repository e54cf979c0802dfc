"""Proxy trust (TRUSTED_PROXY_HOPS) and the production profile, inside one process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.api_keys.tasks import flush_last_used
from app.config import DEVELOPMENT_PEPPER, DEVELOPMENT_SECRET, load_config
from app.core.deployment import (
    DEVELOPMENT_SECRET_FILE,
    InsecureConfigurationError,
    development_secret,
)
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_PEPPER, TEST_SECRET_KEY

REPO = Path(__file__).resolve().parents[2]
STRONG_SECRET = "s" * 32
STRONG_PEPPER = "p" * 32
FAILED_LOGINS = "/api/v1/audit-events?action=developer.login_failed"


def production_config(**overrides) -> dict:
    return {
        "APP_ENV": "production",
        "PUBLIC_BASE_URL": "https://wearables.example.com",
        "DATABASE_URL": "sqlite://",
        "SECRET_KEY": STRONG_SECRET,
        "TOKEN_PEPPER": STRONG_PEPPER,
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"SECRET_KEY": DEVELOPMENT_SECRET}, "SECRET_KEY is the development default."),
        ({"SECRET_KEY": "s" * 31}, "SECRET_KEY is shorter than 32 characters."),
        ({"SECRET_KEY": ""}, "SECRET_KEY is shorter than 32 characters."),
        ({"TOKEN_PEPPER": DEVELOPMENT_PEPPER}, "TOKEN_PEPPER is the development default."),
        ({"TOKEN_PEPPER": "p" * 31}, "TOKEN_PEPPER is shorter than 32 characters."),
        ({"TOKEN_PEPPER": STRONG_SECRET}, "SECRET_KEY and TOKEN_PEPPER are the same value."),
        ({"REDIS_URL": ""}, "REDIS_URL is empty"),
        ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL is empty"),
        ({"PUBLIC_BASE_URL": "wearables.example.com"}, "PUBLIC_BASE_URL must be"),
    ],
)
def test_production_refuses_to_start_with_weak_secrets(overrides, complaint):
    with pytest.raises(InsecureConfigurationError) as refused:
        create_app(production_config(**overrides))

    assert complaint in str(refused.value)
    assert str(refused.value).startswith("Refusing to start with APP_ENV=production:")


def test_production_refuses_to_start_with_the_debugger_on(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")

    with pytest.raises(InsecureConfigurationError, match="FLASK_DEBUG is on"):
        create_app(production_config())


def test_an_unknown_app_env_is_refused_rather_than_treated_as_development():
    with pytest.raises(InsecureConfigurationError, match="APP_ENV='prod' is not one of"):
        create_app(production_config(APP_ENV="prod"))


def test_the_wsgi_entry_point_refuses_the_default_secrets_in_production():
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"SECRET_KEY", "TOKEN_PEPPER", "FLASK_DEBUG"}
    }
    environment.update(APP_ENV="production", DATABASE_URL="sqlite://")

    started = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert started.returncode != 0
    assert "InsecureConfigurationError: Refusing to start with APP_ENV=production" in (
        started.stderr
    )
    assert "SECRET_KEY is the development default." in started.stderr
    assert "TOKEN_PEPPER is the development default." in started.stderr


def test_production_profile_defaults_trust_one_proxy_and_hide_the_api_docs():
    production = load_config(environ={"APP_ENV": "production"})
    development = load_config(environ={})

    assert (production["TRUSTED_PROXY_HOPS"], production["API_DOCS_ENABLED"]) == (1, False)
    assert (development["TRUSTED_PROXY_HOPS"], development["API_DOCS_ENABLED"]) == (0, True)


def test_explicit_settings_win_over_the_production_defaults():
    from_environment = load_config(
        environ={"APP_ENV": "production", "TRUSTED_PROXY_HOPS": "0", "API_DOCS_ENABLED": "yes"}
    )
    from_overrides = load_config(
        environ={"APP_ENV": "production"}, overrides={"TRUSTED_PROXY_HOPS": 2}
    )

    assert (from_environment["TRUSTED_PROXY_HOPS"], from_environment["API_DOCS_ENABLED"]) == (
        0,
        True,
    )
    assert from_overrides["TRUSTED_PROXY_HOPS"] == 2


def test_a_boolean_setting_rejects_words_it_does_not_know():
    with pytest.raises(ValueError, match="'maybe' is not a boolean"):
        load_config(environ={"API_DOCS_ENABLED": "maybe"})


@pytest.fixture
def production_app(make_app):
    """The production profile on the test database; TRUSTED_PROXY_HOPS left at its default."""

    def build(**overrides):
        return make_app(APP_ENV="production", PUBLIC_BASE_URL="https://localhost", **overrides)

    return build


def test_plain_http_get_is_redirected_to_https_with_its_query(production_app):
    client = production_app().test_client()

    response = client.get("/api/v1/auth/me?page=2")

    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/api/v1/auth/me?page=2"
    assert "Strict-Transport-Security" not in response.headers


def test_plain_http_post_is_refused_before_the_credentials_are_checked(production_app, admin):
    client = production_app().test_client()

    response = client.post(
        "/api/v1/auth/login", data={"username": ADMIN_EMAIL, "password": admin["password"]}
    )

    assert response.status_code == 403
    assert response.get_json() == {"detail": "HTTPS required"}
    assert "Strict-Transport-Security" not in response.headers


def test_https_seen_through_the_trusted_proxy_is_served_with_hsts(production_app, admin):
    client = production_app().test_client()

    response = client.post(
        "/api/v1/auth/login",
        data={"username": ADMIN_EMAIL, "password": admin["password"]},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20"},
    )

    assert response.status_code == 200
    assert "access_token" in response.get_json()
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_max_age_follows_its_setting_and_errors_carry_it_too(production_app):
    client = production_app(HSTS_MAX_AGE=600).test_client()

    response = client.get("/api/v1/auth/me", headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 401
    assert response.headers["Strict-Transport-Security"] == "max-age=600"


def test_forwarded_proto_is_ignored_when_no_proxy_is_trusted(production_app):
    client = production_app(TRUSTED_PROXY_HOPS=0).test_client()

    response = client.post("/api/v1/auth/login", headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 403
    assert response.get_json() == {"detail": "HTTPS required"}


def test_a_client_cannot_prepend_https_in_front_of_what_the_proxy_saw(production_app):
    client = production_app().test_client()

    response = client.post("/api/v1/auth/login", headers={"X-Forwarded-Proto": "https, http"})

    assert response.status_code == 403


def test_https_terminated_by_the_server_itself_needs_no_proxy(production_app):
    client = production_app(TRUSTED_PROXY_HOPS=0).test_client()

    response = client.get("/healthz", base_url="https://api.example.com")

    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_development_serves_plain_http_without_hsts(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_production_hides_the_api_docs_unless_enabled(production_app):
    hidden = production_app().test_client()
    shown = production_app(API_DOCS_ENABLED=True).test_client()
    https = {"X-Forwarded-Proto": "https"}

    assert hidden.get("/api/v1/openapi.json", headers=https).status_code == 404
    assert hidden.get("/docs", headers=https).status_code == 404
    assert shown.get("/api/v1/openapi.json", headers=https).status_code == 200
    assert shown.get("/docs", headers=https).status_code == 200


def failed_login_ip(app, client, admin_headers, remote_addr: str, forwarded_for: str) -> str:
    """Fails a login through `app` and returns the address its audit event recorded."""
    app.test_client().post(
        "/api/v1/auth/login",
        data={"username": ADMIN_EMAIL, "password": "wrong password"},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": remote_addr},
    )
    events = client.get(FAILED_LOGINS, headers=admin_headers).get_json()["data"]
    return events[0]["ip"]


@pytest.mark.parametrize(
    ("hops", "recorded"),
    [(0, "10.0.0.5"), (1, "198.51.100.20"), (2, "203.0.113.9")],
)
def test_the_audit_ip_trusts_exactly_the_configured_proxy_hops(
    make_app, client, admin_headers, hops, recorded
):
    app = make_app(TRUSTED_PROXY_HOPS=hops)

    ip = failed_login_ip(app, client, admin_headers, "10.0.0.5", "203.0.113.9, 198.51.100.20")

    assert ip == recorded


def test_a_negative_hop_count_is_refused():
    config = {
        "DATABASE_URL": "sqlite://",
        "SECRET_KEY": TEST_SECRET_KEY,
        "TOKEN_PEPPER": TEST_PEPPER,
        "TRUSTED_PROXY_HOPS": -1,
    }

    with pytest.raises(InsecureConfigurationError, match="TRUSTED_PROXY_HOPS must be 0 or more"):
        create_app(config)


def test_development_generates_one_long_private_secret_and_keeps_it(tmp_path):
    first = development_secret(tmp_path)

    assert len(first) >= 32
    assert development_secret(tmp_path) == first
    assert [path.name for path in tmp_path.iterdir()] == [DEVELOPMENT_SECRET_FILE]
    assert (tmp_path / DEVELOPMENT_SECRET_FILE).stat().st_mode & 0o777 == 0o600


def _session_ips(client, headers) -> list[str]:
    page = client.get("/api/v1/auth/sessions", headers=headers).get_json()
    return [session["ip"] for session in page["items"]]


@pytest.mark.parametrize(
    ("proxy_hops", "environ", "seen"),
    [
        pytest.param(0, {"REMOTE_ADDR": "::ffff:203.0.113.7"}, "203.0.113.7", id="dual-stack"),
        pytest.param(0, {"REMOTE_ADDR": "2001:DB8:0:0::7"}, "2001:db8::7", id="ipv6-spelling"),
        pytest.param(
            1,
            {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "::ffff:198.51.100.4"},
            "198.51.100.4",
            id="forwarded-dual-stack",
        ),
    ],
)
def test_a_client_is_recorded_by_one_canonical_address(
    make_app, admin, admin_headers, proxy_hops, environ, seen
):
    """However the listener or proxy wrote it: one client, one address in its sessions
    (and audit entries, last use, usage, rate limits, which read the same value)."""
    client = make_app(TRUSTED_PROXY_HOPS=proxy_hops).test_client()
    login = client.post(
        "/api/v1/auth/login",
        data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        environ_base=environ,
    )
    assert login.status_code == 200

    assert seen in _session_ips(client, admin_headers)


def test_an_api_keys_last_use_shows_a_dual_stack_client_as_ipv4(
    app, client, admin_headers, api_key, api_key_headers
):
    used = client.get(
        "/api/v1/users", headers=api_key_headers, environ_base={"REMOTE_ADDR": "::ffff:192.0.2.5"}
    )
    assert used.status_code == 200
    with app.app_context():
        assert flush_last_used.delay().get() == 1

    listed = client.get("/api/v1/api-keys", headers=admin_headers).get_json()
    assert next(k for k in listed if k["id"] == api_key["id"])["last_used_ip"] == "192.0.2.5"
