"""Rate limits keyed by who is calling, on a bounded moving window.

Every request except the probes, the API docs, the dashboard's pages and CORS preflights
counts against one caller limit (unknown paths and wrong methods too): an API key against
its key, an SDK token against its end user (shared by all that user's tokens and
applications), a developer token against the developer, and anything without valid
credentials (login, refresh, SDK token minting, rejected credentials) against the client
IP. That limit is admitted by `app.core.admission` in the same Redis call that checks
the credential. Login and minting add failure-only limits on top, password resets
limits that count every attempt; all run by flask-limiter (`limiter`, owned here).
The admission reads the failure-only windows in its call (`failure_only_windows`), and
a failure is counted in all of them after the view in one call (`hits_counted_together`).

The moving window counts admissions in buckets of 1/240 of the window (0.25 s of a
minute) and counts the bucket its far edge falls in whole, so no 60-second span ever
admits more than the limit (a fixed window admits up to twice the limit across a
boundary), a caller's state stays under 1.5 KB whatever the limit, and a refusal comes
at most one bucket early. `SingleTripRedisStorage` runs the same window for
flask-limiter's limits, admitting and reading the window back for the headers in one
Lua script.

When Redis is unreachable flask-limiter switches each process to in-memory counters,
logs a warning, and probes Redis again with exponential backoff (1 s to 32 s); the
admission does the same for the caller limits.
"""

import ipaddress
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial, wraps
from typing import Any, NamedTuple, ParamSpec, TypeVar, cast

import redis
from flask import Flask, Response, current_app, g, has_app_context, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.storage import RedisClusterStorage, RedisStorage
from redis.commands.core import Script
from redis.crc import key_slot

from app.core.auth import optional_principal
from app.core.client import parse_address
from app.core.revocation import subject_of
from app.core.schemas import normalise_email
from app.core.secrets import digest

log = logging.getLogger(__name__)

LIMIT_SETTINGS = (
    "RATELIMIT_API_KEY",
    "RATELIMIT_SDK_USER",
    "RATELIMIT_DEVELOPER",
    "RATELIMIT_PER_IP",
    "RATELIMIT_FAILED_LOGINS_PER_IP",
    "RATELIMIT_FAILED_LOGINS_PER_EMAIL",
    "RATELIMIT_FAILED_LOGINS_PER_EMAIL_AND_IP",
    "RATELIMIT_FAILED_PASSWORD_CHECKS_PER_DEVELOPER",
    "RATELIMIT_PASSWORD_RESETS_PER_EMAIL",
    "RATELIMIT_PASSWORD_RESETS_PER_IP",
    "RATELIMIT_FAILED_MINTS_PER_APP",
    "RATELIMIT_FAILED_MINTS_PER_IP",
)
P = ParamSpec("P")
R = TypeVar("R")
UNLIMITED_BLUEPRINTS = frozenset({"health", "api-docs", "dashboard"})
POLICY_NAME = "default"
UNROUTED = "unrouted"
ROUTE_LIMITS = "owa_route_limits"
LIMITER_KEY_PREFIX = "owa"
WINDOWS_READ = "rate_limit_windows"
STORAGE_SCHEME = "owa+"
WINDOW_SLOTS = 241
"""Counters per limit window: 240 buckets of 1/240 of the window (0.25 s of a minute),
plus the one the window's far edge is in, which counts whole until it has fully left."""

