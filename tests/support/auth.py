"""Credentials as a client sends them."""

import time
import uuid
from typing import Any

import jwt
import requests
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_SECRET_KEY


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: FlaskClient, email: str, password: str) -> TestResponse:
    return client.post("/api/v1/auth/login", data={"username": email, "password": password})


def developer_login(base: str, password: str = ADMIN_PASSWORD) -> dict[str, Any]:
    """Log the `admin` fixture's developer in over HTTP; the token pair."""
    response = requests.post(
        base + "/api/v1/auth/login",
        data={"username": ADMIN_EMAIL, "password": password},
        timeout=30,
    )
    response.raise_for_status()
    pair: dict[str, Any] = response.json()
    return pair


def developer_token(base: str) -> str:
    token: str = developer_login(base)["access_token"]
    return token


def forge_token(kind: str, subject_id: str, app_id: str | None = None) -> str:
    """A valid access JWT as the app would issue it: its own session and jti."""
    now = int(time.time())
    claims = {
        "type": kind,
        "sub": subject_id,
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
    }
    if app_id:
        claims["app_id"] = app_id
    return jwt.encode(claims, TEST_SECRET_KEY, algorithm="HS256")
