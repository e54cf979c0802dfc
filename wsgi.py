"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from app import create_app
from app.core.tasks import start_embedded_beat
from app.usage.counter import start_flushing

app = create_app()

# A serving process also flushes its usage counts from an idle timer and at exit.
start_flushing(app)

# Only a serving process runs the periodic tasks itself, and only when there is no broker
# (and so no beat): `make run`. Apps built elsewhere (CLI, tests) start no threads.
if not app.config["CELERY_BROKER_URL"] and not app.config["TESTING"]:
    start_embedded_beat(app)
