"""The settings tests run with, for apps built in-process and for server processes."""

import os
from pathlib import Path
from typing import Any

from app.config import SETTING_NAMES

REPO = Path(__file__).resolve().parents[2]
ADMIN_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
REDIS_SERVER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
TEST_SECRET_KEY = "test-secret-key-" + "x" * 32
TEST_PEPPER = "test-pepper-" + "y" * 32
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"
WEBHOOK_SECRET = "whsec-test-" + "z" * 24


def app_config(database_url: str, redis_url: str, **overrides: Any) -> dict[str, Any]:
    """`create_app` settings for a test app on these services."""
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": "",
        "SECRET_KEY": TEST_SECRET_KEY,
        "TOKEN_PEPPER": TEST_PEPPER,
        "ADMIN_EMAIL": "",
        "ADMIN_PASSWORD": "",
        # Behaviour, not hash strength, is under test here; one test pins the defaults.
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 1024,
        **overrides,
    }


def server_settings(database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """The settings of a test server process (gunicorn, a worker) on these services."""
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "TOKEN_PEPPER": TEST_PEPPER,
        **overrides,
    }


def process_environment(settings: dict[str, Any]) -> dict[str, str]:
    """The environment of a child process: this one's, minus every app setting (and
    FLASK_DEBUG) the developer's shell may have exported, plus `settings`."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTING_NAMES and name != "FLASK_DEBUG"
    }
    return {**inherited, **{name: str(value) for name, value in settings.items()}}
