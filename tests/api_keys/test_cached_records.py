"""API keys are authenticated from their Redis record, filled from PostgreSQL on a miss.

The invariant: a rotated or deleted key is refused everywhere at once, and a narrowed
key (scopes, allowlist) is held to its new restriction everywhere at once, even when a
fill read the key just before the change committed and writes it after, and even when
Redis loses its data in between."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app.core.auth import api_key_subject
from app.core.revocation import cache_key
from app.core.secrets import digest
from app.refresh_tokens.models import RevocationRecord
from tests.support.auth import bearer, developer_token
from tests.support.environment import server_settings
from tests.support.ports import free_port
from tests.support.servers import gunicorn, worker_pids

USERS = "/api/v1/users"
KEYS = "/api/v1/api-keys"


class PausedFill:
    """Wraps the api_keys loader: the first read of `paused_digest` returns what it
    read, but only once the test lets it go (as if the worker stalled right there)."""

    def __init__(self, app, paused_digest: str) -> None:
        self.loader = app.extensions["owa_api_key_loader"]
        self.paused_digest = paused_digest
        self.read = threading.Event()
        self.go_on = threading.Event()
        self.paused = False
        app.extensions["owa_api_key_loader"] = self

    def __call__(self, key_digest: str):
        record = self.loader(key_digest)
        if key_digest == self.paused_digest and not self.paused:
            self.paused = True
            self.read.set()
            assert self.go_on.wait(10)
        return record


def _record(app, secret: str) -> dict:
    with app.app_context():
        client = app.extensions["owa_store"].client
        fields = client.hgetall(cache_key(api_key_subject(digest(secret))))
    return {name.decode(): value.decode() for name, value in fields.items()}


@pytest.mark.parametrize("redis_loses_its_data", [False, True], ids=["kept", "flushed"])
@pytest.mark.parametrize("change", ["rotate", "delete"])
def test_a_fill_that_read_the_key_before_its_rotation_cannot_bring_it_back(
    make_app, admin_headers, change, redis_loses_its_data
):
    app = make_app()
    client = app.test_client()
    created = client.post(KEYS, json={"name": "raced"}, headers=admin_headers).get_json()
    with app.app_context():
        paused = PausedFill(app, digest(created["key"]))

    with ThreadPoolExecutor(max_workers=1) as pool:
        # This request misses Redis and reads the live key, then stalls.
        stalled = pool.submit(client.get, USERS, headers=bearer(created["key"]))
        assert paused.read.wait(10)
        if change == "rotate":
            changed = client.post(f"{KEYS}/{created['id']}/rotate", headers=admin_headers)
        else:
            changed = client.delete(f"{KEYS}/{created['id']}", headers=admin_headers)
        assert changed.status_code in (200, 204)
        if redis_loses_its_data:
            with app.app_context():
                app.extensions["owa_store"].client.flushdb()
        paused.go_on.set()
        stalled.result(timeout=10)

    # The stalled fill wrote what it read, then read PostgreSQL again: the key is gone.
    assert _record(app, created["key"])["revoked"]
    for _ in range(3):
        refused = client.get(USERS, headers=bearer(created["key"]))
        assert refused.status_code == 401
        assert refused.get_json() == {"detail": "Invalid API key"}


NARROWINGS = {
    "scopes": ({"scopes": ["data:read"]}, {"detail": "This API key lacks the scope 'users:read'."}),
    "allowed_ips": (
        {"allowed_ips": ["203.0.113.0/24"]},
        {"detail": "This API key is not allowed from this IP address."},
    ),
}


@pytest.mark.parametrize("redis_loses_its_data", [False, True], ids=["kept", "flushed"])
@pytest.mark.parametrize("narrowed", list(NARROWINGS))
def test_a_fill_that_read_the_key_before_it_was_narrowed_cannot_widen_it_again(
    make_app, admin_headers, narrowed, redis_loses_its_data
):
    app = make_app()
    client = app.test_client()
    created = client.post(KEYS, json={"name": "raced"}, headers=admin_headers).get_json()
    change, refusal = NARROWINGS[narrowed]
    with app.app_context():
        paused = PausedFill(app, digest(created["key"]))

    with ThreadPoolExecutor(max_workers=1) as pool:
        # This request misses Redis and reads the unrestricted key, then stalls.
        stalled = pool.submit(client.get, USERS, headers=bearer(created["key"]))
        assert paused.read.wait(10)
        updated = client.patch(f"{KEYS}/{created['id']}", json=change, headers=admin_headers)
        assert updated.status_code == 200
        if redis_loses_its_data:
            with app.app_context():
                app.extensions["owa_store"].client.flushdb()
        paused.go_on.set()
        during = stalled.result(timeout=10)

    # The stalled fill wrote what it read, read PostgreSQL again and wrote the change.
    assert _record(app, created["key"])[narrowed] == " ".join(change[narrowed])
    for response in [during] + [client.get(USERS, headers=bearer(created["key"])) for _ in "abc"]:
        assert response.status_code == 403
        assert response.get_json() == refusal


def test_a_narrowing_made_while_redis_was_unreachable_holds_before_redis_is_trusted_again(
    make_app, app, client, admin_headers, api_key
):
    """The worker that narrowed the key could not reach Redis; another worker has the
    unrestricted record cached. Once its connection is new (Redis back from an outage),
    it pushes the staged reload before trusting any record."""
    headers = bearer(api_key["key"])
    assert client.get(USERS, headers=headers).status_code == 200
    cut_off = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()

    updated = cut_off.patch(
        f"{KEYS}/{api_key['id']}", json={"scopes": ["data:read"]}, headers=admin_headers
    )
    with app.app_context():
        staged = app.extensions["sqlalchemy"].session.query(RevocationRecord).count()
        app.extensions["owa_store"].client.connection_pool.disconnect()
    refused = client.get(USERS, headers=headers)

    assert updated.status_code == 200
    assert staged == 1
    assert refused.status_code == 403
    assert refused.get_json() == {"detail": "This API key lacks the scope 'users:read'."}
    assert _record(app, api_key["key"])["scopes"] == "data:read"


def test_a_narrowing_reaches_the_grace_period_secret_too(client, admin_headers, api_key):
    rotated = client.post(
        f"{KEYS}/{api_key['id']}/rotate", json={"grace_seconds": 600}, headers=admin_headers
    ).get_json()
    secrets = [api_key["key"], rotated["key"]]
    assert [client.get(USERS, headers=bearer(s)).status_code for s in secrets] == [200, 200]

    client.patch(f"{KEYS}/{api_key['id']}", json={"scopes": ["data:read"]}, headers=admin_headers)

    assert [client.get(USERS, headers=bearer(s)).status_code for s in secrets] == [403, 403]


def test_an_unknown_key_is_remembered_briefly_and_a_known_one_for_the_cache_lifetime(
    app, client, api_key
):
    unknown = "ow_live_" + api_key["key"].removeprefix("ow_live_")[::-1]
    client.get(USERS, headers=bearer(api_key["key"]))
    client.get(USERS, headers=bearer(unknown))

    with app.app_context():
        store = app.extensions["owa_store"].client
        known_ttl = store.ttl(cache_key(api_key_subject(digest(api_key["key"]))))
        known = _record(app, api_key["key"])

    assert 3500 < known_ttl <= 3600
    assert known["id"] == api_key["id"]
    assert known["environment"] == "live"
    assert "expires" not in known
    assert known["used_ip"] == "127.0.0.1"


@pytest.mark.slow
@pytest.mark.parametrize("change", ["rotate", "delete"])
def test_a_rotated_or_deleted_key_is_refused_by_every_worker_at_once(
    database_url, redis_url, admin, tmp_path, change
):
    with gunicorn(server_settings(database_url, redis_url), tmp_path, workers=2) as (
        base,
        access_log,
    ):
        token = developer_token(base)
        created = requests.post(
            base + KEYS, json={"name": "everywhere"}, headers=bearer(token), timeout=10
        ).json()
        old = bearer(created["key"])

        def hammer(headers: dict, count: int = 40) -> list[int]:
            with ThreadPoolExecutor(max_workers=4) as pool:
                return list(
                    pool.map(
                        lambda _: (
                            requests.get(base + USERS, headers=headers, timeout=10).status_code
                        ),
                        range(count),
                    )
                )

        # Both workers have the key cached (and in their connection pools).
        assert hammer(old) == [200] * 40
        assert len(worker_pids(access_log)) == 2
        if change == "rotate":
            response = requests.post(
                f"{base}{KEYS}/{created['id']}/rotate", headers=bearer(token), timeout=10
            )
            new = bearer(response.json()["key"])
        else:
            response = requests.delete(
                f"{base}{KEYS}/{created['id']}", headers=bearer(token), timeout=10
            )
            new = None

        assert response.status_code in (200, 204)
        assert hammer(old) == [401] * 40
        if new is not None:
            assert hammer(new) == [200] * 40
