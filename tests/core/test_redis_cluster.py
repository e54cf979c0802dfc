"""The hot path and the limits on a real 3-master Redis Cluster (`redis+cluster://`)."""

import pytest

from app.api_keys import services as api_keys
from app.core.auth import api_key_subject
from app.core.revocation import cache_key
from app.core.secrets import digest
from app.core.store import cluster_client
from tests.ratelimit.helpers import RATE_LIMIT_HEADERS
from tests.support.auth import bearer, forge_token, login
from tests.support.factories import create_application, create_user, mint_with_app
from tests.support.servers import RedisClusterServers

ME = "/api/v1/auth/me"
USERS = "/api/v1/users"


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory):
    servers = RedisClusterServers(tmp_path_factory.mktemp("redis-cluster"))
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def cluster_app(make_app, redis_cluster):
    app = make_app(REDIS_URL=redis_cluster.url)
    yield app
    app.extensions["owa_store"].client.flushall(target_nodes="primaries")


def _keys_by_node(app, pattern: str) -> dict[str, list[bytes]]:
    client = app.extensions["owa_store"].client
    return {
        node.name: client.get_redis_connection(node).keys(pattern)
        for node in client.get_primaries()
    }


@pytest.mark.slow
def test_api_key_requests_are_limited_and_recorded_on_the_cluster(cluster_app, admin):
    client = cluster_app.test_client()
    tokens = login(client, admin["email"], admin["password"]).get_json()
    created = client.post(
        "/api/v1/api-keys", json={"name": "Cluster"}, headers=bearer(tokens["access_token"])
    ).get_json()

    responses = [client.get(USERS, headers=bearer(created["key"])) for _ in range(2)]
    with cluster_app.app_context():
        flushed = api_keys.flush_last_used()
    listed = client.get("/api/v1/api-keys", headers=bearer(tokens["access_token"])).get_json()

    assert [r.status_code for r in responses] == [200, 200]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["999", "998"]
    assert all(header in responses[0].headers for header in RATE_LIMIT_HEADERS)
    assert flushed == 1
    (listed_key,) = [k for k in listed if k["id"] == created["id"]]
    assert listed_key["last_used_at"] is not None
    with cluster_app.app_context():
        subject = api_key_subject(digest(created["key"]))
    window_keys = [
        key
        for keys in _keys_by_node(cluster_app, f"owa:{{{subject}}}:window:*").values()
        for key in keys
    ]
    assert len(window_keys) == 1
    # The window and the key's record (status, last use) are one call on one node.
    slot = cluster_client(cluster_app.config["REDIS_URL"]).keyslot
    assert slot(window_keys[0]) == slot(cache_key(subject))


@pytest.mark.slow
def test_a_logout_on_the_cluster_refuses_the_token_and_readiness_sees_it(cluster_app, admin):
    client = cluster_app.test_client()
    access = login(client, admin["email"], admin["password"]).get_json()["access_token"]

    before = client.get(ME, headers=bearer(access))
    client.post("/api/v1/auth/logout", headers=bearer(access))
    after = client.get(ME, headers=bearer(access))
    ready = client.get("/readyz").get_json()

    assert before.status_code == 200
    assert after.status_code == 401
    assert ready["checks"]["redis"] == "ok"
    assert ready["checks"]["rate_limits"] == "redis"


@pytest.mark.slow
def test_limits_on_the_cluster_are_exact_per_subject_across_nodes(make_app, redis_cluster, admin):
    app = make_app(REDIS_URL=redis_cluster.url, RATELIMIT_DEVELOPER="3 per minute")
    client = app.test_client()
    developers = [admin["id"], *(f"00000000-0000-4000-8000-00000000000{n}" for n in range(6))]

    for developer in developers:
        headers = bearer(forge_token("developer", developer))
        responses = [client.get(ME, headers=headers) for _ in range(4)]
        assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
        assert responses[-1].status_code == 429
        assert 1 <= int(responses[-1].headers["Retry-After"]) <= 60

    nodes_holding_limits = [
        node for node, keys in _keys_by_node(app, "owa:{dev:*}:window:*").items() if keys
    ]
    assert len(nodes_holding_limits) > 1
    app.extensions["owa_store"].client.flushall(target_nodes="primaries")


def _evalsha_calls(app) -> int:
    client = app.extensions["owa_store"].client
    stats = [
        client.get_redis_connection(node).info("commandstats") for node in client.get_primaries()
    ]
    return sum(stat.get("cmdstat_evalsha", {}).get("calls", 0) for stat in stats)


@pytest.mark.slow
def test_failed_mints_are_limited_on_the_cluster_per_ip_in_the_callers_slot(
    make_app, redis_cluster, admin
):
    """The failed-mint window per IP carries the client's hash tag: the admission reads
    it with the caller window in one call; the per-application window is in another
    slot, one call more."""
    app = make_app(
        REDIS_URL=redis_cluster.url,
        RATELIMIT_FAILED_MINTS_PER_IP="2/minute",
        ACTIVITY_MINT_FAILURES_THRESHOLD=2,
    )
    client = app.test_client()
    developer = bearer(login(client, admin["email"], admin["password"]).get_json()["access_token"])
    user = create_user(client, developer, external_user_id="cluster-mint")
    application = create_application(client, developer, "Cluster")
    secret = application["app_secret"]
    wrong = {**application, "app_secret": secret[:-1] + ("A" if secret[-1] != "A" else "B")}

    before = _evalsha_calls(app)
    minted = mint_with_app(client, user["id"], application)
    calls_for_a_mint = _evalsha_calls(app) - before
    failures = [mint_with_app(client, user["id"], wrong).status_code for _ in range(2)]
    refused = mint_with_app(client, user["id"], application)

    assert minted.status_code == 200
    assert calls_for_a_mint == 2
    assert failures == [401, 401]
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Limit"] == "2"
    per_ip_keys = [key for keys in _keys_by_node(app, "*failed-mint-ip*").values() for key in keys]
    caller_keys = [
        key for keys in _keys_by_node(app, "owa:{ip:*}:window:*").values() for key in keys
    ]
    slot = cluster_client(app.config["REDIS_URL"]).keyslot
    assert len(per_ip_keys) == 1
    assert [slot(key) for key in caller_keys] == [slot(per_ip_keys[0])]
    app.extensions["owa_store"].client.flushall(target_nodes="primaries")


@pytest.mark.slow
def test_a_login_on_the_cluster_reads_the_client_ips_windows_in_its_call(cluster_app, admin):
    """Per IP and per e-mail from that IP: the caller's slot, one call; per e-mail: one
    more."""
    client = cluster_app.test_client()

    before = _evalsha_calls(cluster_app)
    response = login(client, admin["email"], admin["password"])

    assert response.status_code == 200
    assert _evalsha_calls(cluster_app) - before == 2