# One round trip, bounded state. The window is cut into WINDOW_SLOTS - 1 buckets; the
# key holds a header (newest bucket, total) and one (bucket mod 2^16, count) pair per
# non-empty counted bucket, oldest first. Expired pairs leave from the front, so every
# call does constant work and the oldest counted bucket (for the headers) is the first.
# The caller passes the current bucket (its clock: API hosts' clocks must agree to well
# within a bucket, as NTP keeps them; reading Redis's TIME instead costs more Redis CPU
# than the rest of the script). A bucket older than the newest seen counts as the
# newest, so a lagging host never reopens a window. An admission in the newest bucket
# (most of them under load: a bucket is 0.25 s of a minute) counts in place, its total
# and its bucket's count rewritten with two SETRANGE; the key keeps the TTL set when the
# bucket opened, which already outlasts the bucket's leaving the window. Only the first
# admission of a bucket cuts the expired pairs and writes the value anew (the live pairs
# copied once, into one concatenation). In place, the script's Redis time no longer
# grows with the occupied buckets: 5.2 µs at 1 and 7.4 at 240 back to back, against 6.5
# and 11.5 rewriting the value every time. `acquire` is shared with the admission script
# (`app.core.admission`).
WINDOW_FUNCTION = """
local function bucket_end(current, tag)
    -- The end of the bucket stored as `tag` (its number mod 2^16), the newest `current`.
    return current - (current - tag) % 65536 + 1
end

local function acquire(key, limit, cost, slots, ttl_ms, current)
    local state = redis.call('GET', key)
    local total, first, size = 0, 13, 12
    if state then
        size = #state
        local newest
        newest, total = struct.unpack('>dI4', state)
        if current < newest then
            current = newest
        end
        if current == newest and size >= 18 then -- a header and at least one pair
            local last, count = struct.unpack('>I2I4', state, size - 5)
            if last == current % 65536 then
                -- Still the newest bucket: nothing has left the window since its write.
                local oldest_end = bucket_end(current, struct.unpack('>I2', state, 13))
                if cost == 0 or cost > limit or total + cost > limit then
                    return 0, oldest_end, total
                end
                redis.call('SETRANGE', key, 8, struct.pack('>I4', total + cost))
                redis.call('SETRANGE', key, size - 4, struct.pack('>I4', count + cost))
                return 1, oldest_end, total + cost
            end
        end
        if current - newest >= slots then
            first = size + 1
        end
        while first < size do
            local bucket, count = struct.unpack('>I2I4', state, first)
            if (current - bucket) % 65536 < slots then
                break
            end
            total = total - count
            first = first + 6
        end
        if first >= size then
            total = 0
        end
    end
    local live = first < size
    local tag = current % 65536
    local admitted = 0
    if cost > 0 and cost <= limit and total + cost <= limit then
        total = total + cost
        admitted = 1
        local header = struct.pack('>dI4', current, total)
        local value
        if live and struct.unpack('>I2', state, size - 5) == tag then
            value = header .. string.sub(state, first, size - 4)
                .. struct.pack('>I4', struct.unpack('>I4', state, size - 3) + cost)
        elseif live then
            value = header .. string.sub(state, first) .. struct.pack('>I2I4', tag, cost)
        else
            value = header .. struct.pack('>I2I4', tag, cost)
        end
        redis.call('SET', key, value, 'PX', ttl_ms)
    end
    local oldest_end = 0
    if total > 0 then
        local oldest = tag
        if live then
            oldest = struct.unpack('>I2', state, first)
        end
        oldest_end = bucket_end(current, oldest)
    end
    return admitted, oldest_end, total
end
"""

ACQUIRE_AND_READ_WINDOW = (
    WINDOW_FUNCTION
    + """
local admitted, oldest_end, total = acquire(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
    tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]))
return {admitted, oldest_end, total}
"""
)

# Failures counted after the view, every window in one call (one slot on a Cluster).
# ARGV[1]: slots; then per key: limit, cost, TTL in ms, current bucket.
ACQUIRE_ALL = (
    WINDOW_FUNCTION
    + """
local slots = tonumber(ARGV[1])
for i = 1, #KEYS do
    local at = 4 * i - 2
    acquire(KEYS[i], tonumber(ARGV[at]), tonumber(ARGV[at + 1]), slots, ARGV[at + 2],
        tonumber(ARGV[at + 3]))
end
return #KEYS
"""
)
DEFERRED_HITS = "rate_limit_deferred_hits"


class DeferredHit(NamedTuple):
    prefixed_key: str
    limit: int
    expiry: int
    cost: int


def window_state_ttl_ms(expiry: int) -> int:
    """A window's key outlives the first admission of its newest bucket (the one write
    that sets its TTL) by the window and two buckets: the bucket itself, and a host's
    clock up to a bucket ahead of Redis's."""
    return math.ceil((expiry + 2 * expiry / (WINDOW_SLOTS - 1)) * 1000)


def bucket_seconds(expiry: int) -> float:
    return expiry / (WINDOW_SLOTS - 1)


