"""Unusual-activity alerts: bursts of failed SDK token mints per `app_id` and of
refused API keys per network, and from the usage rollup an API key used from a new
network, held at its rate limit, or far above its usual traffic; through the alert
outbox (mail, signed webhook) and the audit trail, at most once per kind, subject and
clock hour."""

from flask import Flask

from app.core.admission import set_api_key_refusal_listener
from app.usage.services import register_minute_listener


def register(app: Flask) -> None:
    from app.activity_alerts import services, usage_signals

    set_api_key_refusal_listener(app, services.note_api_key_refusal)
    register_minute_listener(app, usage_signals.check_minute)
