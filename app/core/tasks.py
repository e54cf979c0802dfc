"""Flask's Celery pattern: tasks run inside the app context and take ids, not objects.

`enqueue_after_commit` is how the request path hands work to a worker: the task is
published only once the transaction that made its input durable has committed, and a
broker outage never fails (or slows for long) the request; whatever the task was
for must then be recoverable from the database by a periodic sweep.
"""

import logging
import threading
import time
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

logger = logging.getLogger(__name__)

_AFTER_COMMIT = "owa_tasks_after_commit"

# A publish to an unreachable broker gives up after ~1 s instead of Celery's default
# retries; the outbox sweep delivers what was not published.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task[Any, Any]):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            # A fresh app context per task: Flask-SQLAlchemy scopes the session to it
            # and removes it when the context is popped, so no task inherits another's.
            with app.app_context():
                return self.run(*args, **kwargs)

    broker_url = app.config["CELERY_BROKER_URL"]
    celery_app: Celery = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(
        {
            # Eager mode still opens the (in-memory) broker connection; naming a host
            # keeps kombu from warning that none was supplied.
            "broker_url": broker_url or "memory://localhost/",
            "task_always_eager": not broker_url,
            "task_eager_propagates": True,
            "task_ignore_result": True,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_connection_retry_on_startup": True,
            "broker_connection_timeout": 2,
            "task_publish_retry_policy": PUBLISH_RETRY_POLICY,
            "timezone": "UTC",
            "beat_schedule": {},
        }
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def register_periodic_task(app: Flask, task_name: str, every_seconds: float) -> None:
    """Add a task to the beat schedule (`make beat`), or the embedded one without a broker."""
    app.extensions["celery"].conf.beat_schedule[task_name] = {
        "task": task_name,
        "schedule": every_seconds,
    }


def start_embedded_beat(app: Flask) -> None:
    """Without a broker there is no beat process: run the schedule in a daemon thread of
    this (single) process, so `make run` still records last use and delivers alerts."""
    celery_app: Celery = app.extensions["celery"]
    schedule: dict[str, dict[str, Any]] = dict(celery_app.conf.beat_schedule)
    if not schedule:
        return

    def run_forever() -> None:
        next_run = {name: time.monotonic() + entry["schedule"] for name, entry in schedule.items()}
        while True:
            name = min(next_run, key=lambda task: next_run[task])
            time.sleep(max(0.0, next_run[name] - time.monotonic()))
            try:
                celery_app.tasks[schedule[name]["task"]].apply()
            except Exception:
                logger.exception("embedded periodic task %s failed", name)
            next_run[name] = time.monotonic() + schedule[name]["schedule"]

    threading.Thread(target=run_forever, name="embedded-beat", daemon=True).start()


def enqueue(task_name: str, *args: object) -> bool:
    """Publish a registered task on this app's Celery app (eager without a broker).

    Returns False, after logging, when the broker cannot be reached (or, without a
    broker, when the eagerly run task raised)."""
    task = current_app.extensions["celery"].tasks[task_name]
    try:
        task.apply_async(args)
    except Exception:
        logger.exception("%s%r was not queued; a periodic sweep retries it", task_name, args)
        return False
    return True


def enqueue_after_commit(task_name: str, *args: object) -> None:
    """Publish the task once the current transaction commits; drop it on rollback."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append((task_name, args))


@event.listens_for(db.session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    for task_name, args in session.info.pop(_AFTER_COMMIT, []):
        enqueue(task_name, *args)


@event.listens_for(db.session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
