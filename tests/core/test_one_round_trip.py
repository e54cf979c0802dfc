"""Issue 15's counts, taken at the servers: an authenticated request costs exactly one
Redis command (MONITOR on a redis-server of the test's own) and no SQL statement to
authenticate (`log_statement=all` on a PostgreSQL cluster of the test's own), for each
credential kind; only the handler's own query reaches PostgreSQL."""

import pytest
from flask_migrate import upgrade

from app import create_app
from app.core.auth import Kind
from app.developers import services as developers
from app.users import services as users
from tests.support.apps import close_app
from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD, app_config
from tests.support.postgres import PostgresCluster
from tests.support.servers import PrivateRedis

pytestmark = pytest.mark.slow

REQUESTS_PER_KIND = 5
RESTRICTED = "restricted API key"
"""A key with scopes and an allowlist: checked from its cached record, no more I/O."""


@pytest.fixture(scope="module")
def servers():
    cluster = PostgresCluster(log_statement="all")
    cluster.init()
    cluster.start()
    redis_server = PrivateRedis()
    redis_server.start()
    try:
        yield cluster, cluster.create_database("owa_counts"), redis_server
    finally:
        redis_server.stop()
        cluster.destroy()


@pytest.fixture(scope="module")
def counted(servers):
    """The app, its client and one credential of each kind for one end user's route."""
    _, database_url, redis_server = servers
    app = create_app(app_config(database_url, redis_server.url))
    client = app.test_client()
    with app.app_context():
        upgrade()
        developers.create_developer(ADMIN_EMAIL, ADMIN_PASSWORD)
        user = users.create_user({"external_user_id": "counted"})
        user_id = str(user.id)
    developer_token = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"]
    key = client.post("/api/v1/api-keys", json={"name": "counted"}, headers=bearer(developer_token))
    restricted = client.post(
        "/api/v1/api-keys",
        json={"name": "restricted", "scopes": ["users:read"], "allowed_ips": ["127.0.0.1"]},
        headers=bearer(developer_token),
    )
    sdk = client.post(f"/api/v1/users/{user_id}/token", headers=bearer(developer_token))
    credentials = {
        Kind.API_KEY: key.get_json()["key"],
        RESTRICTED: restricted.get_json()["key"],
        Kind.DEVELOPER: developer_token,
        Kind.SDK: sdk.get_json()["access_token"],
    }
    yield app, client, user_id, credentials
    close_app(app)


@pytest.mark.parametrize("kind", [Kind.API_KEY, RESTRICTED, Kind.DEVELOPER, Kind.SDK])
def test_an_authenticated_request_is_one_redis_command_and_no_sql_to_authenticate(
    servers, counted, kind
):
    cluster, database_url, redis_server = servers
    _, client, user_id, credentials = counted
    path, headers = f"/api/v1/users/{user_id}", bearer(credentials[kind])
    # The first request of a subject fills Redis from PostgreSQL; then the steady state.
    assert client.get(path, headers=headers).status_code == 200

    for _ in range(REQUESTS_PER_KIND):
        responses, statements = [], []
        sent, scripted = redis_server.commands_sent_during(
            lambda: statements.extend(  # noqa: B023 (called at once, in this iteration)
                cluster.statements_during(
                    database_url,
                    lambda: responses.append(client.get(path, headers=headers)),  # noqa: B023
                )
            )
        )

        assert responses[0].status_code == 200
        assert responses[0].headers["X-RateLimit-Limit"] in ("1000", "100")
        assert sent == ["evalsha"]
        assert {"hmget", "get", "set"} <= set(scripted)
        # The handler reads the user; nothing reads keys, tokens or revocations.
        queries = [s for s in statements if s.upper().startswith(("SELECT", "INSERT", "UPDATE"))]
        assert len(queries) == 1, statements
        assert "FROM users" in queries[0]


def test_requests_without_valid_credentials_are_one_redis_command(servers, counted):
    redis_server = servers[2]
    client, credentials = counted[1], counted[3]
    key = credentials[Kind.API_KEY]
    refused = bearer(key[:-1] + ("A" if key[-1] != "A" else "B"))

    anonymous, _ = redis_server.commands_sent_during(lambda: client.get("/api/v1/users"))
    malformed, _ = redis_server.commands_sent_during(
        lambda: client.get("/api/v1/users", headers=refused)
    )

    # No credentials, or a key whose checksum fails: no I/O but the per-IP window.
    assert anonymous == ["evalsha"]
    assert malformed == ["evalsha"]


def test_a_request_refused_by_the_allowlist_writes_nothing_after_the_first(servers, counted):
    """The refusal is audited once per key and network an hour: later refusals cost the
    admission's call and the `SET NX` that finds the audit done, and no SQL at all."""
    cluster, database_url, redis_server = servers
    _, client, user_id, credentials = counted
    path, headers = f"/api/v1/users/{user_id}", bearer(credentials[RESTRICTED])
    elsewhere = {"REMOTE_ADDR": "198.51.100.7"}
    assert client.get(path, headers=headers, environ_base=elsewhere).status_code == 403

    responses, statements = [], []
    sent, _ = redis_server.commands_sent_during(
        lambda: statements.extend(
            cluster.statements_during(
                database_url,
                lambda: responses.extend(
                    client.get(path, headers=headers, environ_base=elsewhere) for _ in range(3)
                ),
            )
        )
    )

    assert [response.status_code for response in responses] == [403] * 3
    assert sent == ["evalsha", "set"] * 3
    assert [s for s in statements if s.upper().startswith(("SELECT", "INSERT", "UPDATE"))] == []
