"""Expired and revoked refresh tokens are purged after the retention period, in
batches; live tokens, and used tokens that still guard a live session, are kept."""

import uuid
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import delete, select, update

from app.core.auth import Kind
from app.core.db import utcnow
from app.core.secrets import digest, generate_secret
from app.core.tasks import enqueue
from app.extensions import db
from app.refresh_tokens import services
from app.refresh_tokens.models import RefreshToken, RevokedAccessToken
from tests.workers.servers import wait_for

DAY = timedelta(days=1)


@pytest.fixture
def config_overrides(broker_url):
    """Tasks go to the broker (not run eagerly), so only a worker can run them."""
    return {"CELERY_BROKER_URL": broker_url}


def add_token(name: str, expires_in: timedelta, used_ago=None, revoked_ago=None, family=None):
    now = utcnow()
    db.session.add(
        RefreshToken(
            family_id=family or uuid.uuid4(),
            token_digest=digest(generate_secret("rt_")),
            subject_type="developer",
            subject_id=name,
            expires_at=now + expires_in,
            used_at=None if used_ago is None else now - used_ago,
            revoked_at=None if revoked_ago is None else now - revoked_ago,
        )
    )


def seed_tokens() -> None:
    """One row per case; `subject_id` names the case."""
    live_family = uuid.uuid4()
    add_token("live", 20 * DAY, family=live_family)
    add_token("used long ago, family live", 20 * DAY, used_ago=10 * DAY, family=live_family)
    add_token("expired 8 days ago", -8 * DAY)
    add_token("expired yesterday", -DAY)
    add_token("revoked 8 days ago", 20 * DAY, revoked_ago=8 * DAY)
    add_token("used and revoked 30 days ago", 20 * DAY, used_ago=31 * DAY, revoked_ago=30 * DAY)
    add_token("revoked yesterday", 20 * DAY, revoked_ago=DAY)
    db.session.commit()


def remaining() -> set[str]:
    db.session.rollback()
    return set(db.session.scalars(select(RefreshToken.subject_id)))


KEPT = {"live", "used long ago, family live", "expired yesterday", "revoked yesterday"}


def test_purge_deletes_past_retention_and_reports_counts(app):
    with app.app_context():
        seed_tokens()

        counts = services.purge(retention_days=7, batch_size=1000)

        assert counts == {"expired": 1, "revoked": 2}
        assert remaining() == KEPT


def test_purge_deletes_in_batches_of_one_statement_each(app, count_statements):
    with app.app_context():
        for number in range(5):
            add_token(f"expired {number}", -30 * DAY)
        add_token("live", DAY)
        db.session.commit()
        count_statements.clear()

        counts = services.purge(retention_days=7, batch_size=2)

        deletes = [s for s in count_statements if s.lstrip().upper().startswith("DELETE")]
        assert counts == {"expired": 5, "revoked": 0}
        # 2 + 2 + 1 expired rows, then one empty pass for revoked ones.
        assert len(deletes) == 4
        assert remaining() == {"live"}


def test_a_used_token_of_a_live_session_still_detects_reuse_after_the_purge(app, client, admin):
    with app.app_context():
        first = services.start_session(Kind.DEVELOPER, admin["id"])
        services.rotate(first.refresh_token)
        db.session.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=utcnow() - 30 * DAY)
        )
        db.session.commit()
        services.purge(retention_days=7, batch_size=1000)

    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first.refresh_token})
    assert reuse.status_code == 401
    assert "already been used" in reuse.get_json()["detail"]


@pytest.mark.slow
@pytest.mark.usefixtures("smtp", "webhook")
def test_purge_task_runs_on_a_real_worker_and_leaves_no_open_transaction(
    app, database_url, start_worker
):
    with app.app_context():
        db.session.execute(delete(RefreshToken))
        seed_tokens()
        for jti, expires_in in (("expired", -timedelta(seconds=1)), ("live", DAY)):
            db.session.add(
                RevokedAccessToken(jti=jti, subject="dev:x", expires_at=utcnow() + expires_in)
            )
        db.session.commit()
    worker = start_worker(REFRESH_TOKEN_RETENTION_DAYS=7)

    with app.app_context():
        assert enqueue("refresh_tokens.purge")
        wait_for(lambda: remaining() == KEPT, what="the purge")
        db.session.remove()
    wait_for(lambda: worker.succeeded("refresh_tokens.purge") == 1, what="the task's log")
    assert "{'expired': 1, 'revoked': 2, 'revoked_access_tokens': 1}" in worker.log
    with app.app_context():
        assert db.session.scalars(select(RevokedAccessToken.jti)).all() == ["live"]
        db.session.remove()

    # The task's session was removed with its app context: nothing idles in a transaction.
    database = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url) as connection:
        idle = connection.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()[0]
    assert idle == 0
