"""Debian's Chromium as Playwright launches it (never a downloaded build), and a visit
to the dashboard that records what crossed the wire."""

import re
from dataclasses import dataclass, field

from playwright.sync_api import BrowserContext, Page

from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
# What a leaked credential looks like: API keys, app secrets, refresh tokens, JWTs.
CREDENTIAL = re.compile(r"ow_(?:live|test)_\w{20,}|secret_\w{20,}|rt_\w{20,}|eyJ[\w-]{10,}\.")
SHORT_ACCESS_TOKEN_SECONDS = 4
USAGE_FLUSH_SECONDS = 0.5


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
