"""End users: the people whose wearable data the platform stores."""

from flask import Flask

from app.extensions import api


def register(app: Flask) -> None:
    from app.users.routes import blp

    api.register_blueprint(blp)
