"""Team invitations: a developer invites a colleague by e-mail; the link creates their account."""

from flask import Flask

from app.extensions import api


def register(app: Flask) -> None:
    from app.invitations.routes import blp

    api.register_blueprint(blp)
