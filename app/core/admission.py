"""Admission: one Redis call per request decides what the request needs from shared state.

Before any view runs, `admit_request` sends one `EVALSHA` that, for the caller's
subject (an API key's digest, a developer, an end user), reads whether the credential is
usable (an API key's record: id, expiry, tombstone; a JWT's `jti`/`sid` revocation
flags), admits the request against the caller's moving-window limit and returns the
numbers for the rate-limit headers, and records an API key's last use. Every key the
script touches carries the subject's hash tag (`owa:{key:<digest>}:…`), so the call runs
on one node of a Redis Cluster too. No SQL authenticates a request.

A second call happens only off the steady state: the subject is not in Redis (first use,
Redis restarted, flushed or evicted it, the cached record expired) and is filled from
PostgreSQL first; the credential is refused (the request then counts against the client
IP, and a refused API key goes to the listener a feature set with
`set_api_key_refusal_listener`); or Redis just reconnected (what it may have missed is
pushed, then re-checked).

API-key records are filled by the api_keys feature's loader with one query, written
with a tombstone when a secret stops being valid (rotation, deletion), and remembered
as unknown for UNKNOWN_KEY_CACHE_SECONDS when no key has that digest. A fill that read
a key before its rotation committed cannot resurrect it: a tombstone already there
stays (fills merge, never delete), and the fill reads PostgreSQL again after writing and
adds the tombstone itself if the key has gone meanwhile (`app.core.revocation`).

flask-limiter still runs the per-route limits (failed logins, mints, password resets),
but the windows of those it only tests before the view (the failure-only ones: failed
logins, failed mints) are read in the admission's call, so a login or a mint costs one
call for all its limits (on a Redis Cluster, the windows in the caller's slot: those per
client IP for an anonymous caller; a window per application or e-mail is read apart);
a failure then counts in every window after the view, in one more call (flask-limiter's
hits, collected by `app.core.ratelimit.hits_counted_together`). It cannot
carry the caller's limit here, because its hit is a storage call of its own
made after the key function, with no way to carry the credential check or to leave the
window untouched when the credential turns out to be revoked. The settings
(`RATELIMIT_*`) and the fallback are the same: while Redis is unreachable the caller
limits count in per-process memory with `limits`' moving window, credentials are checked
against PostgreSQL, and Redis is tried again after 1, 2, 4 … 32 seconds.
"""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import redis
import sqlalchemy.exc
from flask import Flask, current_app, g, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from redis.cluster import RedisCluster
from redis.crc import key_slot

from app.core import revocation
from app.core.auth import (
    API_KEY_PREFIXES,
    ApiKeyRecord,
    Claim,
    Kind,
    Principal,
    allowed_here,
    api_key_caller,
    digest_of_subject,
    identify,
    load_api_key,
    read_credential,
    restriction_field,
    verify_credential,
)
from app.core.errors import ApiError, database_unavailable_error, unauthorized
from app.core.outages import OutageLog, database_outage, is_database_unavailable
from app.core.ratelimit import (
    WINDOW_FUNCTION,
    WINDOW_SLOTS,
    CallerWindow,
    bucket_seconds,
    client_subject,
    current_bucket,
    failure_only_windows,
    is_preflight,
    is_unlimited,
    remember_window,
    window_reset_at,
    window_state_ttl_ms,
)
from app.core.secrets import digest
from app.core.store import MemoryStore, get_store

log = logging.getLogger(__name__)

