"""Fixtures: a real PostgreSQL database created for the run and a real Redis database.

Nothing here skips when a service is missing: `make test` starts PostgreSQL and Redis
first, and a run without them fails loudly instead of passing without testing.
"""

import os
import re
import secrets
import uuid

import psycopg
import pytest
import redis
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, inspect, text

from app import create_app
from app.extensions import db
from tests import contract

ADMIN_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
TEST_SECRET_KEY = "test-secret-key-" + "x" * 32
TEST_PEPPER = "test-pepper-" + "y" * 32
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"


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


def _database_url(name: str) -> str:
    base, _, _ = ADMIN_DATABASE_URL.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def create_database():
    """Creates empty PostgreSQL databases and drops them at the end of the run."""
    created = []

    def create(prefix: str = "owa_test") -> str:
        name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
        with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _database_url(name)

    yield create
    with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as connection:
        for name in created:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(create_database):
    """One migrated database for the whole run; tables are emptied after each test."""
    url = create_database()
    app = create_app(_test_config(url, ""))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def claim_redis_database():
    """Yield the URL of a Redis database index no other run holds, then release it, so
    parallel runs on one server never collide (index 15 is the benchmarks')."""
    server = redis.Redis.from_url(REDIS_SERVER_URL)
    try:
        for index in range(1, 15):
            if server.set(f"owa-test-lock:{index}", os.getpid(), nx=True, ex=3600):
                yield f"{REDIS_SERVER_URL}/{index}"
                server.delete(f"owa-test-lock:{index}")
                return
        raise RuntimeError("every Redis test database is taken")
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_url():
    yield from claim_redis_database()


def _test_config(database_url: str, redis_url: str, **overrides) -> dict:
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": "",
        "SECRET_KEY": TEST_SECRET_KEY,
        "TOKEN_PEPPER": TEST_PEPPER,
        "ADMIN_EMAIL": "",
        "ADMIN_PASSWORD": "",
        # Behaviour, not hash strength, is under test here; one test pins the defaults.
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 1024,
        **overrides,
    }


@pytest.fixture
def config_overrides():
    """Override in a test module or test to change settings of the `app` fixture."""
    return {}


@pytest.fixture
def app(database_url, redis_url, config_overrides):
    app = create_app(_test_config(database_url, redis_url, **config_overrides))
    yield app
    with app.app_context():
        db.session.remove()
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} CASCADE"))
        db.engine.dispose()
    store = app.extensions["owa_store"]
    store.client.flushdb()
    store.client.close()


@pytest.fixture
def client(app):
    return app.test_client()


def close_app(app) -> None:
    """Release the pooled connections of an app a test built itself."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    store = app.extensions["owa_store"]
    if hasattr(store, "client"):
        store.client.close()


@pytest.fixture
def make_app(app, database_url, redis_url):
    """Build more apps (another worker, other settings) on the test database and Redis.

    Depends on `app` so that its teardown empties the tables these apps wrote to."""
    built = []

    def make(**overrides):
        config = _test_config(database_url, redis_url, **overrides)
        built.append(create_app(config))
        return built[-1]

    yield make
    for app in built:
        close_app(app)


@pytest.fixture
def admin(app):
    from app.developers import services

    with app.app_context():
        developer = services.create_developer(ADMIN_EMAIL, ADMIN_PASSWORD, "Ada", "Lovelace")
        return {"id": str(developer.id), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}


def login(client, email: str, password: str):
    return client.post("/api/v1/auth/login", data={"username": email, "password": password})


@pytest.fixture
def admin_tokens(client, admin) -> dict:
    response = login(client, admin["email"], admin["password"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def admin_headers(admin_tokens) -> dict:
    return {"Authorization": f"Bearer {admin_tokens['access_token']}"}


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


def all_rows_text(app) -> str:
    """Every row of every table, as one string, to search for leaked secrets."""
    chunks = []
    with app.app_context():
        for name in inspect(db.engine).get_table_names():
            for row in db.session.execute(text(f'SELECT * FROM "{name}"')):
                chunks.append(repr(tuple(row)))
        db.session.remove()
    return "\n".join(chunks)


def random_uuid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def api_key(client, admin_headers) -> dict:
    """A live API key created through the API (the response body, secret included)."""
    response = client.post("/api/v1/api-keys", json={"name": "Test server"}, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def api_key_headers(api_key) -> dict:
    return {"Authorization": f"Bearer {api_key['key']}"}


@pytest.fixture
def mail_server():
    """A real SMTP server (aiosmtpd) on a free port; `.messages` are what it accepted."""
    from tests.workers.servers import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def smtp_settings(mail_server) -> dict:
    """Settings that send the app's mail to `mail_server`."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": mail_server.port,
        "SMTP_FROM": "accounts@openwearables.test",
    }


def mailed_link(message) -> tuple[str, str]:
    """The one link in a received mail, as (the link, the token from its #fragment)."""
    [link] = re.findall(r"https?://\S+", message.get_payload(decode=True).decode())
    return link, link.partition("#token=")[2]


def mails_to(mail_server, address: str) -> list:
    return [m for m in mail_server.messages if m["X-Envelope-To"] == address]
