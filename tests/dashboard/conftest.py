"""A real browser (Debian's Chromium driven by Playwright) against the app served by
gunicorn: the dashboard is tested the way an admin uses it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.support.browser import (
    SHORT_ACCESS_TOKEN_SECONDS,
    USAGE_FLUSH_SECONDS,
    VIEWPORT,
    Visit,
)
from tests.support.environment import server_settings
from tests.support.servers import gunicorn


def _serve(database_url: str, redis_url: str, log_dir: Path, **overrides: str) -> Iterator[str]:
    config = server_settings(database_url, redis_url, **overrides)
    with gunicorn(config, log_dir) as (base, _access_log):
        yield base


@pytest.fixture(scope="module")
def dashboard_url(database_url, redis_url, tmp_path_factory) -> Iterator[str]:
    """The app on two gunicorn workers, sharing the test database and Redis; each worker
    sends its usage counts twice a second, so a test waits that long for them."""
    yield from _serve(
        database_url,
        redis_url,
        tmp_path_factory.mktemp("gunicorn"),
        USAGE_FLUSH_SECONDS=str(USAGE_FLUSH_SECONDS),
    )


@pytest.fixture(scope="module")
def short_session_url(database_url, redis_url, tmp_path_factory) -> Iterator[str]:
    """The same, with access tokens that expire within seconds."""
    yield from _serve(
        database_url,
        redis_url,
        tmp_path_factory.mktemp("gunicorn-short"),
        ACCESS_TOKEN_EXPIRES_SECONDS=str(SHORT_ACCESS_TOKEN_SECONDS),
    )


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
