"""Revoked access tokens: PostgreSQL decides, Redis answers the hot path.

PostgreSQL records every revocation (the feature that owns sessions plugs its tables
in with `set_revocation_source`): a logged-out token's `jti` until the token expires,
a revoked session as its refresh-token family's `revoked_at`.

Redis keeps, per subject (one developer, one end user), ONE hash under the subject's
hash tag, `owa:{dev:<id>}:revoked` / `owa:{sdk:<id>}:revoked`: a field per live
revocation (`jti:<jti>` / `sid:<family id>` → epoch second it stops mattering) and the
field `loaded`, written only when the subject's revocations were copied from
PostgreSQL. A hash without `loaded` (Redis restarted empty, flushed, evicted the key,
or the cache lifetime ran out) is not trusted: the subject is loaded first. Redis
evicts and flushes whole keys, so the flags and their presence marker vanish together
and no eviction policy can make a revoked token pass.

A revocation is committed to PostgreSQL together with a record of its flag, marked
pushed once Redis has the flag and kept until the flag no longer matters. Before this
process trusts Redis again (after any Redis error, and on every new connection: Redis
back from a restart, maybe from a snapshot older than some pushes, is a new connection)
every unexpired record is pushed again, by one thread: until that push has completed
(with no new connection meanwhile) every thread decides in PostgreSQL. The periodic
`revocations.push` task pushes those never pushed, for a process whose own connection
never broke.
"""

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import IntEnum
from typing import Protocol, cast

import redis
from flask import Flask, current_app
from redis.cluster import RedisCluster

from app.core.outages import OutageLog, outage_log

log = logging.getLogger(__name__)

LOADED_FIELD = "loaded"
REVOKED_FIELD = "revoked"
"""An API key's tombstone: its secret was rotated away, deleted or revoked."""
EXPIRES_FIELD = "expires"
"""An API key record's expiry (epoch seconds), also pushed alone when a rotation's grace
period starts: a fill never removes it, so a stale fill cannot lift it."""
RELOAD_FIELD = "reload"
"""Pushed for an API key whose scopes or allowlist changed: not a field but an order to
drop the record's `loaded` mark, so the next request reads the key from PostgreSQL (a
fill that read the old row reads it again after writing, see `app.core.admission`)."""
CACHE_SECONDS = 3600
"""How long a loaded subject is trusted before it is read from PostgreSQL again."""
UNKNOWN_KEY_CACHE_SECONDS = 60
"""How long a well-formed API key that matches no key is remembered as unknown."""
PUSH_ATTEMPTS = 3
"""Pushes in a row before a thread whose pushes keep being interrupted by new
connections leaves Redis untrusted for the next request."""
PUSH_WAIT_SECONDS = 1.0
"""How long a request waits for another thread's push before PostgreSQL decides for it
(and its window is counted in this process only). A push takes milliseconds: waiting
keeps the rate limits exact across workers while a new connection is pushed to."""

# One round trip per authenticated JWT request; every key is under the subject's hash
# tag. Returns -1 when the subject is not loaded, 1 when a field is live, else 0.
CHECK_REVOKED = """
local values = redis.call('HMGET', KEYS[1], ARGV[1], ARGV[2], ARGV[3])
if not values[1] then
    return -1
end
local now = tonumber(redis.call('TIME')[1])
if (values[2] and tonumber(values[2]) > now) or (values[3] and tonumber(values[3]) > now) then
    return 1
end
return 0
"""

# Add one revocation whether or not the subject is loaded: a load that read
# PostgreSQL before this revocation committed merges into the hash and keeps it.
# Expired revocations go on the way (an API key's record fields are not revocations).
# The reload marker (ARGV[5]) instead drops `loaded`: the record is read again.
ADD_REVOCATION = """
if ARGV[1] == ARGV[5] then
    redis.call('HDEL', KEYS[1], ARGV[3])
    return 1
end
local now = tonumber(redis.call('TIME')[1])
local fields = redis.call('HGETALL', KEYS[1])
for index = 1, #fields, 2 do
    local name = fields[index]
    local revocation = string.sub(name, 1, 4)
    if (revocation == 'jti:' or revocation == 'sid:') and tonumber(fields[index + 1]) <= now then
        redis.call('HDEL', KEYS[1], name)
    end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('TTL', KEYS[1]) < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return 1
"""


