"""Transactions PostgreSQL aborts to resolve a conflict, run again.

A deadlock (SQLSTATE 40P01) or a serialization failure (40001) rolls the whole
transaction back and leaves nothing of it behind, so running the same work again is
safe; PostgreSQL's documentation asks applications to do exactly that.
"""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from app.extensions import db

T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
ATTEMPTS = 5
FIRST_BACKOFF_SECONDS = 0.02


def is_retryable_conflict(error: DBAPIError) -> bool:
    """A deadlock or a serialization failure: the transaction lost a race, nothing else."""
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_conflicts(work: Callable[[], T], also_retry: tuple[type[DBAPIError], ...] = ()) -> T:
    """Run `work` (one whole transaction, ending with its commit) up to `ATTEMPTS` times
    while it loses a race: a deadlock, a serialization failure, or one of `also_retry`.

    Waits a jittered, doubling backoff between attempts so the racers do not collide
    again in step. The last failure propagates: a conflict is then answered 503 with
    `Retry-After` (see `app.core.errors`), an `also_retry` error as its caller decides.
    """
    attempt = 1
    while True:
        try:
            return work()
        except DBAPIError as error:
            db.session.rollback()
            retryable = is_retryable_conflict(error) or isinstance(error, also_retry)
            if not retryable or attempt == ATTEMPTS:
                raise
        time.sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
        attempt += 1
