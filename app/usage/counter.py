"""Counting requests in the process that served them, flushed to Redis in batches.

The status of a response is only known after its handler, when the admission's one Redis
call is long done; counting it there would cost a second round trip per request. So an
`after_request` hook adds the request to this process's `UsageCounter` (no I/O), and the
counter sends what it holds in one pipeline at most every USAGE_FLUSH_SECONDS: when a
response has been sent (`call_on_close`, so no request waits for it), from an idle timer
in serving processes (a worker with no more traffic still flushes its last counts), and
when the process exits. Redis unreachable: that batch is dropped with one warning (usage
is reporting, never the basis of a security decision).
"""

import atexit
import logging
import threading
import time

import redis
from flask import Flask, Response, current_app, g, request

from app.core.auth import Kind, Principal
from app.usage.minutes import Batch, CountKey, Minutes

log = logging.getLogger(__name__)

COUNTED_KINDS = frozenset({Kind.API_KEY, Kind.SDK})
UNMATCHED_ROUTE = "unmatched"
IDLE_TIMER_FLOOR_SECONDS = 0.5


def status_class(status: int) -> str:
    """`2xx` also holds the rare 1xx and 3xx: everything that was not an error."""
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    if status >= 400:
        return "4xx"
    return "2xx"


class UsageCounter:
    def __init__(self, minutes: Minutes, flush_seconds: float) -> None:
        self.minutes = minutes
        self.flush_seconds = flush_seconds
        self._batch = Batch()
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._last_flush = time.monotonic()

    def record(self, principal: Principal, route: str, status: int, ip: str | None) -> None:
        minute = int(time.time() // 60)
        what = CountKey(principal.kind.value, principal.subject_id, status_class(status), route)
        with self._lock:
            self._batch.counts[(minute, what)] += 1
            if principal.kind is Kind.API_KEY and ip:
                self._batch.ips.setdefault((minute, principal.subject_id), set()).add(ip)

    def flush_if_due(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> int:
        """Send what this process counted; returns how many requests it held."""
        if not self._flushing.acquire(blocking=False):
            return 0  # another thread of this process is flushing right now
        try:
            with self._lock:
                batch, self._batch = self._batch, Batch()
                self._last_flush = time.monotonic()
            if not batch:
                return 0
            try:
                self.minutes.write(batch)
            except redis.RedisError as error:
                log.warning("usage counts of %d requests dropped: %s", batch.requests, error)
                return 0
            return batch.requests
        finally:
            self._flushing.release()


def usage_counter(app: Flask) -> UsageCounter:
    counter: UsageCounter = app.extensions["owa_usage_counter"]
    return counter


def count_request(response: Response) -> Response:
    counter = usage_counter(current_app)
    caller = g.get("resolved_caller")
    if isinstance(caller, Principal) and caller.kind in COUNTED_KINDS:
        route = request.url_rule.rule if request.url_rule else UNMATCHED_ROUTE
        counter.record(caller, route, response.status_code, request.remote_addr)
    response.call_on_close(counter.flush_if_due)
    return response


def start_flushing(app: Flask) -> None:
    """In a serving process (`wsgi.py`): flush from an idle timer too, and once more at
    exit (gunicorn ends a worker with `sys.exit`, which runs `atexit`)."""
    counter = usage_counter(app)
    # A zero interval (flush after every response) must not make the timer spin.
    period = max(counter.flush_seconds, IDLE_TIMER_FLOOR_SECONDS)

    def flush_when_idle() -> None:
        while True:
            time.sleep(period)
            counter.flush_if_due()

    threading.Thread(target=flush_when_idle, name="usage-flush", daemon=True).start()
    atexit.register(counter.flush)
