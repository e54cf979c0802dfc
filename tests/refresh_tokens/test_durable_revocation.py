"""No revoked token comes back when Redis loses its data, and valid tokens keep working
(checked in PostgreSQL) while Redis is down."""

import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis

from app.core import revocation
from app.core.db import utcnow
from app.core.revocation import LOADED_FIELD, cache_key
from app.extensions import db
from app.refresh_tokens.models import RevocationRecord
from app.refresh_tokens.revocations import PUSH_BATCH_SIZE
from tests.support.auth import login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.ports import free_port

ME = "/api/v1/auth/me"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def refresh(client, token: str):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


@pytest.fixture
def redis_down_url() -> str:
    """A Redis URL nobody listens on: every call is refused at once."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def hanging_up_redis():
    """A Redis URL whose server hangs up on every connection, and the connections it got."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    connections: list[socket.socket] = []
    stop = threading.Event()

    def hang_up() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connections.append(connection)
            connection.close()

    server = threading.Thread(target=hang_up, daemon=True)
    server.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0", connections
    stop.set()
    server.join(timeout=5)
    listener.close()


@pytest.fixture
def shared_redis(app):
    return app.extensions["owa_store"].client


def test_a_logged_out_token_stays_refused_after_redis_loses_its_data(
    make_app, client, admin_tokens, shared_redis
):
    headers = bearer(admin_tokens["access_token"])
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204

    shared_redis.flushdb()  # this test run's own database index: a restart without data

    for worker in (client, make_app().test_client()):
        refused = worker.get(ME, headers=headers)
        assert refused.status_code == 401
        assert refused.get_json() == {"detail": "Token has been revoked."}


def test_a_logged_out_token_stays_refused_after_redis_comes_back_from_an_older_snapshot(
    make_app, client, admin, admin_tokens, shared_redis
):
    headers = bearer(admin_tokens["access_token"])
    assert client.get(ME, headers=headers).status_code == 200  # the developer is loaded
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204

    # Redis restarts from a snapshot taken between that load and the logout's push: the
    # developer is loaded, the flags are gone, and every connection broke.
    key = cache_key(f"dev:{admin['id']}")
    flags = [field for field in shared_redis.hkeys(key) if field != LOADED_FIELD.encode()]
    assert len(flags) == 2  # the token and its session
    shared_redis.hdel(key, *flags)
    shared_redis.connection_pool.disconnect()

    for worker in (client, make_app().test_client()):
        refused = worker.get(ME, headers=headers)
        assert refused.status_code == 401
        assert refused.get_json() == {"detail": "Token has been revoked."}


class PausedPush:
    """The app's revocation source, with every push held until `resume` is set."""

    def __init__(self, source):
        self.source = source
        self.started = threading.Event()
        self.resume = threading.Event()

    def live_revocations(self, subject):
        return self.source.live_revocations(subject)

    def push_unpushed(self, add, including_pushed):
        self.started.set()
        assert self.resume.wait(timeout=10)
        return self.source.push_unpushed(add, including_pushed)


