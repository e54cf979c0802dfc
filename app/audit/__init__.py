"""Append-only audit events for every credential change and login."""

from flask import Flask

from app.extensions import api


def register(app: Flask) -> None:
    from app.audit.routes import blp

    api.register_blueprint(blp)
