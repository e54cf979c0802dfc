"""Asymmetric signing keys of access JWTs: the key file, rotation, and the JWKS."""

from flask import Flask

from app.extensions import api


def register(app: Flask) -> None:
    from app.signing_keys.cli import (
        ensure_signing_key,
        list_signing_keys,
        retire_signing_key,
        rotate_signing_key,
    )
    from app.signing_keys.routes import blp
    from app.signing_keys.services import init_signing_keys

    api.register_blueprint(blp)
    init_signing_keys(app)
    for command in (rotate_signing_key, retire_signing_key, list_signing_keys, ensure_signing_key):
        app.cli.add_command(command)
