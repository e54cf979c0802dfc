"""The seed's SDK flow, with curl, exactly as the public docs show it, against gunicorn
(two workers sharing PostgreSQL and Redis)."""

import json
import subprocess

import jwt
import pytest

from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_SECRET_KEY, server_settings
from tests.support.servers import gunicorn


def curl(*args: str) -> tuple[int, dict | None]:
    """Run curl with the docs' arguments; return the status and the JSON body (if any)."""
    completed = subprocess.run(
        ["curl", "--silent", "--show-error", "--write-out", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = completed.stdout.rpartition("\n")
    return int(status), json.loads(body) if body else None


@pytest.mark.slow
def test_seed_sdk_flow_with_curl(database_url, redis_url, admin, tmp_path):
    config = server_settings(database_url, redis_url)
    with gunicorn(config, tmp_path, workers=2) as (base, _):
        status, login = curl(
            "-X", "POST", f"{base}/api/v1/auth/login",
            "-d", f"username={ADMIN_EMAIL}", "-d", f"password={ADMIN_PASSWORD}",
        )  # fmt: skip
        assert status == 200
        admin_auth = f"Authorization: Bearer {login['access_token']}"

        # Applications: "Create application"
        status, application = curl(
            "-X", "POST", f"{base}/api/v1/applications",
            "-H", admin_auth,
            "-H", "Content-Type: application/json",
            "-d", '{\n    "name": "My Mobile App"\n  }',
        )  # fmt: skip
        assert status == 201
        assert set(application) == {"id", "app_id", "name", "app_secret", "created_at"}
        assert application["app_id"].startswith("app_")
        assert application["app_secret"].startswith("secret_")

        status, user = curl(
            "-X", "POST", f"{base}/api/v1/users",
            "-H", admin_auth,
            "-H", "Content-Type: application/json",
            "-d", '{"email": "runner@example.com"}',
        )  # fmt: skip
        assert status == 201
        user_id = user["id"]
        status, _ = curl(
            "-X", "POST", f"{base}/api/v1/users/{user_id}/events/workouts",
            "-H", admin_auth,
            "-H", "Content-Type: application/json",
            "-d", json.dumps({"data": [{
                "external_id": "hk-1", "type": "running",
                "start_time": "2026-03-03T07:00:00Z", "end_time": "2026-03-03T07:40:00Z",
            }]}),
        )  # fmt: skip
        assert status == 200

        # "Method 1: Using Application Credentials"
        status, tokens = curl(
            "-X", "POST", f"{base}/api/v1/users/{user_id}/token",
            "-H", "Content-Type: application/json",
            "-d", json.dumps(
                {"app_id": application["app_id"], "app_secret": application["app_secret"]},
                indent=4,
            ),
        )  # fmt: skip
        assert status == 200
        assert set(tokens) == {"access_token", "token_type", "refresh_token", "expires_in"}
        assert (tokens["token_type"], tokens["expires_in"]) == ("bearer", 3600)
        assert tokens["refresh_token"].startswith("rt_")

        # "Using SDK Tokens"
        read_with = (
            f"{base}/api/v1/users/{user_id}/events/workouts"
            "?start_date=2026-03-01&end_date=2026-03-07"
        )
        status, workouts = curl(
            "-X", "GET", read_with,
            "-H", f"Authorization: Bearer {tokens['access_token']}",
        )  # fmt: skip
        assert status == 200
        assert [w["external_id"] for w in workouts["data"]] == ["hk-1"]
        assert workouts["pagination"] == {"next_cursor": None, "has_more": False}

        # The Swift client: ISO8601DateFormatter in start_date/end_date.
        status, swift = curl(
            f"{base}/api/v1/users/{user_id}/events/workouts"
            "?start_date=2026-03-01T00:00:00Z&end_date=2026-03-07T00:00:00Z",
            "-H", f"Authorization: Bearer {tokens['access_token']}",
        )  # fmt: skip
        assert status == 200
        assert swift["data"] == workouts["data"]

        # "Token Expiration and Refresh"
        status, refreshed = curl(
            "-X", "POST", f"{base}/api/v1/auth/refresh",
            "-H", "Content-Type: application/json",
            "-d", '{\n    "refresh_token": "' + tokens["refresh_token"] + '"\n  }',
        )  # fmt: skip
        assert status == 200
        assert set(refreshed) == {"access_token", "token_type", "refresh_token", "expires_in"}
        assert refreshed["access_token"] != tokens["access_token"]
        assert refreshed["refresh_token"] != tokens["refresh_token"]
        assert curl(read_with, "-H", f"Authorization: Bearer {refreshed['access_token']}")[0] == 200

        status, reuse = curl(
            "-X", "POST", f"{base}/api/v1/auth/refresh",
            "-H", "Content-Type: application/json",
            "-d", json.dumps({"refresh_token": tokens["refresh_token"]}),
        )  # fmt: skip
        assert status == 401
        assert "detail" in reuse
        status, _ = curl(
            "-X", "POST", f"{base}/api/v1/auth/refresh",
            "-H", "Content-Type: application/json",
            "-d", json.dumps({"refresh_token": refreshed["refresh_token"]}),
        )  # fmt: skip
        assert status == 401, "the whole family is dead after the reuse"
        for access_token in (tokens["access_token"], refreshed["access_token"]):
            for _ in range(4):  # whichever worker answers
                status, body = curl(read_with, "-H", f"Authorization: Bearer {access_token}")
                assert (status, body) == (401, {"detail": "Token has been revoked."})

        # "Method 2: Using Admin Authentication"
        status, admin_minted = curl(
            "-X", "POST", f"{base}/api/v1/users/{user_id}/token",
            "-H", admin_auth,
        )  # fmt: skip
        assert status == 200
        claims = jwt.decode(admin_minted["access_token"], TEST_SECRET_KEY, algorithms=["HS256"])
        assert claims["app_id"] == f"admin:{admin['id']}"
        assert (claims["type"], claims["sub"]) == ("sdk", user_id)
        assert (
            curl(read_with, "-H", f"Authorization: Bearer {admin_minted['access_token']}")[0] == 200
        )
