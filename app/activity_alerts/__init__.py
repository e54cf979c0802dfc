"""Unusual-activity alerts: bursts of failed SDK token mints per `app_id` and of
refused API keys per network, through the alert outbox (mail, signed webhook) and the
audit trail, at most once per kind, subject and clock hour."""

from flask import Flask

from app.core.admission import set_api_key_refusal_listener


def register(app: Flask) -> None:
    from app.activity_alerts import services

    set_api_key_refusal_listener(app, services.note_api_key_refusal)