def current_bucket(expiry: int) -> int:
    return int(time.time() // bucket_seconds(expiry))


def remember_window(prefixed_key: str, oldest: float, count: int) -> None:
    """A window of flask-limiter's storage as this request last saw it (oldest bucket's
    end as `window_reset_at` gives it, count): its tests and headers read no further."""
    g.setdefault(WINDOWS_READ, {})[prefixed_key] = (oldest, count)


def window_reset_at(oldest_bucket_end: int, count: int, expiry: int) -> float:
    """When the window frees: when its oldest counted bucket has wholly left it; an
    empty window resets a full window from now."""
    return oldest_bucket_end * bucket_seconds(expiry) if count else time.time()


class SingleTripWindow:
    """The moving window of a `limits` Redis storage whose admission also returns the
    window for the headers.

    flask-limiter asks the strategy for the window right after the hit; this storage
    answers that from what the admission script returned for the same request.
    """

    acquire_and_read: Script
    acquire_all_script: Script
    prefixed_key: Callable[[str], str]

    def register_window_script(self, connection: Any) -> None:
        # `limits` types its connections as a protocol that omits `register_script`.
        self.acquire_and_read = cast(
            Script, connection.register_script(ACQUIRE_AND_READ_WINDOW.encode())
        )
        self.acquire_all_script = cast(Script, connection.register_script(ACQUIRE_ALL.encode()))

    def acquire_all(self, hits: list[DeferredHit]) -> None:
        """Count each hit in its window: one call per slot the keys fall in."""
        by_slot: dict[int, list[DeferredHit]] = {}
        for hit in hits:
            by_slot.setdefault(self.slot_of(hit.prefixed_key), []).append(hit)
        for group in by_slot.values():
            arguments: list[int | str] = [WINDOW_SLOTS]
            for hit in group:
                ttl_ms, current = window_state_ttl_ms(hit.expiry), current_bucket(hit.expiry)
                arguments += [hit.limit, hit.cost, ttl_ms, current]
            self.acquire_all_script([hit.prefixed_key for hit in group], arguments)

    def slot_of(self, prefixed_key: str) -> int:
        """One Redis: every key in one call."""
        return 0

    def _run(self, key: str, limit: int, expiry: int, cost: int) -> tuple[bool, float, int]:
        key = self.prefixed_key(key)
        admitted, oldest_bucket_end, count = self.acquire_and_read(
            [key],
            [limit, cost, WINDOW_SLOTS, window_state_ttl_ms(expiry), current_bucket(expiry)],
        )
        oldest = window_reset_at(oldest_bucket_end, count, expiry)
        if has_app_context():
            remember_window(key, oldest, int(count))
        return bool(admitted), oldest, int(count)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        deferred: list[DeferredHit] | None = g.get(DEFERRED_HITS) if has_app_context() else None
        if deferred is not None:
            # A failure counted after the view: nothing waits for the answer.
            deferred.append(DeferredHit(self.prefixed_key(key), limit, expiry, amount))
            return True
        return self._run(key, limit, expiry, amount)[0]

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        known = g.get(WINDOWS_READ, {}) if has_app_context() else {}
        window: tuple[float, int] | None = known.get(self.prefixed_key(key))
        if window is None:
            _, oldest, count = self._run(key, limit, expiry, 0)
            window = (oldest, count)
        return window


class SingleTripRedisStorage(SingleTripWindow, RedisStorage):
    STORAGE_SCHEME = [f"{STORAGE_SCHEME}redis", f"{STORAGE_SCHEME}rediss"]

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri.removeprefix(STORAGE_SCHEME), **options)
        self.register_window_script(self.get_connection())


class SingleTripRedisClusterStorage(SingleTripWindow, RedisClusterStorage):
    """The same on a Redis Cluster: each call touches one key, in its caller's slot."""

    STORAGE_SCHEME = [f"{STORAGE_SCHEME}redis+cluster"]

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri.removeprefix(STORAGE_SCHEME), **options)
        self.register_window_script(self.get_connection())

    def slot_of(self, prefixed_key: str) -> int:
        return int(key_slot(prefixed_key.encode()))


class OpenWearablesLimiter(Limiter):
    @property
    def using_fallback(self) -> bool:
        """This process counts in memory because Redis stopped answering."""
        return bool(self._storage_dead)

    def init_app(self, app: Flask) -> None:
        # One limiter serves every app a process builds (tests build many); each
        # starts on its own storage rather than inheriting another's outage.
        self._storage_dead = False
        super().init_app(app)


