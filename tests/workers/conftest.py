"""Real Celery workers against the real Redis broker and the test PostgreSQL database.

The broker gets a Redis database index of its own, locked the same way as the
`redis_url` fixture's, so parallel runs and the app fixture's FLUSHDB never meet it.
"""

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from tests.conftest import TEST_PEPPER, TEST_SECRET_KEY, claim_redis_database
from tests.workers.servers import SmtpServer, TcpProxy, WebhookReceiver

REPO = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec-test-" + "z" * 24
# Short enough for tests to wait on; the lease still exceeds two send timeouts.
FAST_DELIVERY = {
    "ALERT_SEND_TIMEOUT_SECONDS": "2",
    "ALERT_DELIVERY_LEASE_SECONDS": "5",
    "ALERT_RETRY_BASE_SECONDS": "1",
    "ALERT_SWEEP_SECONDS": "1",
}


@pytest.fixture(scope="session")
def broker_server_url():
    yield from claim_redis_database()


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


class Worker:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self.ready.set()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def succeeded(self, task_name: str) -> int:
        return sum(f"Task {task_name}[" in line and "succeeded" in line for line in self.lines)

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.reader.join(10)
        self.process.stdout.close()


def launch_worker(env: dict[str, str], beat_schedule: Path | None = None) -> Worker:
    """`celery -A workers.celery_app worker` (prefork, one child) in its own process
    group, with an embedded beat when `beat_schedule` is given; returns once ready."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "worker",
        "--loglevel=INFO",
        "--pool=prefork",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--hostname=owa-test-{uuid.uuid4().hex[:8]}@%h",
    ]
    if beat_schedule is not None:
        command += ["--beat", f"--schedule={beat_schedule}"]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    worker = Worker(process)
    if not worker.ready.wait(90):
        worker.stop()
        raise AssertionError(f"worker did not become ready:\n{worker.log}")
    return worker


@pytest.fixture
def start_worker(app, database_url, redis_url, broker_url, smtp, webhook, tmp_path):
    """Start `celery -A workers.celery_app worker` (prefork, one child), optionally with
    an embedded beat (`-B`), configured for this test's database, broker, SMTP and
    webhook. Depends on `app` so it stops before the tables are emptied."""
    workers: list[Worker] = []

    def start(beat: bool = False, broker: str | None = None, **settings) -> Worker:
        env = {
            **os.environ,
            "APP_ENV": "testing",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": broker or broker_url,
            "SECRET_KEY": TEST_SECRET_KEY,
            "TOKEN_PEPPER": TEST_PEPPER,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_FROM": "alerts@openwearables.test",
            "ALERT_WEBHOOK_URL": webhook.url,
            "ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **FAST_DELIVERY,
            **{name: str(value) for name, value in settings.items()},
        }
        schedule = tmp_path / f"beat-{len(workers)}" if beat else None
        worker = launch_worker(env, schedule)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
