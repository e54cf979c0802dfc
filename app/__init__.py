"""Open Wearables Auth: the application factory.

Each feature package exposes `register(app)`, which adds everything the feature
brings (its blueprint, Celery tasks and their schedule, CLI commands, credential
resolvers); `create_app` calls them in `FEATURES` order, which is also the order of
the API document. `register` imports its routes and tasks when called, so importing
a feature's models or services (another feature, a migration, a worker) never drags
in its routes.
"""

import logging
from pathlib import Path
from typing import Any, Protocol

from flask import Flask

from app import (
    account_mail,
    activity_alerts,
    alerts,
    api_keys,
    applications,
    audit,
    dashboard,
    data,
    developers,
    health,
    invitations,
    refresh_tokens,
    sdk_tokens,
    secret_scanning,
    signing_keys,
    tokens,
    usage,
    users,
)
from app.config import load_config
from app.core.admission import init_admission
from app.core.api import NestingSafeJSONProvider
from app.core.cors import init_cors
from app.core.deployment import init_deployment
from app.core.errors import register_error_handlers
from app.core.outages import watch_database
from app.core.ratelimit import init_rate_limits
from app.core.store import init_store
from app.core.tasks import celery_init_app
from app.extensions import api, db, jwt, migrate

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent.parent / "migrations"


class Feature(Protocol):
    def register(self, app: Flask) -> None: ...


FEATURES: tuple[Feature, ...] = (
    health,
    developers,
    refresh_tokens,
    api_keys,
    secret_scanning,
    users,
    sdk_tokens,
    data,
    applications,
    audit,
    usage,
    signing_keys,
    tokens,
    invitations,
    alerts,
    activity_alerts,
    account_mail,
    dashboard,
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → extensions → Api → features → CORS → errors."""
    app = Flask(__name__, instance_relative_config=True)
    app.json = NestingSafeJSONProvider(app)
    app.config.from_mapping(load_config(overrides=config))
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    init_deployment(app)

    db.init_app(app)
    with app.app_context():
        watch_database(app, db.engine, db.session)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIRECTORY))
    jwt.init_app(app)
    init_store(app)
    init_rate_limits(app)
    init_admission(app)
    api.init_app(app)

    celery_init_app(app)
    for feature in FEATURES:
        feature.register(app)
    init_cors(app)
    register_error_handlers(app)
    return app