IPV6_NETWORK_PREFIX = 64


def client_ip() -> str:
    """The client's address as limits count it: IPv4 as is (also when a dual-stack
    listener reports it IPv4-mapped), IPv6 by its /64 (one subscriber usually holds a
    whole /64, so single addresses would be free to rotate)."""
    address = get_remote_address() or "unknown"
    parsed = parse_address(address)
    if parsed is None:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_NETWORK_PREFIX}", strict=False))
    return str(parsed)


def client_subject() -> str:
    """The hash tag of a caller without valid credentials: its client IP."""
    return f"ip:{client_ip()}"


def _client_tagged() -> str:
    # Under the caller window's hash tag: on a Redis Cluster the admission can read it
    # in the same call.
    return f"{{{client_subject()}}}"


def is_unlimited() -> bool:
    """Probes, the API docs, the dashboard's pages and static files (as flask-limiter
    exempts `static` endpoints)."""
    endpoint = request.endpoint or ""
    return (
        request.blueprint in UNLIMITED_BLUEPRINTS
        or endpoint == "static"
        or endpoint.endswith(".static")
    )


def is_preflight() -> bool:
    """A browser asking whether it may call (CORS), not a call: never counted."""
    return request.method == "OPTIONS"


def request_identity() -> str:
    """flask-limiter skips requests without an endpoint; a 404 or 405 counts like any
    other request, so its response carries the caller's headers too."""
    return request.endpoint or UNROUTED


def _submitted_email() -> str:
    # Keyed by digest: Redis key names should not list who tried to log in.
    return "email:" + digest(normalise_email(request.form.get("username") or ""))


def _submitted_email_from_client() -> str:
    return f"{_client_tagged()}:{_submitted_email()}"


def _submitted_json_email() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return "email:" + digest(normalise_email(email) if isinstance(email, str) else "")


def _submitted_app_id() -> str:
    # Keyed by digest, as e-mails are: read before the schema checks the body, a raw
    # `app_id` could be as long as the body or hold what Redis cannot name (a lone
    # surrogate: `digest` raises, and the request counts per client IP).
    body = request.get_json(silent=True)
    app_id = body.get("app_id") if isinstance(body, dict) else None
    return "app:" + digest(app_id) if isinstance(app_id, str) else "app:"


def _failed(response: Response) -> bool:
    return response.status_code in (401, 403)


def _wrong_password(response: Response) -> bool:
    return response.status_code == 400


def _signed_in_developer() -> str:
    principal = optional_principal()
    if principal is None:
        return _client_tagged()
    return f"{{{subject_of(principal.kind, principal.subject_id)}}}"


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def new_limiter() -> OpenWearablesLimiter:
    return OpenWearablesLimiter(
        client_ip,
        request_identifier=request_identity,
        strategy="moving-window",
        headers_enabled=False,
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        key_prefix=LIMITER_KEY_PREFIX,
    )


limiter = new_limiter()
"""The process's one limiter; `init_rate_limits` binds it to each app."""


KeyFunc = Callable[[], str]
FailurePredicate = Callable[[Response], bool] | None


class RouteLimit(NamedTuple):
    """One of a view's own limits, as `_limit` gave it to flask-limiter."""

    scope: str
    key_func: KeyFunc
    setting: str
    failure_only: bool


def _never_raising(key_func: KeyFunc) -> KeyFunc:
    """flask-limiter takes any exception from a key function for a storage outage and
    switches the process to in-memory counters. A request whose body cannot be read
    (too large: 413; JSON nested too deeply) counts per client IP instead, and its view
    then answers it with that error."""

    @wraps(key_func)
    def key() -> str:
        try:
            return key_func()
        except Exception:  # whatever reading the request raised, the view raises again
            return f"unreadable:ip:{client_ip()}"

    return key


