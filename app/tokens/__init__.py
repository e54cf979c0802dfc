"""RFC 7009 revocation and RFC 7662 introspection of access and refresh tokens."""

from flask import Flask

from app.extensions import api


def register(app: Flask) -> None:
    from app.tokens.routes import blp

    api.register_blueprint(blp)
