"""Flask's Celery pattern: tasks run inside the app context and take ids, not objects."""

import logging
import threading
import time

from celery import Celery, Task
from flask import Flask

log = logging.getLogger(__name__)


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker_url = app.config["CELERY_BROKER_URL"]
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(
        {
            "broker_url": broker_url or "memory://",
            "task_always_eager": not broker_url,
            "task_eager_propagates": True,
            "task_ignore_result": True,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_connection_retry_on_startup": True,
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
    celery_app = app.extensions["celery"]
    schedule = dict(celery_app.conf.beat_schedule)
    if not schedule:
        return

    def run_forever() -> None:
        next_run = {name: time.monotonic() + entry["schedule"] for name, entry in schedule.items()}
        while True:
            name = min(next_run, key=next_run.get)
            time.sleep(max(0.0, next_run[name] - time.monotonic()))
            try:
                celery_app.tasks[schedule[name]["task"]].apply()
            except Exception:
                log.exception("embedded periodic task %s failed", name)
            next_run[name] = time.monotonic() + schedule[name]["schedule"]

    threading.Thread(target=run_forever, name="embedded-beat", daemon=True).start()
