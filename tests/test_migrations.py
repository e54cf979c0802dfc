"""Alembic revisions upgrade and downgrade on PostgreSQL and SQLite, and match the models."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app.extensions import db
from tests.support.apps import close_app


@pytest.fixture(params=["postgresql", "sqlite"])
def fresh_app(request, create_database, redis_url, tmp_path):
    from app import create_app
    from tests.support.environment import app_config

    if request.param == "postgresql":
        url = create_database("owa_migrations")
    else:
        url = f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    app = create_app(app_config(url, redis_url))
    yield app
    close_app(app)


def test_upgrade_then_downgrade_to_base_then_upgrade_again(fresh_app):
    with fresh_app.app_context():
        upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())

        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}

        upgrade()
        assert "developers" in inspect(db.engine).get_table_names()


def test_models_and_migrations_agree(fresh_app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
