"""A Celery worker killed mid-delivery of an alert, on an own PostgreSQL cluster and
redis-server (broker and shared state).

Delivery is at least once, not exactly once: the worker dies after the SMTP server has
taken the mail but before the worker recorded it sent, so the next worker sends it
again. Both copies carry the same Message-ID, by which mail systems drop the repeat.
(Killed before the server took the mail, it is delivered exactly once:
tests/workers/test_alert_delivery.py.)"""

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.alerts.models import Alert
from app.developers import services as developers
from app.extensions import db
from tests.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    TEST_PEPPER,
    TEST_SECRET_KEY,
    _test_config,
    close_app,
    login,
)
from tests.workers.conftest import FAST_DELIVERY, launch_worker
from tests.workers.servers import SmtpServer, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def the_alert(app) -> Alert:
    with app.app_context():
        alert = db.session.scalars(select(Alert)).one()
        db.session.expunge(alert)
        db.session.remove()
        return alert


def test_worker_killed_after_the_smtp_server_took_the_mail_delivers_it_again(
    postgres_cluster, own_redis, smtp, tmp_path
):
    database_url = postgres_cluster.create_database("owa_faults")
    broker_url = own_redis.url.removesuffix("/0") + "/1"
    app = create_app(_test_config(database_url, own_redis.url, CELERY_BROKER_URL=broker_url))
    workers = []
    try:
        with app.app_context():
            upgrade()
            developers.create_developer(ADMIN_EMAIL, ADMIN_PASSWORD)
        env = {
            **os.environ,
            "APP_ENV": "testing",
            "DATABASE_URL": database_url,
            "REDIS_URL": own_redis.url,
            "CELERY_BROKER_URL": broker_url,
            "SECRET_KEY": TEST_SECRET_KEY,
            "TOKEN_PEPPER": TEST_PEPPER,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **FAST_DELIVERY,
        }
        smtp.sink.hold_first_reply.set()
        workers.append(launch_worker(env, tmp_path / "beat-first"))

        client = app.test_client()
        tokens = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
        used = {"refresh_token": tokens["refresh_token"]}
        assert client.post("/api/v1/auth/refresh", json=used).status_code == 200
        assert client.post("/api/v1/auth/refresh", json=used).status_code == 401

        # The server has the message; the worker waits for its 250 and dies.
        assert smtp.sink.holding.wait(60), workers[0].log
        workers[0].kill()
        smtp.sink.release.set()
        assert len(smtp.messages) == 1
        in_flight = the_alert(app)
        assert (in_flight.status, in_flight.email_sent_at) == ("sending", None)

        # Its lease runs out; the new worker's sweep re-queues the alert and sends it.
        workers.append(launch_worker(env, tmp_path / "beat-second"))
        wait_for(lambda: the_alert(app).status == "sent", seconds=30, what="the alert sent")
        delivered = the_alert(app)
        assert delivered.attempts == 2
        assert len(smtp.messages) == 2
        first, second = smtp.messages
        assert (
            first["Message-ID"] == second["Message-ID"] == f"<alert-{delivered.id}@open-wearables>"
        )
        assert first["Subject"] == "Refresh token reuse detected: session revoked"
    finally:
        for worker in workers:
            worker.stop()
        app.extensions["celery"].close()
        close_app(app)
