"""Open Wearables Auth: the application factory."""

import importlib
import logging
from pathlib import Path
from typing import Any

from flask import Flask

from app.config import load_config
from app.core.errors import register_error_handlers
from app.core.store import init_store
from app.core.tasks import celery_init_app
from app.extensions import api, db, jwt, migrate

TASK_MODULES = ("app.alerts.tasks", "app.refresh_tokens.tasks")
MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → extensions → Api → blueprints → errors → celery."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_config(overrides=config))
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIRECTORY))
    jwt.init_app(app)
    init_store(app)
    api.init_app(app)

    _register_features(app)
    register_error_handlers(app)
    celery_init_app(app)
    return app


def _register_features(app: Flask) -> None:
    # Importing a task module registers its tasks with every Celery app.
    for module in TASK_MODULES:
        importlib.import_module(module)
    from app.audit.routes import blp as audit_blp
    from app.developers.cli import create_admin, ensure_admin
    from app.developers.routes import blp as auth_blp
    from app.health.routes import blp as health_blp
    from app.refresh_tokens.routes import blp as refresh_blp
    from app.users.routes import blp as users_blp

    for blueprint in (health_blp, auth_blp, refresh_blp, users_blp, audit_blp):
        api.register_blueprint(blueprint)
    app.cli.add_command(create_admin)
    app.cli.add_command(ensure_admin)
