"""The dashboard's shell and assets: where they are, their security headers, no limits,
and nothing in them that would load from another origin or run inline."""

import re
from pathlib import Path

import pytest

from app.dashboard.routes import STATIC_DIRECTORY

OWN_FILES = sorted(
    path
    for path in STATIC_DIRECTORY.rglob("*")
    if path.suffix in {".js", ".css", ".html"} and "vendor" not in path.parts
)


def fetch(client, path: str):
    """GET and close at once: assets are streamed from open files."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def test_root_redirects_to_the_dashboard(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/api-keys", "/dashboard/users/abc"])
def test_every_dashboard_url_serves_the_shell(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert '<script type="module" src="/dashboard/assets/js/main.js">' in response.text
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard",
        "/dashboard/assets/js/main.js",
        "/dashboard/assets/vendor/htm-preact-standalone.module.js",
    ],
)
def test_dashboard_responses_carry_a_strict_policy(client, path):
    headers = fetch(client, path).headers

    directives = headers["Content-Security-Policy"].split(";")
    policy = dict(directive.strip().split(" ", 1) for directive in directives)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_modules_are_served_as_javascript(client):
    response = fetch(client, "/dashboard/assets/vendor/htm-preact-standalone.module.js")

    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "export{" in response.text


def test_the_dashboard_is_not_rate_limited(make_app):
    client = make_app(RATELIMIT_PER_IP="2 per minute").test_client()

    statuses = {client.get("/dashboard").status_code for _ in range(5)}

    assert statuses == {200}
    assert "X-RateLimit-Limit" not in fetch(client, "/dashboard/assets/js/main.js").headers


def test_api_responses_do_not_get_the_dashboard_policy(client):
    assert "Content-Security-Policy" not in client.get("/healthz").headers


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda path: path.name)
def test_no_asset_refers_to_another_origin(path: Path):
    text = path.read_text()

    assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE) == []


def test_the_shell_has_no_inline_script_or_style():
    shell = (STATIC_DIRECTORY / "index.html").read_text()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", shell) == []
    assert "<style" not in shell
    assert " style=" not in shell
    assert re.findall(r"\son[a-z]+=", shell) == []


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda path: path.name)
def test_no_script_touches_browser_storage(path: Path):
    assert re.findall(r"localStorage|sessionStorage|document\.cookie", path.read_text()) == []
