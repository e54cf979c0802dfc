"""The Celery app, built from `create_app` so tasks share the app's config and context.

`celery -A workers.celery_app worker` (`make worker`) runs the tasks;
`celery -A workers.celery_app beat` (`make beat`) schedules the periodic ones, which
each feature registers with `register_periodic_task` in `create_app`.
"""

from celery.signals import worker_process_init

from app import create_app
from app.extensions import db

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

if not flask_app.config["CELERY_BROKER_URL"]:
    raise RuntimeError("CELERY_BROKER_URL is empty: a worker or beat needs a broker.")


@worker_process_init.connect
def dispose_inherited_connections(**_: object) -> None:
    """A forked pool process must not share the parent's pooled sockets: drop them
    (without closing them, which would break the parent's) and open its own."""
    with flask_app.app_context():
        db.engine.dispose(close=False)
