"""The admin dashboard: an HTML shell and static ES modules, same origin as the API."""

from flask import Flask


def register(app: Flask) -> None:
    from app.dashboard.routes import blp

    app.register_blueprint(blp)
