"""The live app for the client's tests: the Flask app served by werkzeug in a thread,
on the test PostgreSQL and Redis, so the client speaks real HTTP to real endpoints."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from openwearables import OpenWearables
from werkzeug.serving import make_server

from tests.support.factories import create_application, create_user


@dataclass
class LiveServer:
    url: str
    user_agents: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    """Each request's path as sent, before the server decodes it."""


@pytest.fixture
def serve() -> Iterator:
    """`serve(app)` serves `app` on a free port until the test ends."""
    servers = []

    def start(flask_app) -> LiveServer:
        live = LiveServer(url="")

        def recording(environ, start_response):
            live.user_agents.append(environ.get("HTTP_USER_AGENT", ""))
            live.paths.append(environ["RAW_URI"])
            return flask_app(environ, start_response)

        server = make_server("127.0.0.1", 0, recording, threaded=True)
        # A short poll interval: shutdown() waits up to one interval.
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        servers.append((server, thread))
        live.url = f"http://127.0.0.1:{server.server_port}"
        return live

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def live(app, serve) -> LiveServer:
    return serve(app)


@pytest.fixture
def server_client(live, api_key) -> Iterator[OpenWearables]:
    """The client as a server uses it: with an API key."""
    with OpenWearables(live.url, api_key=api_key["key"]) as server_client:
        yield server_client


@pytest.fixture
def user(client, admin_headers) -> dict:
    return create_user(client, admin_headers, email="runner@example.com")


@pytest.fixture
def application(client, admin_headers) -> dict:
    return create_application(client, admin_headers)
