"""An independent verifier (PyJWT's PyJWKClient) checks SDK tokens against the JWKS of
a live multi-worker gunicorn, before and across a key rotation and a retirement."""

import time
from datetime import UTC, datetime

import jwt
import pytest
import requests

from app.signing_keys import services
from tests.support.auth import bearer, developer_token
from tests.support.environment import server_settings
from tests.support.servers import gunicorn

CACHE_SECONDS = 1
ACTIVATION_DELAY_SECONDS = 2


def mint_sdk_token(base: str, headers: dict, user_id: str, application: dict) -> str:
    response = requests.post(
        f"{base}/api/v1/users/{user_id}/token",
        json={"app_id": application["app_id"], "app_secret": application["app_secret"]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def verify(client: jwt.PyJWKClient, token: str, algorithm: str) -> dict:
    signing_key = client.get_signing_key_from_jwt(token)
    return jwt.decode(token, signing_key.key, algorithms=[algorithm])


def read_user(base: str, user_id: str, token: str) -> requests.Response:
    return requests.get(f"{base}/api/v1/users/{user_id}", headers=bearer(token), timeout=10)


def published_kids(base: str) -> list[str]:
    response = requests.get(base + "/.well-known/jwks.json", timeout=10)
    assert response.headers["Cache-Control"] == f"public, max-age={CACHE_SECONDS}"
    return [key["kid"] for key in response.json()["keys"]]


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_pyjwkclient_verifies_sdk_tokens_across_rotation_and_retirement(
    make_app, database_url, redis_url, admin, tmp_path, algorithm
):
    settings = {
        "JWT_ALGORITHM": algorithm,
        "JWT_PRIVATE_KEYS_FILE": str(tmp_path / "keys.pem"),
        "JWKS_CACHE_SECONDS": CACHE_SECONDS,
        "JWT_KEY_ACTIVATION_DELAY_SECONDS": ACTIVATION_DELAY_SECONDS,
    }
    cli = make_app(**settings).test_cli_runner()
    assert cli.invoke(args=["ensure-signing-key"]).exit_code == 0
    environment = {name: str(value) for name, value in settings.items()}
    with gunicorn(server_settings(database_url, redis_url, **environment), tmp_path) as (base, _):
        headers = bearer(developer_token(base))
        user = requests.post(base + "/api/v1/users", json={}, headers=headers, timeout=30).json()
        application = requests.post(
            base + "/api/v1/applications", json={"name": "Pipeline"}, headers=headers, timeout=30
        ).json()
        verifier = jwt.PyJWKClient(base + "/.well-known/jwks.json", lifespan=CACHE_SECONDS)

        old_token = mint_sdk_token(base, headers, user["id"], application)
        claims = verify(verifier, old_token, algorithm)
        assert claims["type"] == "sdk"
        assert claims["sub"] == user["id"]
        assert claims["app_id"] == application["app_id"]
        old_kid = jwt.get_unverified_header(old_token)["kid"]

        rotated = cli.invoke(args=["rotate-signing-key"])
        assert rotated.exit_code == 0, rotated.output
        new_key = services.parse_keys((tmp_path / "keys.pem").read_text(), algorithm)[1]
        # Published by every worker at once; still not signing.
        for _ in range(6):
            assert published_kids(base) == [old_kid, new_key.kid]
        pending_token = mint_sdk_token(base, headers, user["id"], application)
        assert jwt.get_unverified_header(pending_token)["kid"] == old_kid

        time.sleep(max(0.0, (new_key.not_before - datetime.now(UTC)).total_seconds()) + 0.2)
        new_token = mint_sdk_token(base, headers, user["id"], application)
        assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid
        for token in (old_token, new_token):
            assert verify(verifier, token, algorithm)["sub"] == user["id"]
            assert read_user(base, user["id"], token).status_code == 200

        retired = cli.invoke(args=["retire-signing-key", "--force", "--", old_kid])
        assert retired.exit_code == 0, retired.output
        time.sleep(CACHE_SECONDS + 0.1)

        assert published_kids(base) == [new_key.kid]
        with pytest.raises(jwt.PyJWKClientError):
            verify(verifier, old_token, algorithm)
        assert verify(verifier, new_token, algorithm)["sub"] == user["id"]
        assert read_user(base, user["id"], old_token).status_code == 401
