"""Developers: the platform's admins, who log in with e-mail and password."""

from flask import Flask

from app.extensions import api


def register(app: Flask) -> None:
    from app.developers.cli import create_admin, ensure_admin
    from app.developers.routes import blp, team_blp

    api.register_blueprint(blp)
    api.register_blueprint(team_blp)
    app.cli.add_command(create_admin)
    app.cli.add_command(ensure_admin)