class Status(IntEnum):
    NOT_LOADED = -1
    CLEAR = 0
    REVOKED = 1


def subject_of(kind: str, subject_id: str) -> str:
    """`dev:<id>` or `sdk:<id>`: the hash tag every key of this subject carries."""
    return f"{'dev' if kind == 'developer' else kind}:{subject_id}"


def cache_key(subject: str) -> str:
    return f"owa:{{{subject}}}:revoked"


def token_field(token_id: str) -> str:
    return f"jti:{token_id}"


def session_field(session_id: str) -> str:
    return f"sid:{session_id}"


Revocations = dict[str, float]
"""field → epoch second after which it no longer matters."""
Revocation = tuple[str, str, float]
"""(subject, field, expires at as epoch seconds): one flag."""
AddRevocations = Callable[[Sequence[Revocation]], None]
"""A batch of flags → they are in Redis, or RedisError."""


class RevocationSource(Protocol):
    """Where revocations are recorded durably (PostgreSQL)."""

    def live_revocations(self, subject: str) -> Revocations:
        """Everything revoked for this subject that could still be presented."""

    def push_unpushed(self, add: AddRevocations, including_pushed: bool) -> int:
        """Hand every unexpired revocation never pushed (`including_pushed`: every
        unexpired one, Redis may have lost them) to `add`; mark them pushed."""


class RedisRevocations:
    def __init__(self, client: "redis.Redis | RedisCluster") -> None:
        self.client = client
        # RedisCluster runs scripts whose keys share a slot; redis-py types the method on
        # Redis only.
        scripting = cast(redis.Redis, client)
        self.check_script = scripting.register_script(CHECK_REVOKED)
        self.add_script = scripting.register_script(ADD_REVOCATION)
        self.untrusted = True
        """Set by a Redis error or a new connection; cleared only once a push that began
        after the last of them succeeded. Until then PostgreSQL decides."""
        self.distrusts = 0
        """How many times Redis was distrusted: a push trusts it only if none happened
        while it ran (Redis may have restarted mid-push, losing what it was given)."""
        self.trust_lock = threading.Lock()
        self.push_lock = threading.Lock()
        """Held by the one thread pushing; the others wait for it (`ensure_trusted`)."""

    def note_new_connection(self, connection: redis.connection.AbstractConnection) -> None:
        connection.on_connect()  # type: ignore[no-untyped-call]
        self.distrust()

    def distrust(self) -> None:
        with self.trust_lock:
            self.distrusts += 1
            self.untrusted = True

    def trust_unless_distrusted_since(self, distrusts: int) -> bool:
        """Trust Redis if it was not distrusted since `distrusts` was read; whether it is."""
        with self.trust_lock:
            if self.distrusts == distrusts:
                self.untrusted = False
            return not self.untrusted

    def status(self, subject: str, fields: Iterable[str]) -> Status:
        keys = [cache_key(subject)]
        return Status(int(self.check_script(keys, [LOADED_FIELD, *fields])))

    def add(self, subject: str, field: str, expires_at: float) -> None:
        self.add_script([cache_key(subject)], _add_arguments(field, expires_at))

    def add_many(self, revocations: Sequence[Revocation]) -> None:
        """One round trip for the batch (a re-push hands over every live flag: one call
        each made it last 0.3 s per thousand); a cluster's keys are in many slots, so
        there each is its own call."""
        if isinstance(self.client, RedisCluster):
            for revocation in revocations:
                self.add(*revocation)
            return
        pipe = self.client.pipeline(transaction=False)
        for subject, field, expires_at in revocations:
            self.add_script([cache_key(subject)], _add_arguments(field, expires_at), client=pipe)
        pipe.execute()

    def unload(self, subject: str) -> None:
        """Stop trusting a subject's record until it is filled again."""
        self.client.hdel(cache_key(subject), LOADED_FIELD)

    def load(self, subject: str, revocations: Mapping[str, float], complete: bool) -> None:
        """Write these revocations; `complete`: they are all the subject has (`loaded`)."""
        mapping: dict[str, int] = {field: int(expiry) + 1 for field, expiry in revocations.items()}
        if complete:
            mapping[LOADED_FIELD] = 1
        if not mapping:
            return
        key = cache_key(subject)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, CACHE_SECONDS, nx=not complete)
        pipe.execute()

    def fill_api_key(
        self,
        subject: str,
        fields: Mapping[str, str | int],
        seconds: int,
        forget: Iterable[str] = (),
    ) -> None:
        """Write an API key's record (or, without `id`, its absence) and mark it loaded;
        `forget`: fields of an earlier record to drop first. A tombstone already there
        stays: a fill never un-revokes."""
        key = cache_key(subject)
        pipe = self.client.pipeline(transaction=True)
        if forget:
            pipe.hdel(key, *forget)
        pipe.hset(key, mapping={**fields, LOADED_FIELD: 1})
        pipe.expire(key, seconds)
        pipe.execute()


