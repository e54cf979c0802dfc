"""Wearable data: workouts and health time series of one end user."""

from flask import Flask

from app.extensions import api


def register(app: Flask) -> None:
    from app.data.routes import blp

    api.register_blueprint(blp)
