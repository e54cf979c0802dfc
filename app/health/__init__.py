"""Liveness and readiness probes."""

from flask import Flask

from app.extensions import api


def register(app: Flask) -> None:
    from app.health.routes import blp

    api.register_blueprint(blp)
