from sqlalchemy import text

from app.core.store import RedisStore, get_store
from app.extensions import db


def readiness() -> dict[str, str]:
    """The state of each dependency: `ok`, `unavailable`, or `in-process` (no Redis set)."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
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
    return checks
