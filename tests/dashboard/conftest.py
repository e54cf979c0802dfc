"""A real browser (Debian's Chromium driven by Playwright) against the app served by
gunicorn: the dashboard is tested the way an admin uses it."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.servers import gunicorn, server_config

VIEWPORT = {"width": 1280, "height": 800}
# What a leaked credential looks like: API keys, app secrets, refresh tokens, JWTs.
CREDENTIAL = re.compile(r"ow_(?:live|test)_\w{20,}|secret_\w{20,}|rt_\w{20,}|eyJ[\w-]{10,}\.")
SHORT_ACCESS_TOKEN_SECONDS = 4


def _serve(database_url: str, redis_url: str, log_dir: Path, **overrides: str) -> Iterator[str]:
    config = server_config(database_url, redis_url, **overrides)
    with gunicorn(config, log_dir) as (base, _access_log):
        yield base


@pytest.fixture(scope="module")
def dashboard_url(database_url, redis_url, tmp_path_factory) -> Iterator[str]:
    """The app on two gunicorn workers, sharing the test database and Redis."""
    yield from _serve(database_url, redis_url, tmp_path_factory.mktemp("gunicorn"))


@pytest.fixture(scope="module")
def short_session_url(database_url, redis_url, tmp_path_factory) -> Iterator[str]:
    """The same, with access tokens that expire within seconds."""
    yield from _serve(
        database_url,
        redis_url,
        tmp_path_factory.mktemp("gunicorn-short"),
        ACCESS_TOKEN_EXPIRES_SECONDS=str(SHORT_ACCESS_TOKEN_SECONDS),
    )


@dataclass
class Visit:
    """One browser context on the dashboard, recording what crossed the wire and the
    console, so a test can assert nothing leaked."""

    base: str
    context: BrowserContext
    page: Page
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    api_statuses: list[tuple[str, int]] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("console", lambda message: self.console.append(message.text))
        page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))
        return page

    def new_page(self) -> Page:
        return self.watch(self.context.new_page())

    def open(self, path: str = "/dashboard", page: Page | None = None):
        return (page or self.page).goto(self.base + path)

    def sign_in(self, password: str = ADMIN_PASSWORD, page: Page | None = None) -> None:
        page = page or self.page
        page.get_by_label("Email").fill(ADMIN_EMAIL)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()

    def refresh_cookie(self) -> dict:
        (cookie,) = [c for c in self.context.cookies() if c["name"] == "ow_refresh_token"]
        return cookie

    def assert_nothing_leaked(self) -> None:
        """No request left the origin, no credential in browser storage, any URL or the
        console, and no script error."""
        assert [url for url in self.requests if not url.startswith(self.base + "/")] == []
        assert [url for url in self.requests if CREDENTIAL.search(url)] == []
        for page in self.context.pages:
            stored = page.evaluate(
                "() => JSON.stringify([Object.entries(localStorage),"
                " Object.entries(sessionStorage)])"
            )
            assert stored == "[[],[]]"
            assert not CREDENTIAL.search(page.url)
        assert [line for line in self.console if CREDENTIAL.search(line)] == []
        assert [line for line in self.console if line.startswith("page error")] == []


def _visit(browser: Browser, base: str) -> Iterator[Visit]:
    context = browser.new_context(viewport=VIEWPORT, base_url=base)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    visit = Visit(base=base, context=context, page=context.new_page())
    context.on("request", lambda request: visit.requests.append(request.url))
    context.on(
        "response",
        lambda response: (
            visit.api_statuses.append((response.url, response.status))
            if "/api/" in response.url
            else None
        ),
    )
    visit.watch(visit.page)
    yield visit
    context.close()


@pytest.fixture
def visit(chromium, dashboard_url, admin) -> Iterator[Visit]:
    yield from _visit(chromium, dashboard_url)


@pytest.fixture
def short_visit(chromium, short_session_url, admin) -> Iterator[Visit]:
    yield from _visit(chromium, short_session_url)
