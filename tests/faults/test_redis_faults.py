"""Redis fails under mixed load on gunicorn with 2 workers: no 5xx, no revoked credential
accepted during or after, every valid credential answered, limits back in Redis after.

Each test owns its redis-server (never the shared one) and may kill or flush it.
"""

import threading
import time

import pytest
import requests

from app.core.revocation import cache_key
from tests.faults.load import Client, Tally, bearer, run_clients
from tests.faults.servers import RedisServer
from tests.support.auth import developer_token
from tests.support.environment import server_settings
from tests.support.servers import gunicorn

CLIENTS = 3
PHASE_SECONDS = 3
UNLIMITED = "100000 per minute"
EVICTING = ("--maxmemory", "3mb", "--maxmemory-policy", "allkeys-random")


def _setup_clients(base: str, tally: Tally) -> list[Client]:
    headers = bearer(developer_token(base))
    clients = []
    for number in range(CLIENTS):
        user = requests.post(base + "/api/v1/users", json={}, headers=headers, timeout=15)
        name = {"name": f"server {number}"}
        key = requests.post(base + "/api/v1/api-keys", json=name, headers=headers, timeout=15)
        assert (user.status_code, key.status_code) == (201, 201)
        clients.append(Client(base, tally, user.json()["id"], key.json()))
    return clients


def _during(clients: list[Client], phase: str, fault) -> None:
    """Run the load while `fault(stop)` runs in its own thread until the phase ends."""
    stop = threading.Event()
    injector = threading.Thread(target=fault, args=(stop,))
    injector.start()
    try:
        run_clients(clients, phase, PHASE_SECONDS)
    finally:
        stop.set()
        injector.join()


def _flush_repeatedly(server: RedisServer):
    def flush(stop: threading.Event) -> None:
        client = server.client()
        while not stop.wait(0.3):
            client.flushall()
        client.close()

    return flush


def _fill_repeatedly(server: RedisServer, watched_key: str, evictions: list[int]):
    """Write junk faster than the app writes state, so allkeys-random evicts app keys;
    count how often `watched_key` vanished."""

    def fill(stop: threading.Event) -> None:
        client = server.client()
        number, present = 0, False
        while not stop.is_set():
            client.set(f"junk:{number}", b"x" * 20_000)
            number += 1
            exists = bool(client.exists(watched_key))
            if present and not exists:
                evictions.append(number)
            present = exists
        client.close()

    return fill


def _limits_in_redis(server: RedisServer, base: str, key: str) -> bool:
    """After recovery, a limited request is counted in Redis again (the limiter probes
    Redis with backoff after an outage)."""
    client = server.client()
    deadline = time.monotonic() + 40
    try:
        while time.monotonic() < deadline:
            client.flushall()
            requests.get(base + "/api/v1/users", headers=bearer(key), timeout=15)
            if any(True for _ in client.scan_iter("owa:{key:*}:window:*")):
                return True
            time.sleep(0.5)
    finally:
        client.close()
    return False


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["killed, restarted empty", "flushed", "evicting"])
def test_redis_fault_under_mixed_load(database_url, admin, tmp_path, fault, capsys):
    server = RedisServer(tmp_path, *(EVICTING if fault == "evicting" else ()))
    server.start()
    config = server_settings(
        database_url,
        server.url,
        RATELIMIT_PER_IP=UNLIMITED,
        RATELIMIT_DEVELOPER=UNLIMITED,
        RATELIMIT_API_KEY=UNLIMITED,
        RATELIMIT_SDK_USER=UNLIMITED,
        PASSWORD_HASH_TIME_COST="1",
        PASSWORD_HASH_MEMORY_KIB="1024",
    )
    tally = Tally()
    revocations_evicted: list[int] = []
    try:
        with gunicorn(config, tmp_path, workers=2) as (base, _):
            clients = _setup_clients(base, tally)
            run_clients(clients, "before", PHASE_SECONDS)
            if fault == "killed, restarted empty":
                server.kill()
                run_clients(clients, "outage", PHASE_SECONDS)
                server.start()
            elif fault == "flushed":
                _during(clients, "flushes", _flush_repeatedly(server))
            else:
                developer_revocations = cache_key(f"dev:{admin['id']}")
                _during(
                    clients,
                    "eviction",
                    _fill_repeatedly(server, developer_revocations, revocations_evicted),
                )
            run_clients(clients, "after", PHASE_SECONDS)
            for client in clients:
                client.phase = "final"
                client.probe_revoked(every=True)
                client.reads()
            limits_back = _limits_in_redis(server, base, clients[0].key)
    finally:
        server.kill()

    revoked_probes = sum(n for line, n in tally.statuses.items() if " revoked " in line)
    summary = (
        f"Redis {fault}: {tally.sent} requests, {len(tally.server_errors)} answers 5xx, "
        f"{revoked_probes} probes of revoked credentials, {len(tally.revoked_accepted)} accepted"
    )
    if fault == "evicting":
        summary += f", the developer's revocations evicted {len(revocations_evicted)} times"
    with capsys.disabled():
        print("\n" + summary)
    assert tally.server_errors == []
    assert tally.revoked_accepted == []
    assert tally.valid_refused == []
    assert any(line.startswith(("outage", "flushes", "eviction")) for line in tally.statuses)
    assert limits_back
    if fault == "evicting":
        assert revocations_evicted, "the developer's revocations were never evicted"