def _add_arguments(field: str, expires_at: float) -> list[str | int]:
    # A revocation is kept up to the second after it ends; an API key's expiry is the
    # second it ends (rounded up, never past it: a whole-second expiry holds).
    value = math.ceil(expires_at) if field == EXPIRES_FIELD else int(expires_at) + 1
    return [field, value, LOADED_FIELD, CACHE_SECONDS, RELOAD_FIELD]


class MemoryRevocations:
    """The embedded single-process default: nothing to lose, nothing to load."""

    untrusted = False

    def __init__(self) -> None:
        self.flags: dict[str, Revocations] = {}

    def status(self, subject: str, fields: Iterable[str]) -> Status:
        revoked = _revoked_in(self.flags.get(subject, {}), fields)
        return Status.REVOKED if revoked else Status.CLEAR

    def add(self, subject: str, field: str, expires_at: float) -> None:
        self.flags.setdefault(subject, {})[field] = expires_at

    def add_many(self, revocations: Sequence[Revocation]) -> None:
        for revocation in revocations:
            self.add(*revocation)

    def load(self, subject: str, revocations: Mapping[str, float], complete: bool) -> None:
        self.flags.setdefault(subject, {}).update(revocations)


def init_revocations(app: Flask, client: "redis.Redis | RedisCluster | None") -> None:
    app.extensions["owa_revocations"] = (
        RedisRevocations(client) if client is not None else MemoryRevocations()
    )


def set_revocation_source(app: Flask, source: RevocationSource) -> None:
    app.extensions["owa_revocation_source"] = source


def _cache() -> RedisRevocations | MemoryRevocations:
    cache: RedisRevocations | MemoryRevocations = current_app.extensions["owa_revocations"]
    return cache


def _source() -> RevocationSource:
    source: RevocationSource = current_app.extensions["owa_revocation_source"]
    return source


def _revoked_in(revocations: Revocations, fields: Iterable[str]) -> bool:
    now = time.time()
    return any(revocations.get(field, 0) > now for field in fields)


def _outage() -> OutageLog:
    return outage_log("Redis", "revocation checks and writes done in PostgreSQL only", log)


def _note_outage(error: redis.RedisError) -> None:
    cache = redis_revocations()
    if cache is not None:
        cache.distrust()
    _outage().failed(error)


def redis_revocations() -> RedisRevocations | None:
    """The Redis cache, for the admission's single call; None for the embedded default."""
    cache = _cache()
    return cache if isinstance(cache, RedisRevocations) else None


