"""The Celery app, built from `create_app` so tasks share the app's config and context."""

from app import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
