"""Usage analytics: requests per API key and per end user, by status class and route.

Counted in each API process after the response (no Redis call on the request path),
flushed to Redis in batches (`counter.py`, `minutes.py`), rolled up into hourly and
daily rows by a periodic task (`services.roll_up`).
"""

from flask import Flask

from app.core.store import RedisStore, get_store
from app.core.tasks import register_periodic_task
from app.extensions import api


def register(app: Flask) -> None:
    from app.usage.counter import UsageCounter, count_request
    from app.usage.minutes import MemoryMinutes, Minutes, RedisMinutes
    from app.usage.routes import blp
    from app.usage.tasks import ROLL_UP

    with app.app_context():
        store = get_store()
    minutes: Minutes = (
        RedisMinutes(store.client) if isinstance(store, RedisStore) else MemoryMinutes()
    )
    app.extensions["owa_usage_minutes"] = minutes
    app.extensions["owa_usage_counter"] = UsageCounter(minutes, app.config["USAGE_FLUSH_SECONDS"])
    app.after_request(count_request)
    api.register_blueprint(blp)
    register_periodic_task(app, ROLL_UP, app.config["USAGE_ROLLUP_SECONDS"])