def _limit(
    view: Callable[P, R], scope: str, key_func: KeyFunc, setting: str, failed: FailurePredicate
) -> Callable[P, R]:
    """A limit only failed attempts count against (every attempt when `failed` is None).
    Limits that share a scope (and setting) share one counter."""
    key_func = _never_raising(key_func)
    limited = limiter.shared_limit(_setting(setting), scope, key_func=key_func, deduct_when=failed)(
        view
    )
    # functools.wraps copies __dict__ outwards, so every decorator around this one
    # carries the list to the method the route dispatches to.
    known: tuple[RouteLimit, ...] = vars(limited).get(ROUTE_LIMITS, ())
    vars(limited)[ROUTE_LIMITS] = (*known, RouteLimit(scope, key_func, setting, failed is not None))
    return limited


def route_limits() -> tuple[RouteLimit, ...]:
    """The request's view's own limits (flask-limiter's only job)."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    target = getattr(view_class, request.method.lower(), None) if view_class else view
    limits: tuple[RouteLimit, ...] = getattr(target, ROUTE_LIMITS, ())
    return limits


def failure_only_windows() -> list[tuple[str, RateLimitItem]]:
    """The Redis keys (and limits) of the windows flask-limiter will test, not hit, for
    this request's view: the admission reads them in its call, so the tests make none.
    Each key is flask-limiter's own for a shared limit (its prefix, the key function, the
    scope)."""
    tested = [route_limit for route_limit in route_limits() if route_limit.failure_only]
    storage: object = limiter.storage if tested else None
    if not isinstance(storage, SingleTripWindow) or limiter.using_fallback:
        return []
    windows = []
    for route_limit in tested:
        item = parse(current_app.config[route_limit.setting])
        key = item.key_for(LIMITER_KEY_PREFIX, route_limit.key_func(), route_limit.scope)
        windows.append((storage.prefixed_key(key), item))
    return windows


def _per_subject_and_ip(
    subject_scope: str,
    subject_key: KeyFunc,
    per_subject_setting: str,
    ip_scope: str,
    per_ip_setting: str,
    failed: FailurePredicate = _failed,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Two such limits: per submitted subject and per client IP."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        view = _limit(view, subject_scope, subject_key, per_subject_setting, failed)
        return _limit(view, ip_scope, _client_tagged, per_ip_setting, failed)

    return decorator


def failed_login_limits(view: Callable[P, R]) -> Callable[P, R]:
    """Brute force bounded without lock-out: failed logins count per e-mail from one
    client (IPv6 per /64), per client, and against a much higher per-e-mail ceiling, so
    a stranger guessing from elsewhere uses up their own budget, not the owner's."""
    view = _limit(
        view,
        "failed-login-email-ip",
        _submitted_email_from_client,
        "RATELIMIT_FAILED_LOGINS_PER_EMAIL_AND_IP",
        _failed,
    )
    return _per_subject_and_ip(
        "failed-login-email",
        _submitted_email,
        "RATELIMIT_FAILED_LOGINS_PER_EMAIL",
        "failed-login-ip",
        "RATELIMIT_FAILED_LOGINS_PER_IP",
    )(view)


failed_password_check_limits = _per_subject_and_ip(
    "failed-password-check-developer",
    _signed_in_developer,
    "RATELIMIT_FAILED_PASSWORD_CHECKS_PER_DEVELOPER",
    "failed-login-ip",
    "RATELIMIT_FAILED_LOGINS_PER_IP",
    failed=_wrong_password,
)
"""A wrong current password (400) counts per developer and, like a failed login, per IP."""

password_reset_request_limits = _per_subject_and_ip(
    "forgot-password-email",
    _submitted_json_email,
    "RATELIMIT_PASSWORD_RESETS_PER_EMAIL",
    "forgot-password-ip",
    "RATELIMIT_PASSWORD_RESETS_PER_IP",
    failed=None,
)
"""Every reset request counts (known address or not), per e-mail and per client IP."""

failed_mint_limits = _per_subject_and_ip(
    "failed-mint-app",
    _submitted_app_id,
    "RATELIMIT_FAILED_MINTS_PER_APP",
    "failed-mint-ip",
    "RATELIMIT_FAILED_MINTS_PER_IP",
)
"""Failed SDK token mints per application id and per client IP."""


def storage_uri(redis_url: str) -> str:
    return f"{STORAGE_SCHEME}{redis_url}" if redis_url else "memory://"


def init_rate_limits(app: Flask) -> None:
    for name in LIMIT_SETTINGS:
        parse(app.config[name])
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app.config["REDIS_URL"])
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_timeout": 1, "socket_connect_timeout": 1}
    limiter.init_app(app)
    _run_limiter_only_where_route_limited(app)
    attach_rate_limit_headers(app, limiter)


