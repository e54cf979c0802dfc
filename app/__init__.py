"""Open Wearables Auth: the application factory."""

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from app.config import load_config
from app.core.auth import set_api_key_resolver
from app.core.cors import init_cors
from app.core.deployment import init_deployment
from app.core.errors import register_error_handlers
from app.core.outages import watch_database
from app.core.ratelimit import init_rate_limits
from app.core.revocation import set_revocation_source
from app.core.store import init_store
from app.core.tasks import celery_init_app, register_periodic_task
from app.extensions import api, db, jwt, migrate

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → extensions → Api → blueprints → errors → celery."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_config(overrides=config))
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    init_deployment(app)

    db.init_app(app)
    with app.app_context():
        watch_database(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIRECTORY))
    jwt.init_app(app)
    init_store(app)
    init_rate_limits(app)
    api.init_app(app)

    celery_init_app(app)
    _register_features(app)
    init_cors(app)
    register_error_handlers(app)
    return app


def _register_features(app: Flask) -> None:
    from app.account_mail import tasks as account_mail_tasks
    from app.alerts import tasks as alert_tasks
    from app.api_keys import tasks as api_key_tasks
    from app.api_keys.auth import resolve_api_key
    from app.api_keys.routes import blp as api_keys_blp
    from app.applications.routes import blp as applications_blp
    from app.audit.routes import blp as audit_blp
    from app.data.routes import blp as data_blp
    from app.developers.cli import create_admin, ensure_admin
    from app.developers.routes import blp as auth_blp
    from app.developers.routes import team_blp
    from app.health.routes import blp as health_blp
    from app.invitations.routes import blp as invitations_blp
    from app.refresh_tokens import revocations
    from app.refresh_tokens import tasks as refresh_token_tasks
    from app.refresh_tokens.routes import blp as refresh_blp
    from app.sdk_tokens.routes import blp as sdk_tokens_blp
    from app.signing_keys import cli as signing_key_cli
    from app.signing_keys.routes import blp as jwks_blp
    from app.signing_keys.services import init_signing_keys
    from app.tokens.routes import blp as tokens_blp
    from app.users.routes import blp as users_blp

    for blueprint in (
        health_blp,
        auth_blp,
        refresh_blp,
        api_keys_blp,
        users_blp,
        sdk_tokens_blp,
        data_blp,
        applications_blp,
        audit_blp,
        jwks_blp,
        tokens_blp,
        team_blp,
        invitations_blp,
    ):
        api.register_blueprint(blueprint)
    init_signing_keys(app)
    set_api_key_resolver(app, resolve_api_key)
    set_revocation_source(app, revocations)
    config = app.config
    register_periodic_task(app, api_key_tasks.FLUSH_LAST_USED, config["LAST_USED_FLUSH_SECONDS"])
    register_periodic_task(
        app, api_key_tasks.SEND_REMINDERS, api_key_tasks.REMINDER_INTERVAL_SECONDS
    )
    register_periodic_task(app, alert_tasks.SWEEP, config["ALERT_SWEEP_SECONDS"])
    register_periodic_task(app, account_mail_tasks.SWEEP, config["ALERT_SWEEP_SECONDS"])
    register_periodic_task(app, refresh_token_tasks.PURGE, config["REFRESH_TOKEN_PURGE_SECONDS"])
    register_periodic_task(
        app, refresh_token_tasks.PUSH_REVOCATIONS, config["REVOCATION_PUSH_SECONDS"]
    )
    app.cli.add_command(create_admin)
    app.cli.add_command(ensure_admin)
    for command in (
        signing_key_cli.rotate_signing_key,
        signing_key_cli.retire_signing_key,
        signing_key_cli.list_signing_keys,
        signing_key_cli.ensure_signing_key,
    ):
        app.cli.add_command(command)
