"""Headless Chromium (Debian's package, never a downloaded build) driven by Playwright,
the API served by a real HTTP server in a thread, and static pages served by
`python -m http.server` from other origins."""

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from werkzeug.serving import make_server

from tests.servers import free_port, serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_api(app) -> Iterator[str]:
    """The test app on a free loopback port, served by werkzeug in a thread."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def static_site() -> Callable[[int], AbstractContextManager[str]]:
    """Serve this directory's pages on `port` (an origin of its own) while in use."""

    def serve(port: int) -> AbstractContextManager[str]:
        command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
        command += ["--directory", str(PAGES)]
        return serving(command, {}, port, stderr=subprocess.DEVNULL)

    return serve
