"""The recent minutes of usage: counts per minute in Redis (or this process's memory).

Per epoch minute `m` (keys under the minute's hash tag, so one minute's keys share a slot):

- `owa:{usage:<m>}:counts`: a hash, field `<kind>|<subject id>|<status class>|<route>`
  → requests;
- `owa:{usage:<m>}:ips:<key id>`: the set of client IPs of an API key in that minute;

and per key the IPs of its hour and of its day (`owa:{usage-hour:<h>}:ips:<key id>`,
`owa:{usage-day:<d>}:ips:<key id>`), so the hourly and daily rows count distinct IPs
exactly. Minutes are kept `MINUTES_KEPT` minutes (plus a margin), hours and days until
they have certainly been rolled up. A flush is one non-transactional pipeline, which a
Redis Cluster client splits by node.
"""

import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import redis
from redis.cluster import RedisCluster

MINUTES_KEPT = 120
"""How far back minute counts can be read (minute granularity, and the rollup's reach)."""
MINUTE_TTL_SECONDS = MINUTES_KEPT * 60 + 600
HOUR_TTL_SECONDS = 3 * 3600
DAY_TTL_SECONDS = 2 * 86400
STATUS_CLASSES = ("2xx", "4xx", "429", "5xx")


class CountKey(NamedTuple):
    kind: str
    subject_id: str
    status_class: str
    route: str

    @property
    def field(self) -> str:
        return "|".join(self)

    @classmethod
    def parse(cls, text: str) -> "CountKey":
        kind, subject_id, status_class, route = text.split("|", 3)
        return cls(kind, subject_id, status_class, route)


@dataclass
class Batch:
    """What one process counted since its last flush."""

    counts: Counter[tuple[int, CountKey]] = field(default_factory=Counter)
    """(epoch minute, what) → requests."""
    ips: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    """(epoch minute, API key id) → client IPs."""

    def __bool__(self) -> bool:
        return bool(self.counts)

    @property
    def requests(self) -> int:
        return sum(self.counts.values())


def counts_name(minute: int) -> str:
    return f"owa:{{usage:{minute}}}:counts"


def minute_ips_name(minute: int, key_id: str) -> str:
    return f"owa:{{usage:{minute}}}:ips:{key_id}"


def hour_ips_name(hour: int, key_id: str) -> str:
    return f"owa:{{usage-hour:{hour}}}:ips:{key_id}"


def day_ips_name(day: int, key_id: str) -> str:
    return f"owa:{{usage-day:{day}}}:ips:{key_id}"


MinuteCounts = dict[CountKey, int]


class RedisMinutes:
    def __init__(self, client: "redis.Redis | RedisCluster") -> None:
        self.client = client

    def write(self, batch: Batch) -> None:
        pipe = self.client.pipeline(transaction=False)
        for (minute, what), requests in batch.counts.items():
            pipe.hincrby(counts_name(minute), what.field, requests)
        for minute in {minute for minute, _ in batch.counts}:
            pipe.expire(counts_name(minute), MINUTE_TTL_SECONDS)
        for (minute, key_id), ips in batch.ips.items():
            for name, ttl in _ip_sets(minute, key_id):
                pipe.sadd(name, *ips)
                pipe.expire(name, ttl)
        pipe.execute()

    def read(self, minutes: Sequence[int]) -> dict[int, MinuteCounts]:
        if not minutes:
            return {}
        pipe = self.client.pipeline(transaction=False)
        for minute in minutes:
            pipe.hgetall(counts_name(minute))
        return {
            minute: {CountKey.parse(k.decode()): int(v) for k, v in fields.items()}
            for minute, fields in zip(minutes, pipe.execute(), strict=True)
            if fields
        }

    def members(self, names: Sequence[str]) -> list[set[str]]:
        if not names:
            return []
        pipe = self.client.pipeline(transaction=False)
        for name in names:
            pipe.smembers(name)
        return [{member.decode() for member in found} for found in pipe.execute()]

    def sizes(self, names: Sequence[str]) -> list[int]:
        if not names:
            return []
        pipe = self.client.pipeline(transaction=False)
        for name in names:
            pipe.scard(name)
        return [int(size) for size in pipe.execute()]


class MemoryMinutes:
    """The same in this process, for the embedded default (`make run`, no REDIS_URL)."""

    def __init__(self) -> None:
        self._counts: dict[int, Counter[CountKey]] = {}
        self._sets: dict[str, tuple[float, set[str]]] = {}
        self._lock = threading.Lock()

    def write(self, batch: Batch) -> None:
        now = time.time()
        with self._lock:
            for (minute, what), requests in batch.counts.items():
                self._counts.setdefault(minute, Counter())[what] += requests
            for (minute, key_id), ips in batch.ips.items():
                for name, ttl in _ip_sets(minute, key_id):
                    _, members = self._sets.get(name, (0.0, set()))
                    self._sets[name] = (now + ttl, members | ips)
            oldest = int(now // 60) - MINUTE_TTL_SECONDS // 60
            for minute in [minute for minute in self._counts if minute < oldest]:
                del self._counts[minute]
            for name in [name for name, (until, _) in self._sets.items() if until < now]:
                del self._sets[name]

    def read(self, minutes: Sequence[int]) -> dict[int, MinuteCounts]:
        with self._lock:
            return {m: dict(self._counts[m]) for m in minutes if self._counts.get(m)}

    def members(self, names: Sequence[str]) -> list[set[str]]:
        with self._lock:
            return [set(self._sets.get(name, (0.0, set()))[1]) for name in names]

    def sizes(self, names: Sequence[str]) -> list[int]:
        return [len(members) for members in self.members(names)]


Minutes = RedisMinutes | MemoryMinutes


def _ip_sets(minute: int, key_id: str) -> Iterable[tuple[str, int]]:
    yield minute_ips_name(minute, key_id), MINUTE_TTL_SECONDS
    yield hour_ips_name(minute // 60, key_id), HOUR_TTL_SECONDS
    yield day_ips_name(minute // 1440, key_id), DAY_TTL_SECONDS
