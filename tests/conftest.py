"""Fixtures: a real PostgreSQL database created for the run and a real Redis database.

Nothing here skips when a service is missing: `make test` starts PostgreSQL and Redis
first, and a run without them fails loudly instead of passing without testing.
"""

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import event

from app import create_app
from app.developers import services as developers
from app.extensions import db
from tests import contract
from tests.support.apps import close_app
from tests.support.auth import bearer, login
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.databases import claimed_redis_database, temporary_database
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD, app_config
from tests.support.network import SmtpServer


@pytest.fixture(autouse=True, scope="session")
def openapi_contract():
    """Checks every test-client response against the app's OpenAPI document
    (`tests/contract.py`): documented status, required headers, required fields."""
    send = FlaskClient.open

    def send_and_check(self, *args, **kwargs):
        response = send(self, *args, **kwargs)
        contract.check(self.application, response.request.method, response.request.path, response)
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FlaskClient, "open", send_and_check)
        yield


@pytest.fixture(scope="session")
def create_database():
    """Creates empty PostgreSQL databases and drops them at the end of the run."""
    with ExitStack() as databases:

        def create(prefix: str = "owa_test") -> str:
            return databases.enter_context(temporary_database(prefix))

        yield create


@pytest.fixture(scope="session")
def database_url(create_database):
    """One migrated database for the whole run; tables are emptied after each test."""
    url = create_database()
    app = create_app(app_config(url, ""))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url():
    """A Redis database index of this run's own (`tests/support/databases.py`)."""
    with claimed_redis_database("pytest") as url:
        yield url


@pytest.fixture
def config_overrides():
    """Override in a test module or test to change settings of the `app` fixture."""
    return {}


@pytest.fixture
def app(database_url, redis_url, config_overrides):
    app = create_app(app_config(database_url, redis_url, **config_overrides))
    yield app
    with app.app_context():
        db.session.remove()
        # DELETE, children first: on tables this small it costs ~5 ms where TRUNCATE,
        # which gives every table new files, costs ~70 ms, after each of ~900 tests.
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        db.engine.dispose()
    store = app.extensions["owa_store"]
    store.client.flushdb()
    store.client.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_app(app, database_url, redis_url):
    """Build more apps (another worker, other settings) on the test database and Redis.

    Depends on `app` so that its teardown empties the tables these apps wrote to."""
    built = []

    def make(**overrides):
        config = app_config(database_url, redis_url, **overrides)
        built.append(create_app(config))
        return built[-1]

    yield make
    for app in built:
        close_app(app)


@pytest.fixture
def admin(app):
    with app.app_context():
        developer = developers.create_developer(ADMIN_EMAIL, ADMIN_PASSWORD, "Ada", "Lovelace")
        return {"id": str(developer.id), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}


@pytest.fixture
def admin_tokens(client, admin) -> dict:
    response = login(client, admin["email"], admin["password"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def admin_headers(admin_tokens) -> dict:
    return bearer(admin_tokens["access_token"])


@pytest.fixture
def count_statements(app):
    """Counts the SQL statements the app sends while the returned list is in use."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def api_key(client, admin_headers) -> dict:
    """A live API key created through the API (the response body, secret included)."""
    response = client.post("/api/v1/api-keys", json={"name": "Test server"}, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def api_key_headers(api_key) -> dict:
    return bearer(api_key["key"])


@pytest.fixture
def mail_server():
    """A real SMTP server (aiosmtpd) on a free port; `.messages` are what it accepted."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, one per test session: Playwright's sync API allows one running
    instance at a time."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