def ensure_trusted() -> bool:
    """Whether Redis holds every revocation: if it failed or reconnected since the last
    push, push them all first (it may be back from an older snapshot). One thread
    pushes; the others wait for it up to `PUSH_WAIT_SECONDS`. False when that wait ran
    out, or when Redis kept reconnecting: decide in PostgreSQL then. Raises RedisError
    while it is down (and Redis stays untrusted)."""
    cache = redis_revocations()
    if cache is None or not cache.untrusted:
        return True
    if not cache.push_lock.acquire(timeout=PUSH_WAIT_SECONDS):
        return False
    try:
        # The push this thread waited for may have succeeded (mypy cannot see the
        # other thread change the flag since the unlocked check).
        if not cache.untrusted:
            return True  # type: ignore[unreachable]
        # Pushing may itself open a new connection (and distrust Redis again).
        return any(_push_to(cache, including_pushed=True)[1] for _ in range(PUSH_ATTEMPTS))
    finally:
        cache.push_lock.release()


def _push_to(cache: RedisRevocations, including_pushed: bool) -> tuple[int, bool]:
    """Push; how many revocations were handed over, and whether Redis is trusted now."""
    distrusts = cache.distrusts
    pushed = _source().push_unpushed(cache.add_many, including_pushed)
    return pushed, cache.trust_unless_distrusted_since(distrusts)


def note_outage(error: redis.RedisError) -> None:
    """Redis failed: push before trusting it again."""
    _note_outage(error)


def load_subject(subject: str, fields: Iterable[str]) -> bool:
    """Copy a subject Redis lost from PostgreSQL; whether one of `fields` is revoked."""
    cache, source = _cache(), _source()
    cache.load(subject, source.live_revocations(subject), complete=True)
    # A revocation that committed after that read and was flagged before Redis lost
    # its data again would be missing under a fresh `loaded`: read once more, merge.
    revocations = source.live_revocations(subject)
    cache.load(subject, revocations, complete=False)
    return _revoked_in(revocations, fields)


def revoked_in_database(subject: str, fields: Iterable[str]) -> bool:
    return _revoked_in(_source().live_revocations(subject), fields)


def is_revoked(subject: str, token_id: str, session_id: str) -> bool:
    """One Redis call when Redis is trusted and the subject is loaded (a second to load
    the subject when Redis lost it); PostgreSQL alone, without trying Redis, while Redis
    is untrusted: down or backing off, or reconnected and not pushed to yet (the
    admission retries it and pushes)."""
    fields = (token_field(token_id), session_field(session_id))
    cache = redis_revocations()
    if cache is None:
        return _cache().status(subject, fields) is Status.REVOKED
    if cache.untrusted:
        return revoked_in_database(subject, fields)
    distrusts = cache.distrusts
    try:
        status = cache.status(subject, fields)
        if cache.distrusts != distrusts:
            # Reconnected during the call: Redis may be back without what was pushed.
            return revoked_in_database(subject, fields)
        _outage().recovered()
        if status is Status.NOT_LOADED:
            return load_subject(subject, fields)
        return status is Status.REVOKED
    except redis.RedisError as error:
        _note_outage(error)
        return revoked_in_database(subject, fields)


def add_revocation(subject: str, field: str, expires_at: float) -> bool:
    """Flag a revocation PostgreSQL already has; False (to retry later) when Redis is down."""
    try:
        _cache().add(subject, field, expires_at)
    except redis.RedisError as error:
        _note_outage(error)
        return False
    return True


def push_unpushed() -> int:
    """Push what Redis may lack (the periodic task): every unexpired revocation when
    this process distrusts Redis, else those never pushed. Raises RedisError while it
    is down."""
    cache = redis_revocations()
    if cache is None:
        return _source().push_unpushed(_cache().add_many, including_pushed=False)
    with cache.push_lock:
        return _push_to(cache, including_pushed=cache.untrusted)[0]