API_KEY_USES = "owa:{api_keys}:last_used"
"""The embedded default's record of API-key uses (Redis keeps them in each key's record)."""
USED_AT_FIELD, USED_IP_FIELD = "used_at", "used_ip"
CALLER_LIMIT_SETTINGS = {
    Kind.API_KEY: "RATELIMIT_API_KEY",
    Kind.SDK: "RATELIMIT_SDK_USER",
    Kind.DEVELOPER: "RATELIMIT_DEVELOPER",
    None: "RATELIMIT_PER_IP",
}
"""The caller limit per credential kind; None: no valid credentials (per client IP)."""
LONGEST_BACKOFF_SECONDS = 32
API_KEY_REFUSAL_LISTENER = "owa_api_key_refusal_listener"
ApiKeyRefusalListener = Callable[[str | None], None]
"""Called with the client address for each API key the admission refused with 401."""
FILL_ATTEMPTS = 3
"""Writes of a key's record before a fill gives up on a key that keeps changing."""
KEY_RECORD_FIELDS = ("id", "environment", "scopes", "allowed_ips", "expires")
"""A key record's fields (`record_fields`); its tombstone and last use are kept apart."""
KEY_REPLY_FIELDS = ("id", "scopes", "allowed_ips")
"""A key record's fields the script returns after the window."""
KIND_ARGUMENTS_END = 9
"""The script's last argument about the credential; windows to read follow."""

# KEYS[1]: the caller's window. KEYS[2]: the subject's hash (`app.core.revocation`).
# ARGV[1..3]: limit, slots, window TTL in ms; ARGV[4]: the current bucket; ARGV[5]: cost
# (0 reads the window without counting); ARGV[6]: now, in epoch seconds; ARGV[7]:
# 'token', 'key' or 'anonymous'; tokens: ARGV[8], ARGV[9] the `jti` and `sid` fields;
# keys: ARGV[8] the client IP. KEYS[3…]: the windows of the view's failure-only limits
# (on a Cluster, those in KEYS[1]'s slot), read without counting; ARGV[10…] a limit and
# current bucket for each.
# Returns {status} when the credential cannot pass (-1 not loaded, or a record written
# without scopes and allowlist; 1 revoked, 2 unknown key, 3 expired key), else
# {0, admitted, oldest bucket end, count[, key id, scopes, allowed ips]}; with windows to
# read, the key's three fields (or nils) and an oldest bucket end and count per window.
ADMIT = (
    WINDOW_FUNCTION
    + """
local kind = ARGV[7]
local key_id, scopes, allowed_ips
if kind == 'token' then
    local values = redis.call('HMGET', KEYS[2], 'loaded', ARGV[8], ARGV[9])
    if not values[1] then
        return {-1}
    end
    local now = tonumber(ARGV[6])
    if (values[2] and tonumber(values[2]) > now) or (values[3] and tonumber(values[3]) > now) then
        return {1}
    end
elseif kind == 'key' then
    local values = redis.call('HMGET', KEYS[2], 'loaded', 'revoked', 'id', 'expires',
        'used_at', 'used_ip', 'scopes', 'allowed_ips')
    if not values[1] then
        return {-1}
    end
    local now = tonumber(ARGV[6])
    if values[2] and tonumber(values[2]) > now then
        return {1}
    end
    if not values[3] then
        return {2}
    end
    if values[4] and tonumber(values[4]) <= now then
        return {3}
    end
    if not values[7] or not values[8] then
        return {-1}
    end
    key_id = values[3]
    scopes = values[7]
    allowed_ips = values[8]
    if values[5] ~= ARGV[6] or values[6] ~= ARGV[8] then
        redis.call('HSET', KEYS[2], 'used_at', ARGV[6], 'used_ip', ARGV[8])
    end
end
local admitted, oldest_end, total = acquire(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[5]),
    tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]))
if #KEYS == 2 then
    return {0, admitted, oldest_end, total, key_id, scopes, allowed_ips}
end
local reply = {0, admitted, oldest_end, total, key_id or false, scopes or false,
    allowed_ips or false}
for i = 3, #KEYS do
    local _, read_oldest_end, read_total = acquire(KEYS[i], tonumber(ARGV[2 * i + 4]), 0,
        tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[2 * i + 5]))
    reply[#reply + 1] = read_oldest_end
    reply[#reply + 1] = read_total
end
return reply
"""
)
NOT_LOADED, CLEAR, REVOKED, UNKNOWN_KEY, EXPIRED_KEY = -1, 0, 1, 2, 3
REFUSALS = {
    REVOKED: "Token has been revoked.",
    UNKNOWN_KEY: "Invalid API key",
    EXPIRED_KEY: "API key expired",
}


