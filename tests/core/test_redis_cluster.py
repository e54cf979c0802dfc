"""The hot path and the limits on a real 3-master Redis Cluster (`redis+cluster://`)."""

import pytest

from app.api_keys import services as api_keys
from app.core.auth import api_key_subject
from app.core.revocation import cache_key
from app.core.secrets import digest
from app.core.store import cluster_client
from tests.ratelimit.helpers import RATE_LIMIT_HEADERS
from tests.support.auth import bearer, forge_token, login
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
