"""`workers.celery_app`: what `make worker` and `make beat` load."""

import json
import os
import subprocess
import sys

from tests.support.environment import REPO

PRINT_SCHEDULE = """
import json
from workers.celery_app import celery_app
print(json.dumps({name: [entry["task"], entry["schedule"]]
                  for name, entry in celery_app.conf.beat_schedule.items()}))
"""


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": "sqlite://", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_beat_schedule_follows_the_settings(broker_url):
    result = run_python(
        PRINT_SCHEDULE,
        CELERY_BROKER_URL=broker_url,
        ALERT_SWEEP_SECONDS="45",
        REFRESH_TOKEN_PURGE_SECONDS="600",
        REVOCATION_PUSH_SECONDS="5",
        USAGE_ROLLUP_SECONDS="120",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "alerts.sweep": ["alerts.sweep", 45],
        "account_mail.sweep": ["account_mail.sweep", 45],
        "refresh_tokens.purge": ["refresh_tokens.purge", 600],
        "revocations.push": ["revocations.push", 5],
        "api_keys.flush_last_used": ["api_keys.flush_last_used", 30],
        "api_keys.send_reminders": ["api_keys.send_reminders", 86400],
        "usage.roll_up": ["usage.roll_up", 120],
    }


def test_a_worker_without_a_broker_refuses_to_start():
    result = run_python("import workers.celery_app", CELERY_BROKER_URL="")

    assert result.returncode != 0
    assert "CELERY_BROKER_URL is empty" in result.stderr


def test_make_worker_and_make_beat_start_celery_from_workers_celery_app():
    worker = subprocess.run(
        ["make", "-n", "worker"], cwd=REPO, capture_output=True, text=True, check=True
    )
    beat = subprocess.run(
        ["make", "-n", "beat"], cwd=REPO, capture_output=True, text=True, check=True
    )

    assert "celery -A workers.celery_app worker" in worker.stdout
    assert "celery -A workers.celery_app beat" in beat.stdout


def test_building_an_app_starts_no_background_thread(make_app):
    import threading

    before = {thread.ident for thread in threading.enumerate()}
    make_app(APP_ENV="development", CELERY_BROKER_URL="")

    started = [t.name for t in threading.enumerate() if t.ident not in before]
    assert "embedded-beat" not in started
