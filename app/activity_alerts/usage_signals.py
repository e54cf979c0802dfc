"""Unusual activity read from the usage rollup: every rolled-up minute with API-key
traffic (`usage.services.register_minute_listener`) is checked, for each key in it, for

- a network the key was not used from within ACTIVITY_NEW_NETWORK_MEMORY_DAYS (once the
  key is older than ACTIVITY_NEW_NETWORK_LEARNING_SECONDS; before, networks are only
  remembered), kept in `api_key_networks`;
- requests refused by its rate limit in each of the last ACTIVITY_LIMIT_SUSTAINED_MINUTES
  minutes (read from the minutes Redis keeps; only for keys refused this minute);
- its requests in the current clock hour reaching ACTIVITY_SPIKE_FACTOR times the median
  of its hourly requests over the ACTIVITY_SPIKE_BASELINE_HOURS before (hours without
  requests count as 0; a median under 1, a key with no usual traffic, alerts nothing).

All of it runs in the rollup task, never on the request path. `raise_activity_alert`
keeps each kind to one alert per key and hour.
"""

import logging
import statistics
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.activity_alerts.models import ActivityKind, KeyNetwork
from app.activity_alerts.services import network_of, raise_activity_alert
from app.api_keys.models import ApiKey
from app.core.db import insert_on_conflict
from app.extensions import db
from app.usage import services as usage

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
log = logging.getLogger(__name__)


def check_minute(minute: usage.MinuteUsage) -> None:
    for key_id, counts in sorted(minute.per_key.items()):
        try:
            _check_key(key_id, counts, minute)
        except SQLAlchemyError:
            # One key's failed check costs neither the other keys their checks nor the
            # rollup its retention step; the minute is not checked again for this key.
            log.exception("activity checks of API key %s failed for %s", key_id, minute.start)
            db.session.rollback()


def _check_key(key_id: str, counts: usage.StatusCounts, minute: usage.MinuteUsage) -> None:
    api_key = db.session.get(ApiKey, key_id)
    if api_key is None:
        return  # deleted since: nothing to alert about
    _new_networks(api_key, minute.start, minute.ips.get(key_id, set()))
    if counts["429"]:
        _limit_sustained(api_key, minute.start)
    _traffic_spike(api_key, minute.start)


def _new_networks(api_key: ApiKey, start: datetime, ips: set[str]) -> None:
    networks = sorted({network_of(ip) for ip in ips})
    if not networks:
        return
    forgotten_before = start - timedelta(
        days=current_app.config["ACTIVITY_NEW_NETWORK_MEMORY_DAYS"]
    )
    seen = {
        row.network: row.last_seen
        for row in db.session.execute(
            select(KeyNetwork.network, KeyNetwork.last_seen).where(
                KeyNetwork.key_id == api_key.id, KeyNetwork.network.in_(networks)
            )
        )
    }
    new = [
        network for network in networks if seen.get(network, forgotten_before) <= forgotten_before
    ]
    statement = insert_on_conflict(KeyNetwork, db.session.get_bind().dialect)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["key_id", "network"],
            set_={"last_seen": statement.excluded.last_seen},
            where=KeyNetwork.last_seen < statement.excluded.last_seen,
        ),
        [{"key_id": api_key.id, "network": network, "last_seen": start} for network in networks],
    )
    db.session.commit()
    learning = timedelta(seconds=current_app.config["ACTIVITY_NEW_NETWORK_LEARNING_SECONDS"])
    # The minute ends after the learning period: at least some of its uses came after.
    if not new or start + MINUTE <= api_key.created_at + learning:
        return
    raise_activity_alert(
        ActivityKind.NEW_NETWORK,
        api_key.id,
        f"The API key {api_key.name} ({api_key.prefix}…) was used from {', '.join(new)}, "
        "a network it was not used from lately. If you do not recognise it, rotate the key.",
        {"name": api_key.name, "prefix": api_key.prefix, "networks": new},
        None,
    )


def _limit_sustained(api_key: ApiKey, start: datetime) -> None:
    streak = current_app.config["ACTIVITY_LIMIT_SUSTAINED_MINUTES"]
    last = int(start.timestamp() // 60)
    minutes = usage.key_minutes(api_key.id, range(last - streak + 1, last + 1))
    if not all(counts["429"] for counts in minutes.values()):
        return
    refused = sum(counts["429"] for counts in minutes.values())
    raise_activity_alert(
        ActivityKind.LIMIT_SUSTAINED,
        api_key.id,
        f"The API key {api_key.name} ({api_key.prefix}…) was held at its rate limit for "
        f"{streak} minutes in a row ({refused} requests refused). A client may be stuck "
        "retrying, or the key may be used by more than its owner.",
        {"name": api_key.name, "prefix": api_key.prefix, "minutes": streak, "refused": refused},
        None,
    )


def _traffic_spike(api_key: ApiKey, start: datetime) -> None:
    hour = start.replace(minute=0, second=0, microsecond=0)
    baseline_hours = current_app.config["ACTIVITY_SPIKE_BASELINE_HOURS"]
    first = hour - baseline_hours * HOUR
    hourly = usage.key_hourly_requests(api_key.id, first, hour + HOUR)
    current = hourly.pop(hour, 0)
    usual = statistics.median(
        hourly.get(first + index * HOUR, 0) for index in range(baseline_hours)
    )
    factor = current_app.config["ACTIVITY_SPIKE_FACTOR"]
    if usual < 1 or current < factor * usual:
        return
    raise_activity_alert(
        ActivityKind.TRAFFIC_SPIKE,
        api_key.id,
        f"The API key {api_key.name} ({api_key.prefix}…) made {current} requests since "
        f"{hour.isoformat()}, {current / usual:.0f} times its usual {usual:g} an hour.",
        {"name": api_key.name, "prefix": api_key.prefix, "requests": current, "median": usual},
        None,
    )
