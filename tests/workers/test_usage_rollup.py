"""The usage rollup in a real Celery worker: flushed minutes become hourly and daily
rows once, the usage endpoint answers them, and a key used from a new network gets its
unusual-activity mail through the same worker."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.api_keys.models import ApiKey
from app.core.tasks import enqueue
from app.extensions import db
from app.usage.minutes import Batch, CountKey
from app.usage.models import RolledMinute, UsageBucket
from tests.support.servers import wait_for

pytestmark = pytest.mark.slow

USERS = "/api/v1/users"


@pytest.fixture
def config_overrides(broker_url):
    return {"CELERY_BROKER_URL": broker_url}


def hourly_requests(app, key_id: str) -> int:
    with app.app_context():
        total = db.session.scalar(
            select(func.sum(UsageBucket.requests_2xx)).where(
                UsageBucket.granularity == "hour", UsageBucket.subject_id == key_id
            )
        )
        db.session.remove()
    return int(total or 0)


def test_a_worker_rolls_up_flushed_minutes_once_and_alerts_on_a_new_network(
    app, client, admin_headers, api_key, smtp, start_worker
):
    worker = start_worker()
    with app.app_context():  # a key past its first day, when networks are only learned
        key = db.session.get(ApiKey, api_key["id"])
        key.created_at -= timedelta(days=2)
        db.session.commit()
    # What a flush wrote three minutes ago (finished minutes are the rollup's to take).
    minute = int(time.time() // 60) - 3
    batch = Batch()
    batch.counts[(minute, CountKey("api_key", api_key["id"], "2xx", USERS))] = 7
    batch.ips[(minute, api_key["id"])] = {"192.0.2.10"}
    app.extensions["owa_usage_minutes"].write(batch)

    with app.app_context():
        assert enqueue("usage.roll_up")
        assert enqueue("usage.roll_up")  # a duplicate run adds nothing
    wait_for(lambda: worker.succeeded("usage.roll_up") >= 2, what="two rollups")

    assert hourly_requests(app, api_key["id"]) == 7
    with app.app_context():
        assert db.session.get(RolledMinute, minute) is not None
    usage = client.get(
        f"/api/v1/api-keys/{api_key['id']}/usage",
        query_string={"granularity": "day"},
        headers=admin_headers,
    ).get_json()
    assert usage["totals"] == {"2xx": 7, "4xx": 0, "429": 0, "5xx": 0}
    wait_for(lambda: smtp.messages, what="the new-network mail")
    [mail] = smtp.messages
    assert mail["Subject"] == "Unusual activity, API key used from a new network: Test server"
    assert "192.0.2.0/24" in mail.get_payload(decode=True).decode()