@dataclass(frozen=True)
class CallerLimit:
    item: RateLimitItem
    amount: int
    seconds: int
    arguments: tuple[int, int, int]
    """The script's ARGV[1..3] for this limit."""
    bucket_seconds: float
    key_suffix: str
    description: str

    @classmethod
    def parse(cls, text: str) -> "CallerLimit":
        item = parse(text)
        seconds = item.get_expiry()
        return cls(
            item,
            item.amount,
            seconds,
            (item.amount, WINDOW_SLOTS, window_state_ttl_ms(seconds)),
            bucket_seconds(seconds),
            f":window:{item.amount}/{seconds}",
            str(item),
        )

    def window(self, admitted: bool, oldest_bucket_end: int, count: int) -> CallerWindow:
        return CallerWindow(
            amount=self.amount,
            seconds=self.seconds,
            description=self.description,
            admitted=admitted,
            reset_at=window_reset_at(oldest_bucket_end, count, self.seconds) + self.seconds,
            remaining=max(self.amount - count, 0),
        )


Resolved = Principal | ApiError | None
Decided = tuple[Resolved, CallerWindow]
"""Who is calling (or why not) and the caller's window."""


class Admission:
    """Per app: the caller limits, the Redis script and the per-process fallback."""

    def __init__(self, app: Flask, client: "redis.Redis | RedisCluster | None") -> None:
        self.limits = {
            kind: CallerLimit.parse(app.config[setting])
            for kind, setting in CALLER_LIMIT_SETTINGS.items()
        }
        # RedisCluster runs scripts whose keys share a slot; redis-py types the method
        # on Redis only.
        self.script = cast(redis.Redis, client).register_script(ADMIT) if client else None
        self.client = client
        # One Redis holds every key; on a Cluster a call reads the windows in its slot.
        self.cluster = isinstance(client, RedisCluster)
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self.retry_at = 0.0
        self.backoff = 0
        self.last_error: redis.RedisError | None = None
        self.outage = OutageLog(
            "Redis",
            "requests limited per process and authenticated against PostgreSQL, "
            "API keys without last-use marks",
            log,
        )

    @property
    def using_fallback(self) -> bool:
        """This process counts in memory because Redis stopped answering."""
        return self.backoff > 0

    def admit(self) -> None:
        credential: str | None = None
        claim: Claim | None = None
        resolved: Resolved = None
        try:
            credential = read_credential()
            claim = identify(credential) if credential else None
        except ApiError as error:
            resolved = error
        if self.script is not None and time.monotonic() >= self.retry_at:
            try:
                through_redis = self._through_redis(claim, resolved, credential)
            except redis.RedisError as error:
                self._failed(error)
                resolved, window = self._in_memory(claim, resolved, credential)
            else:
                if through_redis is None:
                    # Another thread is pushing what Redis may lack: not trusted yet.
                    resolved, window = self._in_memory(claim, resolved, credential)
                else:
                    resolved, window = through_redis
                    if self.backoff:
                        self.backoff, self.last_error = 0, None
                        self.outage.recovered()
        else:
            if self.last_error is not None:
                self.outage.failed(self.last_error)  # counted for the summary line
            resolved, window = self._in_memory(claim, resolved, credential)
        g.resolved_caller = resolved
        g.caller_window = window
        if _is_refused_api_key(credential, resolved):
            listener: ApiKeyRefusalListener | None = current_app.extensions.get(
                API_KEY_REFUSAL_LISTENER
            )
            if listener is not None:
                listener(request.remote_addr)
        if not window.admitted:
            raise ApiError(429, f"Rate limit exceeded: {window.description}")

    def _failed(self, error: redis.RedisError) -> None:
        revocation.note_outage(error)
        self.outage.failed(error)
        self.last_error = error
        self.backoff = min(max(self.backoff * 2, 1), LONGEST_BACKOFF_SECONDS)
        self.retry_at = time.monotonic() + self.backoff

    # Redis: one call in the steady state.

    def call(
        self, claim: Claim | None, tag: str, cost: int = 1, check: bool = True
    ) -> list[int | bytes]:
        """The one `EVALSHA`: the claim's status (unless `check=False`), its window
        admitted by `cost` (0: read only) and the view's failure-only windows read, for
        the subject tagged `tag`; the script's reply (see ADMIT)."""
        assert self.script is not None
        limit = self.limits[claim.kind if claim else None]
        keys = [f"owa:{{{tag}}}{limit.key_suffix}", revocation.cache_key(tag)]
        if claim is None or not check:
            arguments: tuple[str | int, ...] = ("anonymous",)
        elif claim.kind is Kind.API_KEY:
            arguments = ("key", request.remote_addr or "")
        else:
            arguments = ("token", *claim.revocation_fields)
        now = time.time()
        current = int(now // limit.bucket_seconds)
        values = [*limit.arguments, current, cost, int(now), *arguments]
        windows = failure_only_windows()
        if windows and self.cluster:
            slot = key_slot(keys[0].encode())
            windows = [window for window in windows if key_slot(window[0].encode()) == slot]
        if windows:
            values += [""] * (KIND_ARGUMENTS_END - len(values))
            for key, item in windows:
                keys.append(key)
                values += [item.amount, current_bucket(item.get_expiry())]
        reply: list[int | bytes] = self.script(keys, values)
        if windows and reply[0] == CLEAR:
            read = reply[len(KEY_REPLY_FIELDS) + 4 :]
            for (key, item), oldest_end, count in zip(windows, read[::2], read[1::2], strict=True):
                oldest = window_reset_at(int(oldest_end), int(count), item.get_expiry())
                remember_window(key, oldest, int(count))
        return reply

    def _window(self, claim: Claim | None, reply: list[int | bytes]) -> CallerWindow:
        limit = self.limits[claim.kind if claim else None]
        return limit.window(bool(reply[1]), int(reply[2]), int(reply[3]))

    def _through_redis(
        self, claim: Claim | None, resolved: Resolved, credential: str | None
    ) -> Decided | None:
        """The caller and its window decided through Redis; None when Redis cannot be
        trusted with the credential yet (PostgreSQL decides, see `ensure_trusted`)."""
        if claim is None:
            return resolved, self._window(None, self.call(None, client_subject()))
        try:
            return self._check_and_admit(claim)
        except sqlalchemy.exc.SQLAlchemyError as error:
            return self._database_unavailable(error, credential)

    def _check_and_admit(self, claim: Claim) -> Decided | None:
        if not revocation.ensure_trusted():
            return None
        reply = self.call(claim, claim.subject)
        if reply[0] == NOT_LOADED:
            decided = self._fill(claim)
            reply = self.call(claim, claim.subject)
            if reply[0] == NOT_LOADED:
                # Evicted again at once (a Redis full and evicting): PostgreSQL decided.
                reply = decided if decided[0] != CLEAR else self._admit_unchecked(claim, decided)
        cache = revocation.redis_revocations()
        if cache is not None and cache.untrusted:
            # Redis reconnected during the call: it may have restarted without the
            # revocations made meanwhile. Push them, then read again without counting.
            if not revocation.ensure_trusted():
                return None
            reply = self._recheck(claim, reply)
        status = int(reply[0])
        if status != CLEAR:
            # A rotated or deleted key's secret is simply no longer a key.
            refused_key = claim.kind is Kind.API_KEY and status == REVOKED
            refusal = unauthorized("Invalid API key" if refused_key else REFUSALS[status])
            return refusal, self._window(None, self.call(None, client_subject()))
        if claim.principal is not None:
            return claim.principal, self._window(claim, reply)
        key_id, scopes, allowed_ips = (cast(bytes, field).decode() for field in reply[4:7])
        principal = api_key_caller(key_id, scopes, allowed_ips)
        # Refused from outside its allowlist, the request still used the key: it counts
        # against the key's window, as admitted above.
        return _allowed_here(principal, claim.subject), self._window(claim, reply)

    def _recheck(self, claim: Claim, reply: list[int | bytes]) -> list[int | bytes]:
        """Read the credential again without counting; the window stays as admitted.
        A pushed change (an API key's new scopes or allowlist) may have unloaded it."""
        recheck = self.call(claim, claim.subject, cost=0)
        if recheck[0] == NOT_LOADED:
            recheck = self._fill(claim)
            if recheck[0] == CLEAR:
                recheck = [CLEAR, *reply[1:4], *recheck[1:]]
        if recheck[0] != CLEAR or reply[0] != CLEAR:
            return recheck if recheck[0] != CLEAR else reply
        return [*reply[:4], *recheck[4:]]

    def _admit_unchecked(self, claim: Claim, decided: list[int | bytes]) -> list[int | bytes]:
        """Admit against the claim's window once PostgreSQL has cleared the credential."""
        reply = self.call(claim, claim.subject, check=False)
        return [*reply[:4], *decided[1:]]

    def _fill(self, claim: Claim) -> list[int | bytes]:
        """Copy the subject from PostgreSQL into Redis (it was missing there); returns
        what PostgreSQL decided, shaped like the script's reply:
        {status[, key id, scopes, allowed ips]}."""
        if claim.principal is not None:
            revoked = revocation.load_subject(claim.subject, claim.revocation_fields)
            return [REVOKED if revoked else CLEAR]
        cache = revocation.redis_revocations()
        assert cache is not None
        key_digest = digest_of_subject(claim.subject)
        record = load_api_key(key_digest)
        if record is None:
            # A record left from when the key was usable (unloaded by a narrowing, say) must
            # not outlive its tombstone under a fresh `loaded` mark.
            cache.fill_api_key(
                claim.subject,
                {},
                revocation.UNKNOWN_KEY_CACHE_SECONDS,
                forget=KEY_RECORD_FIELDS,
            )
            return [UNKNOWN_KEY]
        # The key may change (rotated, deleted, its scopes or allowlist narrowed) after
        # it was read, and the change's push land before this write, or be lost with
        # Redis's data: read again after writing until the write matches PostgreSQL.
        for _ in range(FILL_ATTEMPTS):
            cache.fill_api_key(claim.subject, record_fields(record), revocation.CACHE_SECONDS)
            again = load_api_key(key_digest)
            if again is None:
                until = time.time() + revocation.CACHE_SECONDS
                cache.add(claim.subject, revocation.REVOKED_FIELD, until)
                return [REVOKED]
            if again == record:
                break
            record = again
        else:
            # Still changing: trust none of it; the next request reads it again.
            cache.unload(claim.subject)
        if record.expires_at is not None and record.expires_at <= time.time():
            return [EXPIRED_KEY]
        fields = record_fields(record)
        return [CLEAR, *(str(fields[name]).encode() for name in KEY_REPLY_FIELDS)]

    def _database_unavailable(
        self, error: sqlalchemy.exc.SQLAlchemyError, credential: str | None
    ) -> Decided:
        """503 for a credential that cannot be checked now, counted per credential at
        the per-IP rate rather than against the client IP other callers share."""
        if not is_database_unavailable(error):
            raise error
        database_outage().failed(error)
        tag = f"unchecked:{digest(credential or '')}"
        return database_unavailable_error(), self._window(None, self.call(None, tag))

    # Memory: the embedded default, and every process while Redis is unreachable.

    def _in_memory(
        self, claim: Claim | None, resolved: Resolved, credential: str | None
    ) -> Decided:
        tag, kind = client_subject(), None
        if claim is not None and credential is not None:
            try:
                principal = verify_credential(claim)
                tag, kind = claim.subject, principal.kind
                if principal.kind is Kind.API_KEY:
                    self._note_use_in_memory(principal)
                # Refused from outside its allowlist: counted against the key, as in Redis.
                resolved = allowed_here(principal, claim.subject)
            except ApiError as error:
                resolved = error
            except sqlalchemy.exc.SQLAlchemyError as error:
                if not is_database_unavailable(error):
                    raise
                database_outage().failed(error)
                resolved = database_unavailable_error()
                tag = f"unchecked:{digest(credential)}"
        limit = self.limits[kind]
        admitted = self.memory.hit(limit.item, tag)
        reset_at, remaining = self.memory.get_window_stats(limit.item, tag)
        return resolved, CallerWindow(
            amount=limit.amount,
            seconds=limit.seconds,
            description=limit.description,
            admitted=admitted,
            reset_at=reset_at,
            remaining=remaining,
        )

    def _note_use_in_memory(self, principal: Principal) -> None:
        store = get_store()
        if isinstance(store, MemoryStore):
            store.touch(API_KEY_USES, principal.subject_id, time.time(), request.remote_addr)


def _allowed_here(principal: Principal, subject: str) -> Resolved:
    try:
        return allowed_here(principal, subject)
    except ApiError as refusal:
        return refusal


def record_fields(record: ApiKeyRecord) -> dict[str, str | int]:
    """A key's cached record; every field but `expires` is always written, so a fill
    overwrites a wider scope list or allowlist left from before."""
    fields: dict[str, str | int] = {
        "id": record.key_id,
        "environment": record.environment,
        "scopes": restriction_field(record.scopes),
        "allowed_ips": restriction_field(record.allowed_ips),
    }
    if record.expires_at is not None:
        fields["expires"] = math.floor(record.expires_at)
    return fields


def recorded_key_uses(subjects: dict[str, str]) -> dict[str, tuple[float, str | None]]:
    """key id → (latest use, client IP) as recorded in each key's Redis record;
    `subjects`: key id → its subject (`key:<digest>`)."""
    cache = revocation.redis_revocations()
    if cache is None or not subjects:
        return {}
    pipe = cache.client.pipeline(transaction=False)
    for subject in subjects.values():
        pipe.hmget(revocation.cache_key(subject), [USED_AT_FIELD, USED_IP_FIELD])
    uses = {}
    for key_id, (used_at, used_ip) in zip(subjects, pipe.execute(), strict=True):
        if used_at is not None:
            uses[key_id] = (float(used_at), used_ip.decode() if used_ip else None)
    return uses


def _is_refused_api_key(credential: str | None, resolved: Resolved) -> bool:
    """An API key (by its prefix) refused as malformed, unknown, rotated, deleted,
    revoked or expired: 401 on every path (Redis, memory). Not a 403 (sent from a web
    page) nor a 503 (the database could not check it)."""
    return (
        credential is not None
        and credential.startswith(API_KEY_PREFIXES)
        and isinstance(resolved, ApiError)
        and resolved.status == 401
    )


def set_api_key_refusal_listener(app: Flask, listener: ApiKeyRefusalListener) -> None:
    """A feature's hook for refused API keys (core never imports features). It runs in
    the request, after the admission's calls: a refused request pays for what it does."""
    app.extensions[API_KEY_REFUSAL_LISTENER] = listener


def admit_request() -> None:
    if is_unlimited() or is_preflight():
        return
    admission: Admission = current_app.extensions["owa_admission"]
    admission.admit()


def rate_limits_on_fallback(app: Flask) -> bool:
    admission: Admission = app.extensions["owa_admission"]
    return admission.using_fallback


def init_admission(app: Flask) -> None:
    cache = app.extensions["owa_revocations"]
    client = cache.client if isinstance(cache, revocation.RedisRevocations) else None
    app.extensions["owa_admission"] = Admission(app, client)
    app.before_request(admit_request)