def test_a_logged_out_token_stays_refused_while_another_thread_pushes(
    app, client, admin, admin_tokens, shared_redis, monkeypatch
):
    revoked = bearer(admin_tokens["access_token"])
    valid = bearer(login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"])
    assert client.get(ME, headers=revoked).status_code == 200  # the developer is loaded
    assert client.post("/api/v1/auth/logout", headers=revoked).status_code == 204
    # Redis restarts from a snapshot taken before the logout's push.
    key = cache_key(f"dev:{admin['id']}")
    shared_redis.hdel(key, *[f for f in shared_redis.hkeys(key) if f != LOADED_FIELD.encode()])
    shared_redis.connection_pool.disconnect()
    paused = PausedPush(app.extensions["owa_revocation_source"])
    monkeypatch.setitem(app.extensions, "owa_revocation_source", paused)
    pushing = ThreadPoolExecutor(max_workers=1)
    first = pushing.submit(client.get, ME, headers=valid)  # reconnects, then pushes
    assert paused.started.wait(timeout=10)

    during = client.get(ME, headers=revoked)
    paused.resume.set()

    assert during.status_code == 401
    assert during.get_json() == {"detail": "Token has been revoked."}
    assert first.result(timeout=10).status_code == 200
    pushing.shutdown()
    assert client.get(ME, headers=revoked).status_code == 401
    assert client.get(ME, headers=valid).status_code == 200


def test_a_request_during_another_threads_push_waits_and_counts_in_the_shared_window(
    app, make_app, client, admin_headers, shared_redis, monkeypatch
):
    """Every gunicorn worker counts a caller in the same Redis window: a request that
    arrives while another thread pushes waits for that push rather than counting in
    its own process, where the other workers cannot see it."""
    before = client.get(ME, headers=admin_headers)
    shared_redis.connection_pool.disconnect()  # a new connection: push before trusting
    paused = PausedPush(app.extensions["owa_revocation_source"])
    monkeypatch.setitem(app.extensions, "owa_revocation_source", paused)
    requests = ThreadPoolExecutor(max_workers=2)
    first = requests.submit(client.get, ME, headers=admin_headers)  # reconnects, pushes
    assert paused.started.wait(timeout=10)
    during = requests.submit(client.get, ME, headers=admin_headers)
    time.sleep(0.3)  # `during` waits for the push (without waiting it would be done)
    assert not during.done()
    paused.resume.set()
    assert first.result(timeout=10).status_code == during.result(timeout=10).status_code == 200
    requests.shutdown()

    elsewhere = make_app().test_client().get(ME, headers=admin_headers)  # another worker
    remaining = int(before.headers["X-RateLimit-Remaining"])
    assert elsewhere.headers["X-RateLimit-Remaining"] == str(remaining - 3)


def test_a_reused_family_stays_refused_after_redis_loses_its_data(
    client, admin, admin_tokens, shared_redis
):
    second = refresh(client, admin_tokens["refresh_token"]).get_json()
    assert refresh(client, admin_tokens["refresh_token"]).status_code == 401

    shared_redis.flushdb()

    for token in (admin_tokens["access_token"], second["access_token"]):
        assert client.get(ME, headers=bearer(token)).status_code == 401


def test_revocations_survive_the_eviction_of_their_key(client, admin, admin_tokens, shared_redis):
    other = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    client.post("/api/v1/auth/logout", headers=bearer(admin_tokens["access_token"]))
    assert client.get(ME, headers=bearer(other["access_token"])).status_code == 200

    assert shared_redis.delete(cache_key(f"dev:{admin['id']}")) == 1

    assert client.get(ME, headers=bearer(admin_tokens["access_token"])).status_code == 401
    assert client.get(ME, headers=bearer(other["access_token"])).status_code == 200


def test_a_reuse_during_a_redis_outage_revokes_the_family_for_good(
    make_app, client, admin, redis_down_url
):
    during = make_app(REDIS_URL=redis_down_url).test_client()
    first = login(during, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    second = refresh(during, first["refresh_token"]).get_json()

    reuse = refresh(during, first["refresh_token"])

    assert reuse.status_code == 401
    assert reuse.get_json() == {
        "detail": "Refresh token has already been used; its session has been revoked."
    }
    assert during.get(ME, headers=bearer(second["access_token"])).status_code == 401
    # Redis is back: the family's access tokens are still refused.
    for token in (first["access_token"], second["access_token"]):
        assert client.get(ME, headers=bearer(token)).status_code == 401
    assert refresh(client, second["refresh_token"]).status_code == 401


def test_while_redis_backs_off_tokens_are_checked_in_postgresql_without_trying_redis(
    make_app, client, admin, admin_tokens, hanging_up_redis
):
    url, connections = hanging_up_redis
    revoked = bearer(admin_tokens["access_token"])
    valid = bearer(login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"])
    assert client.post("/api/v1/auth/logout", headers=revoked).status_code == 204
    during = make_app(REDIS_URL=url).test_client()
    assert during.get(ME, headers=valid).status_code == 200  # Redis failed: back-off of 1 s
    tried = len(connections)

    answers = [during.get(ME, headers=headers) for headers in (revoked, valid, revoked)]

    assert [answer.status_code for answer in answers] == [401, 200, 401]
    assert answers[0].get_json() == {"detail": "Token has been revoked."}
    assert tried > 0
    assert len(connections) == tried


def test_valid_tokens_during_a_redis_outage_are_answered_not_rate_limited_per_ip(
    make_app, admin, api_key, redis_down_url
):
    during = make_app(REDIS_URL=redis_down_url, RATELIMIT_PER_IP="3 per minute").test_client()
    tokens = login(during, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()

    answers = [during.get(ME, headers=bearer(tokens["access_token"])) for _ in range(6)]

    assert [answer.status_code for answer in answers] == [200] * 6
    assert answers[-1].get_json()["email"] == ADMIN_EMAIL
    assert answers[-1].headers["X-RateLimit-Limit"] == "1000"
    # A correct login from the same address still gets in.
    assert login(during, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200
    assert during.get("/api/v1/users", headers=bearer(api_key["key"])).status_code == 200


def test_a_logout_during_a_redis_outage_is_refused_during_and_after(
    make_app, client, admin, redis_down_url
):
    during = make_app(REDIS_URL=redis_down_url).test_client()
    tokens = login(during, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    headers = bearer(tokens["access_token"])

    assert during.post("/api/v1/auth/logout", headers=headers).status_code == 204

    assert during.get(ME, headers=headers).status_code == 401
    assert client.get(ME, headers=headers).status_code == 401
    assert refresh(client, tokens["refresh_token"]).status_code == 401


def test_without_redis_one_process_refuses_what_it_revoked(make_app, admin):
    solo = make_app(REDIS_URL="").test_client()
    mine = login(solo, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    other = login(solo, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()

    assert solo.post("/api/v1/auth/logout", headers=bearer(mine["access_token"])).status_code == 204

    assert solo.get(ME, headers=bearer(mine["access_token"])).status_code == 401
    assert solo.get(ME, headers=bearer(other["access_token"])).status_code == 200


def test_a_full_push_sends_each_batch_of_flags_in_one_round_trip(app, shared_redis, monkeypatch):
    """Every worker that distrusts Redis pushes every live flag again while its other
    requests wait: a call per flag made that take 0.3 s per thousand."""
    later = utcnow() + timedelta(hours=1)
    count = PUSH_BATCH_SIZE * 2 + 1
    with app.app_context():
        db.session.add_all(
            RevocationRecord(
                id=uuid.uuid4(), subject=f"sdk:{n}", field=f"jti:{n}", expires_at=later
            )
            for n in range(count)
        )
        db.session.commit()
        cache = revocation.redis_revocations()
        assert cache is not None
        assert revocation.ensure_trusted()  # the script is loaded, the pool connected
        sends = []
        real_send = redis.connection.AbstractConnection.send_packed_command

        def counted_send(connection, *args, **kwargs):
            sends.append(1)
            return real_send(connection, *args, **kwargs)

        monkeypatch.setattr(
            redis.connection.AbstractConnection, "send_packed_command", counted_send
        )
        cache.distrust()
        assert revocation.ensure_trusted()
        monkeypatch.undo()
        db.session.remove()

    # 1001 flags in 3 batches of at most 500; redis-py checks the script is loaded
    # (SCRIPT EXISTS) before each pipeline: two round trips a batch.
    assert len(sends) <= 6
    flagged = [shared_redis.hexists(cache_key(f"sdk:{n}"), f"jti:{n}") for n in (0, 500, 1000)]
    assert flagged == [True, True, True]
