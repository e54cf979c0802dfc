import pytest

from app.core.secrets import generate_secret
from tests.support.auth import bearer

USERS = "/api/v1/users"


def mistyped(secret: str) -> str:
    return secret[:-1] + ("1" if secret[-1] == "0" else "0")


def test_bearer_api_key_works_on_users(client, api_key_headers):
    response = client.get(USERS, headers=api_key_headers)

    assert response.status_code == 200
    assert response.get_json()["items"] == []


def test_x_open_wearables_api_key_header_works(client, api_key):
    response = client.get(USERS, headers={"X-Open-Wearables-API-Key": api_key["key"]})

    assert response.status_code == 200


def test_api_key_has_full_access_to_users(client, api_key_headers):
    user = client.post(USERS, json={"email": "u@example.com"}, headers=api_key_headers)
    assert user.status_code == 201
    url = f"{USERS}/{user.get_json()['id']}"

    assert client.get(url, headers=api_key_headers).status_code == 200
    assert client.patch(url, json={"first_name": "U"}, headers=api_key_headers).status_code == 200
    assert client.delete(url, headers=api_key_headers).status_code == 204


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/api-keys"),
        ("post", "/api/v1/api-keys"),
        ("get", "/api/v1/audit-events"),
        ("get", "/api/v1/auth/me"),
        ("post", "/api/v1/auth/logout"),
    ],
)
def test_api_key_cannot_manage_credentials(client, api_key_headers, method, path):
    response = getattr(client, method)(path, headers=api_key_headers, json={"name": "more"})

    assert response.status_code == 403
    assert response.get_json() == {"detail": "API keys cannot access this endpoint."}


def test_api_key_cannot_rotate_or_delete_keys(client, api_key, api_key_headers):
    for method, path in (
        ("post", f"/api/v1/api-keys/{api_key['id']}/rotate"),
        ("delete", f"/api/v1/api-keys/{api_key['id']}"),
        ("patch", f"/api/v1/api-keys/{api_key['id']}"),
    ):
        assert (
            getattr(client, method)(path, headers=api_key_headers, json={"name": "x"}).status_code
            == 403
        )


@pytest.mark.parametrize(
    "credential",
    [
        "ow_live_1234567890abcdefghijklmnopqrstuvwxyz",
        "ow_live_short",
        "ow_test_" + "A" * 38,
        "ow_live_" + "a" * 31 + "!" + "b" * 6,
        mistyped(generate_secret("ow_live_")),
        generate_secret("ow_prod_"),
    ],
    ids=["seed-example", "short", "bad-checksum", "bad-alphabet", "one-char-off", "unknown-env"],
)
def test_malformed_keys_are_rejected_without_any_query(
    client, api_key, count_statements, credential
):
    count_statements.clear()

    response = client.get(USERS, headers=bearer(credential))

    assert response.status_code == 401
    assert response.get_json()["detail"] in {"Invalid API key", "Invalid token."}
    assert count_statements == []


def test_a_well_formed_unknown_key_costs_one_lookup_then_none(client, count_statements):
    unknown = bearer(generate_secret("ow_live_"))
    # A new Redis connection first pushes what Redis may have missed: open it before.
    client.get(USERS, headers=bearer(generate_secret("ow_live_")))
    count_statements.clear()

    first = client.get(USERS, headers=unknown)
    looked_up = list(count_statements)
    second = client.get(USERS, headers=unknown)

    assert first.status_code == second.status_code == 401
    assert first.get_json() == second.get_json() == {"detail": "Invalid API key"}
    assert len(looked_up) == 1
    assert "api_keys" in looked_up[0]
    # Remembered as unknown in Redis: the second try costs no query.
    assert count_statements == looked_up


def test_a_valid_key_is_read_from_the_database_once_then_from_redis(
    client, api_key, count_statements
):
    # A new Redis connection first pushes what Redis may have missed: open it before.
    client.get(USERS, headers=bearer(generate_secret("ow_live_")))
    count_statements.clear()

    first = client.get(USERS, headers=bearer(api_key["key"]))
    filled = list(count_statements)
    count_statements.clear()
    second = client.get(USERS, headers=bearer(api_key["key"]))

    assert first.status_code == second.status_code == 200
    # The fill reads the key, writes it to Redis and reads it again (a rotation may
    # have committed in between); the handler then lists users.
    assert [s.count("FROM api_keys") for s in filled[:2]] == [1, 1]
    assert not any("FROM api_keys" in s for s in count_statements)
    assert all(s.lstrip().upper().startswith("SELECT") for s in filled + count_statements)


def test_valid_key_still_works_while_redis_is_down(make_app, api_key):
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()

    response = client.get(USERS, headers=bearer(api_key["key"]))

    assert response.status_code == 200
