"""API keys: long-lived server credentials with access to users and their data, optionally
restricted to scopes and networks."""

from flask import Flask

from app.core.auth import set_api_key_loader, set_ip_refusal_recorder
from app.core.tasks import register_periodic_task
from app.extensions import api


def register(app: Flask) -> None:
    from app.api_keys.routes import blp
    from app.api_keys.services import load_record, record_ip_refusal
    from app.api_keys.tasks import FLUSH_LAST_USED, REMINDER_INTERVAL_SECONDS, SEND_REMINDERS

    api.register_blueprint(blp)
    set_api_key_loader(app, load_record)
    set_ip_refusal_recorder(app, record_ip_refusal)
    register_periodic_task(app, FLUSH_LAST_USED, app.config["LAST_USED_FLUSH_SECONDS"])
    register_periodic_task(app, SEND_REMINDERS, REMINDER_INTERVAL_SECONDS)
