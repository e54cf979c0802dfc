"""Issue 15's counts, taken at the servers: an authenticated request costs exactly one
Redis command (MONITOR on a redis-server of the test's own) and no SQL statement to
authenticate (`log_statement=all` on a PostgreSQL cluster of the test's own), for each
credential kind; only the handler's own query reaches PostgreSQL.

Usage analytics add nothing to a request's path: counts are made in the process and a
flush is one pipeline sent after the response is closed, at most every
USAGE_FLUSH_SECONDS. The counting app sets that interval far beyond the test's length,
so no flush can fall inside a counted request however slow the machine is; the last test
shows where a due flush goes instead: after the response, when it is closed."""

import pytest
from flask_migrate import upgrade
from limits import parse

from app import create_app
from app.core.auth import Kind
from app.developers import services as developers
from app.users import services as users
from tests.support.apps import close_app
from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD, app_config
from tests.support.factories import create_application, mint_with_app
from tests.support.postgres import PostgresCluster
from tests.support.servers import PrivateRedis, windows_written

pytestmark = pytest.mark.slow

REQUESTS_PER_KIND = 5
NO_FLUSH = 24 * 3600
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
    app = create_app(app_config(database_url, redis_server.url, USAGE_FLUSH_SECONDS=NO_FLUSH))
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


@pytest.fixture
def make_app_on(servers):
    """Another app on the same servers, with other settings."""
    _, database_url, redis_server = servers
    built = []

    def make(**overrides):
        built.append(create_app(app_config(database_url, redis_server.url, **overrides)))
        return built[-1]

    yield make
    for app in built:
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
        assert {"hmget", "get"} <= set(scripted)
        assert windows_written(scripted) == 1
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

    # No credentials: the per-IP window only. A key whose checksum fails needs no I/O to
    # refuse; besides the per-IP window it is counted for the unusual-activity alerts
    # (INCR and EXPIRE in one pipeline, a second round trip on the refusal path only).
    assert anonymous == ["evalsha"]
    assert malformed == ["evalsha", "incrby", "expire"]


def test_a_due_usage_flush_is_one_pipeline_after_the_response(servers, counted, make_app_on):
    redis_server = servers[2]
    _, _, user_id, credentials = counted
    eager = make_app_on(USAGE_FLUSH_SECONDS=0)
    client = eager.test_client()
    path, headers = f"/api/v1/users/{user_id}", bearer(credentials[Kind.API_KEY])
    client.get(path, headers=headers).close()  # this app's first request fills Redis
    responses = []

    during, _ = redis_server.commands_sent_during(
        lambda: responses.append(client.get(path, headers=headers))
    )
    on_close, _ = redis_server.commands_sent_during(lambda: responses[0].close())

    assert responses[0].status_code == 200
    assert during == ["evalsha"]
    assert on_close[0] == "hincrby"
    assert on_close[-1] == "expire"
    assert set(on_close) == {"hincrby", "expire", "sadd"}


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


def with_wrong_secret(application):
    secret = application["app_secret"]
    return {**application, "app_secret": secret[:-1] + ("A" if secret[-1] != "A" else "B")}


def test_minting_an_sdk_token_is_one_redis_command_for_its_limits(servers, counted):
    """The per-IP caller window and the two failed-mint windows (per application, per
    IP) are read in the admission's one call (one Redis; a Cluster keeps them in three
    slots)."""
    redis_server = servers[2]
    _, client, user_id, credentials = counted
    application = create_application(client, bearer(credentials[Kind.DEVELOPER]), "Counted")
    wrong = with_wrong_secret(application)
    assert mint_with_app(client, user_id, wrong).status_code == 401  # loads the hit's script
    responses = []

    minted, _ = redis_server.commands_sent_during(
        lambda: responses.append(mint_with_app(client, user_id, application))
    )
    failed, _ = redis_server.commands_sent_during(
        lambda: responses.append(mint_with_app(client, user_id, wrong))
    )
    after_failure, _ = redis_server.commands_sent_during(
        lambda: responses.append(mint_with_app(client, user_id, application))
    )

    assert [response.status_code for response in responses] == [200, 401, 200]
    assert minted == ["evalsha"]
    # A refusal then counts: for the unusual-activity alerts (INCRBY and EXPIRE in one
    # pipeline) and in both failed-mint windows (flask-limiter's hits, sent in one call).
    assert failed == ["evalsha", "incrby", "expire", "evalsha"]
    assert after_failure == ["evalsha"]
    per_ip = parse(counted[0].config["RATELIMIT_PER_IP"]).amount
    assert responses[2].headers["X-RateLimit-Limit"] == str(per_ip)


