"""Fault-injection fixtures: every service a fault test breaks is the test's own — a
PostgreSQL cluster (initdb/pg_ctl), a redis-server, gunicorn with two workers — never
the shared PostgreSQL and Redis other runs use."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from app.api_keys import services as api_keys
from app.core.auth import Kind, Principal
from app.core.client import ClientInfo
from app.developers import services as developers
from app.users import services as users
from tests.faults.outage_load import LOAD_SERVER_SETTINGS
from tests.faults.servers import RedisServer
from tests.support.apps import close_app
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD, app_config, server_settings
from tests.support.postgres import PostgresCluster
from tests.support.servers import gunicorn


@pytest.fixture
def postgres_cluster():
    cluster = PostgresCluster()
    cluster.init()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own (started), killed at the end."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@dataclass
class Seeded:
    database_url: str
    api_key: str
    user_id: str


@pytest.fixture
def seeded(postgres_cluster, own_redis) -> Seeded:
    """A migrated database on the own cluster with the admin developer, an API key and
    an end user."""
    database_url = postgres_cluster.create_database("owa_faults")
    app = create_app(app_config(database_url, own_redis.url))
    try:
        with app.app_context():
            upgrade()
            developer = developers.create_developer(ADMIN_EMAIL, ADMIN_PASSWORD)
            creator = Principal(kind=Kind.DEVELOPER, subject_id=str(developer.id))
            _, secret = api_keys.create_key("faults", "live", None, creator, ClientInfo(None, None))
            user = users.create_user({"external_user_id": "fault-runner"})
            return Seeded(database_url, secret, str(user.id))
    finally:
        close_app(app)


@dataclass
class Served:
    base: str
    access_log: Path
    app_log: Path


@pytest.fixture
def served(seeded, own_redis, tmp_path):
    """gunicorn, two workers, on the own cluster and redis-server; the app's own log
    lines (stderr) go to `app_log`."""
    config = server_settings(
        seeded.database_url,
        own_redis.url,
        CELERY_BROKER_URL=own_redis.url.removesuffix("/0") + "/1",
        **LOAD_SERVER_SETTINGS,
    )
    app_log = tmp_path / "app.log"
    with app_log.open("w") as sink, gunicorn(config, tmp_path, stderr=sink) as (base, access):
        yield Served(base, access, app_log)
