"""Shared short-lived state: Redis when `REDIS_URL` is set, else this process's memory.

Revocation flags (`app.core.revocation`) and other state that every gunicorn worker must
agree on live here. The in-memory variant only exists for the embedded single-process
default (`make run`). `REDIS_URL=redis+cluster://host:port[,host:port…]` selects a Redis
Cluster: the client discovers the other nodes from those it is given.
"""

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry

from app.core.revocation import init_revocations

CLUSTER_SCHEME = "redis+cluster://"

Uses = dict[str, tuple[float, str | None]]
"""member → (latest time as epoch seconds, detail recorded with it)."""


class MemoryStore:
    def __init__(self) -> None:
        self._flags: dict[str, float] = {}
        self._latest: dict[str, Uses] = {}
        self._counters: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def increment(self, key: str, ttl_seconds: int) -> int:
        """The counter's new value; a counter not incremented for `ttl_seconds` starts over."""
        now = time.monotonic()
        with self._lock:
            count, expiry = self._counters.get(key, (0, 0.0))
            if expiry <= now:
                # A counter starts (or starts over): lapsed ones go, so memory follows live ones.
                self._counters = {k: entry for k, entry in self._counters.items() if entry[1] > now}
                count = 0
            self._counters[key] = (count + 1, now + max(ttl_seconds, 1))
            return count + 1

    def touch(self, name: str, member: str, when: float, detail: str | None) -> None:
        with self._lock:
            uses = self._latest.setdefault(name, {})
            if member not in uses or uses[member][0] < when:
                uses[member] = (when, detail)

    @contextmanager
    def draining(self, name: str) -> Iterator[Uses]:
        with self._lock:
            uses = self._latest.pop(name, {})
        try:
            yield uses
        except BaseException:
            for member, (when, detail) in uses.items():
                self.touch(name, member, when, detail)
            raise

    def flag(self, key: str, ttl_seconds: int) -> None:
        with self._lock:
            self._flags[key] = time.monotonic() + max(ttl_seconds, 1)

    def any_flagged(self, keys: Iterable[str]) -> bool:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                expiry = self._flags.get(key)
                if expiry is not None:
                    if expiry > now:
                        return True
                    del self._flags[key]
        return False

    def first_in(self, key: str, ttl_seconds: int) -> bool:
        """Whether `key` was not claimed in the last `ttl_seconds` (claims it if so)."""
        now = time.monotonic()
        with self._lock:
            expiry = self._flags.get(key)
            if expiry is not None and expiry > now:
                return False
            # A claim starts: lapsed flags go, so memory follows the live ones (refusals
            # from ever new networks would otherwise pile up in the process).
            self._flags = {k: until for k, until in self._flags.items() if until > now}
            self._flags[key] = now + ttl_seconds
            return True

    def ping(self) -> bool:
        return True


class RedisStore:
    def __init__(self, client: "redis.Redis | RedisCluster") -> None:
        self.client = client
        self.fallback = MemoryStore()
        """Claims while Redis is unreachable (then per process)."""

    def first_in(self, key: str, ttl_seconds: int) -> bool:
        """Whether `key` was not claimed in the last `ttl_seconds`, across workers
        (`SET NX EX`); per process while Redis is unreachable."""
        try:
            return bool(self.client.set(key, b"1", nx=True, ex=ttl_seconds))
        except redis.RedisError:
            return self.fallback.first_in(key, ttl_seconds)

    def increment(self, key: str, ttl_seconds: int) -> int:
        """INCR and EXPIRE in one round trip (one key, so one Cluster slot)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, max(ttl_seconds, 1))
        count, _ = pipe.execute()
        return int(count)

    def flag(self, key: str, ttl_seconds: int) -> None:
        self.client.set(key, b"1", ex=max(ttl_seconds, 1))

    def any_flagged(self, keys: Iterable[str]) -> bool:
        keys = list(keys)
        return bool(keys) and cast(int, self.client.exists(*keys)) > 0

    def ping(self) -> bool:
        return bool(self.client.ping())


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEME)


def cluster_client(url: str, **options: Any) -> RedisCluster:
    """A Redis Cluster client from `redis+cluster://[user:password@]host:port[,host:port…]`."""
    credentials, _, locations = url.removeprefix(CLUSTER_SCHEME).rpartition("@")
    username, _, password = credentials.partition(":")
    nodes = []
    for location in locations.split("/", 1)[0].split(","):
        host, _, port = location.rpartition(":")
        nodes.append(ClusterNode(host, int(port)))  # type: ignore[no-untyped-call]
    return RedisCluster(
        startup_nodes=nodes, username=username or None, password=password or None, **options
    )


def redis_client(url: str, **options: Any) -> "redis.Redis | RedisCluster":
    if is_cluster_url(url):
        return cluster_client(url, **options)
    return redis.Redis.from_url(url, **options)


def init_store(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    if not url:
        app.extensions["owa_store"] = MemoryStore()
        init_revocations(app, None)
        return

    def on_connect(connection: redis.connection.AbstractConnection) -> None:
        revocations = app.extensions.get("owa_revocations")
        if revocations is None:
            # The cluster client connects while it is built; revocations start untrusted.
            connection.on_connect()  # type: ignore[no-untyped-call]
        else:
            revocations.note_new_connection(connection)

    # One immediate retry (a pooled connection broken by a Redis restart reconnects);
    # no sleeping between attempts while Redis is down.
    client = redis_client(
        url,
        socket_timeout=2,
        socket_connect_timeout=2,
        retry=Retry(NoBackoff(), 1),
        redis_connect_func=on_connect,
    )
    app.extensions["owa_store"] = RedisStore(client)
    init_revocations(app, client)


def get_store() -> MemoryStore | RedisStore:
    store: MemoryStore | RedisStore = current_app.extensions["owa_store"]
    return store