def test_a_failed_mint_limit_refuses_from_the_window_the_admission_read(
    servers, make_app_on, counted
):
    """The window read in the admission's call is the one flask-limiter tests: once the
    failures fill it, the next mint is refused (429) without another Redis command."""
    redis_server = servers[2]
    _, _, user_id, credentials = counted
    strict = make_app_on(
        RATELIMIT_FAILED_MINTS_PER_APP="2/minute", ACTIVITY_MINT_FAILURES_THRESHOLD=2
    )
    client = strict.test_client()
    developer = bearer(credentials[Kind.DEVELOPER])
    application = create_application(client, developer, "Strict")
    wrong = with_wrong_secret(application)
    assert [mint_with_app(client, user_id, wrong).status_code for _ in range(2)] == [401, 401]
    responses = []

    refused, _ = redis_server.commands_sent_during(
        lambda: responses.append(mint_with_app(client, user_id, application))
    )

    assert responses[0].status_code == 429
    assert responses[0].get_json()["detail"].startswith("Rate limit exceeded")
    assert responses[0].headers["X-RateLimit-Limit"] == "2"
    assert refused == ["evalsha"]


def test_a_login_is_one_redis_command_for_its_limits(servers, counted):
    """Three failed-login windows (per e-mail from this client, per e-mail, per IP) and
    the per-IP caller window: one call."""
    redis_server = servers[2]
    client = counted[1]
    responses = []

    sent, _ = redis_server.commands_sent_during(
        lambda: responses.append(login(client, ADMIN_EMAIL, ADMIN_PASSWORD))
    )

    assert responses[0].status_code == 200
    # The limits' one call, then the login's own write: the new session is fresh (it
    # just proved the password) for REAUTH_MAX_AGE_SECONDS.
    assert sent == ["evalsha", "set"]


def test_a_mint_writes_in_one_transaction(servers, counted):
    """The application by its secret's digest, the user, then the audit event and the
    refresh token inserted and committed together: six statements, one commit."""
    cluster, database_url, _ = servers
    _, client, user_id, credentials = counted
    application = create_application(client, bearer(credentials[Kind.DEVELOPER]), "One commit")
    responses = []

    statements = cluster.statements_during(
        database_url, lambda: responses.append(mint_with_app(client, user_id, application))
    )
    assert responses[0].status_code == 200
    shapes = [" ".join(statement.split()[:3]) for statement in statements]
    assert shapes[0] == "BEGIN"
    assert [(s.split()[0], s.split(" FROM ")[1].split()[0]) for s in statements[1:3]] == [
        ("SELECT", "applications"),
        ("SELECT", "users"),
    ]
    assert shapes[3:] == ["INSERT INTO audit_events", "INSERT INTO refresh_tokens", "COMMIT"]


def test_a_failed_login_counts_in_its_three_windows_in_one_call(servers, counted):
    """After the view, flask-limiter's three hits (per e-mail from the client, per
    e-mail, per IP) are sent together."""
    redis_server = servers[2]
    client = counted[1]
    assert login(client, ADMIN_EMAIL, "not the password").status_code == 401  # loads scripts
    responses = []

    sent, scripted = redis_server.commands_sent_during(
        lambda: responses.append(login(client, ADMIN_EMAIL, "not the password"))
    )

    assert responses[0].status_code == 401
    assert sent == ["evalsha", "evalsha"]
    # The admission writes the caller window, the second call the three failure windows.
    assert windows_written(scripted) == 4
