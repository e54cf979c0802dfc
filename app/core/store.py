"""Shared short-lived state: Redis when `REDIS_URL` is set, else this process's memory.

Blocklists and other state that every gunicorn worker must agree on live here. The
in-memory variant only exists for the embedded single-process default (`make run`).
"""

import threading
import time
from collections.abc import Iterable

import redis
from flask import Flask, current_app


class MemoryStore:
    def __init__(self) -> None:
        self._flags: dict[str, float] = {}
        self._lock = threading.Lock()

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

    def ping(self) -> bool:
        return True


class RedisStore:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def flag(self, key: str, ttl_seconds: int) -> None:
        self.client.set(key, b"1", ex=max(ttl_seconds, 1))

    def any_flagged(self, keys: Iterable[str]) -> bool:
        keys = list(keys)
        return bool(keys) and self.client.exists(*keys) > 0

    def ping(self) -> bool:
        return bool(self.client.ping())


def init_store(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    if url:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        app.extensions["owa_store"] = RedisStore(client)
    else:
        app.extensions["owa_store"] = MemoryStore()


def get_store() -> MemoryStore | RedisStore:
    return current_app.extensions["owa_store"]