def _run_limiter_only_where_route_limited(app: Flask) -> None:
    """flask-limiter's hooks cost ~50 µs per request even when a request filter exempts
    the request (measured); the caller limit is the admission's, so they run only for
    views with limits of their own."""

    def is_limiters(hook: Callable[..., Any]) -> bool:
        owner = hook.args[0] if isinstance(hook, partial) and hook.args else None
        return getattr(hook, "__self__", owner) is limiter

    def only_where_route_limited(hook: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(hook)
        def gated(*response: Response) -> Response | None:
            if not route_limits():
                return response[0] if response else None
            if not response:
                before: Response | None = hook()
                return before
            with hits_counted_together():
                after: Response = hook(*response)
            return after

        return gated

    # Flask types the two hook lists differently; both hold plain callables here.
    for hooks in cast(
        list[list[Any]], [app.before_request_funcs[None], app.after_request_funcs[None]]
    ):
        hooks[:] = [only_where_route_limited(h) if is_limiters(h) else h for h in hooks]


@contextmanager
def hits_counted_together() -> Iterator[None]:
    """flask-limiter counts a failure in each of its windows after the view, one call per
    window; inside this block its hits are collected, then sent in one call (per slot).
    Like flask-limiter's own, a failure to count is logged, not raised."""
    g.setdefault(DEFERRED_HITS, [])
    try:
        yield
    finally:
        hits: list[DeferredHit] = g.pop(DEFERRED_HITS, [])
        storage: object = limiter.storage
        if hits and isinstance(storage, SingleTripWindow):
            try:
                storage.acquire_all(hits)
            except redis.RedisError:
                log.exception("Failed to count %d rate-limit failures.", len(hits))


def attach_rate_limit_headers(app: Flask, limiter: Limiter) -> None:
    app.after_request(partial(add_rate_limit_headers, limiter))


class CallerWindow(NamedTuple):
    """The caller limit's state after this request, as the headers report it."""

    amount: int
    seconds: int
    description: str
    admitted: bool
    reset_at: float
    remaining: int


def _breached_window(limiter: Limiter) -> CallerWindow | None:
    """A per-route limit flask-limiter refused the request with, if any."""
    breached: RequestLimit | None = next(
        (lim for lim in limiter.current_limits if lim.breached), None
    )
    if breached is None:
        return None
    try:
        reset_at, remaining = breached.window
    except Exception:
        current_app.logger.warning("Rate limit window unavailable; headers left out.")
        return None
    return CallerWindow(
        amount=breached.limit.amount,
        seconds=breached.limit.get_expiry(),
        description=str(breached.limit),
        admitted=False,
        reset_at=reset_at,
        remaining=max(int(remaining), 0),
    )


def add_rate_limit_headers(limiter: Limiter, response: Response) -> Response:
    """X-RateLimit-*, the IETF draft `RateLimit`/`RateLimit-Policy`, and on 429 only,
    `Retry-After`: for the limit that refused the request, else the caller limit (the
    one clients budget by)."""
    window: CallerWindow | None = g.get("caller_window")
    if response.status_code == 429:
        window = _breached_window(limiter) or window
    if window is None:
        return response
    reset_at, remaining = window.reset_at, window.remaining
    amount, window_seconds = window.amount, window.seconds
    # The window frees when its oldest bucket has wholly left it: up to one bucket
    # (1/240 of the window) later than a window after the oldest admission. A wait is
    # never announced as longer than the window itself.
    seconds_to_reset = min(max(math.ceil(reset_at - time.time()), 0), window_seconds)
    if response.status_code == 429:
        seconds_to_reset = max(seconds_to_reset, 1)
        response.headers["Retry-After"] = str(seconds_to_reset)
    response.headers["X-RateLimit-Limit"] = str(amount)
    response.headers["X-RateLimit-Remaining"] = str(remaining)
    response.headers["X-RateLimit-Reset"] = str(math.ceil(reset_at))
    response.headers["RateLimit-Policy"] = f'"{POLICY_NAME}";q={amount};w={window_seconds}'
    response.headers["RateLimit"] = f'"{POLICY_NAME}";r={remaining};t={seconds_to_reset}'
    return response
