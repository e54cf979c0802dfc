"""Opaque, single-use, rotating refresh tokens for any subject (developers, end users).

A login or an SDK-token mint starts a family; each refresh consumes one token and
issues its successor in the same family. Presenting a consumed token again means it
leaked: the whole family, and every access token minted from it, is revoked.
"""

from flask import Flask

from app.core.revocation import set_revocation_source
from app.core.tasks import register_periodic_task
from app.extensions import api


def register(app: Flask) -> None:
    from app.refresh_tokens import revocations
    from app.refresh_tokens.routes import blp
    from app.refresh_tokens.tasks import PURGE, PUSH_REVOCATIONS

    api.register_blueprint(blp)
    set_revocation_source(app, revocations)
    register_periodic_task(app, PURGE, app.config["REFRESH_TOKEN_PURGE_SECONDS"])
    register_periodic_task(app, PUSH_REVOCATIONS, app.config["REVOCATION_PUSH_SECONDS"])
