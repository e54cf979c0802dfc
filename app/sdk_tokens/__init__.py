"""SDK tokens: user-scoped access tokens that mobile and web apps mint for one end user."""

from flask import Flask

from app.extensions import api


def register(app: Flask) -> None:
    from app.sdk_tokens.routes import blp

    api.register_blueprint(blp)
