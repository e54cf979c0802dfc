import contextlib

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core.admission import rate_limits_on_fallback
from app.core.ratelimit import limiter
from app.core.store import RedisStore, get_store
from app.extensions import db


def readiness() -> dict[str, str]:
    """The state of each dependency: `ok`, `unavailable`, or `in-process` (no Redis set),
    and where this process counts rate limits: `redis`, `in-memory fallback` or `in-process`.
    """
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        # On a connection the database dropped, the rollback fails too.
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
        checks["database"] = "unavailable"
    store = get_store()
    if isinstance(store, RedisStore):
        try:
            checks["redis"] = "ok" if store.ping() else "unavailable"
        except Exception:
            checks["redis"] = "unavailable"
    else:
        checks["redis"] = "in-process"
    if checks["redis"] == "in-process":
        checks["rate_limits"] = "in-process"
    elif (
        checks["redis"] == "unavailable"
        or limiter.using_fallback
        or rate_limits_on_fallback(current_app)
    ):
        checks["rate_limits"] = "in-memory fallback"
    else:
        checks["rate_limits"] = "redis"
    return checks
