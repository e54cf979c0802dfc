"""Applications: the credentials (`app_id` + `app_secret`) a back end mints SDK tokens with."""

from flask import Flask

from app.extensions import api


def register(app: Flask) -> None:
    from app.applications.routes import blp

    api.register_blueprint(blp)
