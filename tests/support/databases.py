"""PostgreSQL databases and Redis database indexes of one run's own.

The suite, the load test and the benchmarks all claim Redis indexes here, with one
lock key per index on the shared server, so no two runs (of any kind) share one."""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import redis

from tests.support.environment import ADMIN_DATABASE_URL, REDIS_SERVER_URL

CLAIMABLE_REDIS_INDEXES = range(1, 16)
"""Every index but 0, which is left to whoever runs the app by hand."""
CLAIM_SECONDS = 3600


def database_url(name: str) -> str:
    return f"{ADMIN_DATABASE_URL.rpartition('/')[0]}/{name}"


@contextmanager
def temporary_database(prefix: str) -> Iterator[str]:
    """An empty PostgreSQL database; yields its URL and drops it afterwards."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def claimed_redis_database(owner: str) -> Iterator[str]:
    """A Redis database index no other run holds, emptied; yields its URL, then empties
    and releases it. `owner` (e.g. `pytest`, `loadtest`) is what the lock key holds."""
    server = redis.Redis.from_url(REDIS_SERVER_URL)
    try:
        for index in CLAIMABLE_REDIS_INDEXES:
            lock = f"owa-test-lock:{index}"
            if server.set(lock, f"{owner}-{os.getpid()}", nx=True, ex=CLAIM_SECONDS):
                url = f"{REDIS_SERVER_URL}/{index}"
                own = redis.Redis.from_url(url)
                try:
                    own.flushdb()
                    yield url
                finally:
                    own.flushdb()
                    own.close()
                    server.delete(lock)
                return
        raise RuntimeError("every claimable Redis database index is taken")
    finally:
        server.close()
