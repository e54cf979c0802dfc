"""Real Celery workers against the real Redis broker and the test PostgreSQL database.

The broker gets a Redis database index of its own, locked the same way as the
`redis_url` fixture's, so parallel runs and the app fixture's FLUSHDB never meet it.
"""

from urllib.parse import urlsplit

import pytest
import redis

from tests.support.celery_workers import FAST_DELIVERY, Worker, launch_worker
from tests.support.databases import claimed_redis_database
from tests.support.environment import WEBHOOK_SECRET, process_environment, server_settings
from tests.support.network import SmtpServer, TcpProxy, WebhookReceiver


@pytest.fixture(scope="session")
def broker_server_url():
    with claimed_redis_database("pytest-broker") as url:
        yield url


@pytest.fixture
def broker_url(broker_server_url):
    """The broker's Redis database, emptied so no earlier test's messages linger."""
    client = redis.Redis.from_url(broker_server_url)
    try:
        client.flushdb()
    finally:
        client.close()
    return broker_server_url


@pytest.fixture(autouse=True)
def _close_celery_connections(app):
    yield
    app.extensions["celery"].close()


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webhook():
    receiver = WebhookReceiver(WEBHOOK_SECRET)
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def broker_proxy(broker_server_url):
    """A broker address that is down until the test calls `start()`."""
    target = urlsplit(broker_server_url)
    proxy = TcpProxy((target.hostname, target.port))
    proxy.url = f"redis://127.0.0.1:{proxy.port}{target.path}"
    yield proxy
    proxy.close()


@pytest.fixture
def start_worker(app, database_url, redis_url, broker_url, smtp, webhook, tmp_path):
    """Start `celery -A workers.celery_app worker` (prefork, one child), optionally with
    an embedded beat (`-B`), configured for this test's database, broker, SMTP and
    webhook. Depends on `app` so it stops before the tables are emptied."""
    workers: list[Worker] = []

    def start(beat: bool = False, broker: str | None = None, **settings) -> Worker:
        env = process_environment(
            {
                **server_settings(database_url, redis_url),
                "CELERY_BROKER_URL": broker or broker_url,
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp.port),
                "SMTP_FROM": "alerts@openwearables.test",
                "ALERT_WEBHOOK_URL": webhook.url,
                "ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                **FAST_DELIVERY,
                **settings,
            }
        )
        schedule = tmp_path / f"beat-{len(workers)}" if beat else None
        worker = launch_worker(env, schedule)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
