"""API keys: long-lived server credentials with full access to users and their data."""

from flask import Flask

from app.core.auth import set_api_key_loader
from app.core.tasks import register_periodic_task
from app.extensions import api


def register(app: Flask) -> None:
    from app.api_keys.routes import blp
    from app.api_keys.services import load_record
    from app.api_keys.tasks import FLUSH_LAST_USED, REMINDER_INTERVAL_SECONDS, SEND_REMINDERS

    api.register_blueprint(blp)
    set_api_key_loader(app, load_record)
    register_periodic_task(app, FLUSH_LAST_USED, app.config["LAST_USED_FLUSH_SECONDS"])
    register_periodic_task(app, SEND_REMINDERS, REMINDER_INTERVAL_SECONDS)
