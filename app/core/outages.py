"""One log line when a dependency stops answering and one when it answers again.

During an outage every request fails the same way; a warning per request buries the
one line an operator needs (426 lines in 20 s were measured). `OutageLog` logs the
first failure, counts the rest, and logs a summary once the dependency works again:
"Redis unavailable for 20 s, 426 requests served without last-use marks".
"""

import logging
import threading
import time

import sqlalchemy.exc
from flask import current_app
from sqlalchemy import Engine, event


class OutageLog:
    """Per process and thread-safe; `failed`/`recovered` cost one attribute read when
    nothing changed."""

    def __init__(self, service: str, consequence: str, logger: logging.Logger) -> None:
        self.service = service
        self.consequence = consequence
        """What each failed request got, as a plural noun phrase ("requests answered 503")."""
        self.logger = logger
        self._lock = threading.Lock()
        self._started: float | None = None
        self._affected = 0

    @property
    def ongoing(self) -> bool:
        return self._started is not None

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self._affected += 1
            if self._started is not None:
                return
            self._started = time.monotonic()
        self.logger.warning(
            "%s unavailable (%s: %s); %s until it answers again",
            self.service,
            type(error).__name__,
            str(error).strip().splitlines()[0] if str(error).strip() else "",
            self.consequence,
        )

    def recovered(self) -> None:
        if self._started is None:
            return
        with self._lock:
            if self._started is None:
                return
            seconds = time.monotonic() - self._started
            affected = self._affected
            self._started, self._affected = None, 0
        self.logger.warning(
            "%s unavailable for %.0f s, %d %s", self.service, seconds, affected, self.consequence
        )


def is_database_unavailable(error: BaseException) -> bool:
    """The database did not answer: down, restarting, the connection dropped, the pool
    exhausted, or a conflict retries could not resolve. Worth a retry, never a 500."""
    if isinstance(
        error,
        sqlalchemy.exc.OperationalError
        | sqlalchemy.exc.InterfaceError
        | sqlalchemy.exc.TimeoutError,
    ):
        return True
    return isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated


def outage_log(service: str, consequence: str, logger: logging.Logger) -> OutageLog:
    """The current app's log of this kind of outage (per app: a process may build several)."""
    logs = current_app.extensions.setdefault("owa_outage_logs", {})
    return logs.setdefault((service, consequence), OutageLog(service, consequence, logger))


def database_outage() -> OutageLog:
    """Requests refused because the database did not answer (see `app.core.errors`)."""
    return outage_log("Database", "requests answered 503", logging.getLogger("app.database"))


def watch_database(engine: Engine) -> None:
    """A new connection succeeding is the database answering again: the pool opens one
    as soon as a request needs it after an outage invalidated the old ones. Call in the
    app context of the engine's app."""
    outage = database_outage()
    event.listen(engine, "connect", lambda *_: outage.recovered())
