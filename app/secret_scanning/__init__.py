"""GitHub secret scanning: leaked API keys reported by GitHub are revoked (or alerted on)."""

from flask import Flask

from app.extensions import api

# The table exists (migrations, test truncation) whether or not the endpoint does.
from app.secret_scanning import models  # noqa: F401


def register(app: Flask) -> None:
    """Only a deployment that has GitHub's public keys has the endpoint: without
    `SECRET_SCANNING_PUBLIC_KEYS_FILE` nothing is registered (404)."""
    path = app.config["SECRET_SCANNING_PUBLIC_KEYS_FILE"]
    if not path:
        return
    from app.secret_scanning.routes import blp
    from app.secret_scanning.services import load_public_keys

    # A missing or unreadable key file stops the app at start, not at GitHub's first report.
    load_public_keys(path)
    api.register_blueprint(blp)
