import base64
import time

import jwt
import pytest

from tests.support.auth import bearer
from tests.support.environment import TEST_SECRET_KEY


def test_me_returns_the_logged_in_developer(client, admin, admin_headers):
    response = client.get("/api/v1/auth/me", headers=admin_headers)

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"id", "email", "first_name", "last_name", "created_at"}
    assert body["id"] == admin["id"]
    assert body["email"] == admin["email"]
    assert (body["first_name"], body["last_name"]) == ("Ada", "Lovelace")
    assert body["created_at"].endswith("Z")


def test_access_token_carries_the_documented_claims(admin, admin_tokens):
    claims = jwt.decode(admin_tokens["access_token"], TEST_SECRET_KEY, algorithms=["HS256"])

    assert jwt.get_unverified_header(admin_tokens["access_token"])["alg"] == "HS256"
    assert claims["type"] == "developer"
    assert claims["sub"] == admin["id"]
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["jti"]


def test_me_without_credentials_is_401(client):
    response = client.get("/api/v1/auth/me")

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated."}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def _forge(claims: dict, key: str = TEST_SECRET_KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(admin, **changes):
    now = int(time.time())
    claims = {
        "type": "developer",
        "sub": admin["id"],
        "iat": now,
        "exp": now + 600,
        "jti": "j-1",
        "sid": "6b0b9e0e-35a8-4b4e-9d7b-4a1b1f6e6a3c",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


@pytest.mark.parametrize(
    ("make_token", "detail"),
    [
        (
            lambda a: _forge(_claims(a, iat=int(time.time()) - 7200, exp=int(time.time()) - 60)),
            "Token has expired.",
        ),
        (
            lambda a: _forge(_claims(a), key="another-secret-key-of-sufficient-length"),
            "Invalid token.",
        ),
        (lambda a: _forge(_claims(a))[:-3] + "AAA", "Invalid token."),
        (lambda a: jwt.encode(_claims(a), None, algorithm="none"), "Invalid token."),
        (lambda a: _forge(_claims(a, type="refresh")), "Invalid token type."),
        (lambda a: _forge(_claims(a, type="access")), "Invalid token type."),
        (lambda a: _forge(_claims(a, exp=None)), "Invalid token."),
        (lambda a: _forge(_claims(a, jti=None)), "Invalid token."),
        (lambda a: "not.a.jwt", "Invalid token."),
        (lambda a: "W10." + _forge(_claims(a)).split(".", 1)[1], "Invalid token."),
        (lambda a: "e30." + _forge(_claims(a)).split(".", 1)[1], "Invalid token."),
        (lambda a: "%%%." + _forge(_claims(a)).split(".", 1)[1], "Invalid token."),
        (lambda a: "", "Authorization header must be 'Bearer <token>'."),
        (lambda a: _segment(b"[" * 3000 + b"]" * 3000) + ".e30.AAAA", "Invalid token."),
        (lambda a: "e30." + _segment(b"[" * 3000 + b"]" * 3000) + ".AAAA", "Invalid token."),
    ],
    ids=[
        "expired",
        "wrong-key",
        "tampered",
        "alg-none",
        "refresh-type",
        "access-type",
        "no-exp",
        "no-jti",
        "garbage",
        # The header is read before the signature is checked, to choose the key.
        "header-not-an-object",
        "header-without-alg",
        "header-not-base64",
        "empty",
        "header-nested-too-deep",
        "claims-nested-too-deep",
    ],
)
def test_bad_access_tokens_are_401(client, admin, make_token, detail):
    response = client.get("/api/v1/auth/me", headers=bearer(make_token(admin)))

    assert response.status_code == 401
    assert response.get_json() == {"detail": detail}


def test_sdk_token_is_refused_on_developer_endpoint(client, admin):
    token = _forge(_claims(admin, type="sdk", app_id="app_x"))

    response = client.get("/api/v1/auth/me", headers=bearer(token))

    assert response.status_code == 403
    assert response.get_json() == {"detail": "SDK tokens cannot access this endpoint."}


def test_non_bearer_scheme_is_401(client, admin_tokens):
    response = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Token {admin_tokens['access_token']}"}
    )

    assert response.status_code == 401
    assert "Bearer" in response.get_json()["detail"]
