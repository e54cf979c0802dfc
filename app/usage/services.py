"""Usage analytics: the rollup of finished minutes into hourly and daily rows, the
minute listeners, and the usage series the endpoints answer.

Minutes live in Redis (`app.usage.minutes`) for MINUTES_KEPT minutes; `roll_up` adds
each finished minute to the `hour` and `day` rows of PostgreSQL exactly once (the
minute's `usage_rolled_minutes` row commits with the increments). A series reads the
rows, plus the minutes Redis holds that are not rolled up yet, so an answer is complete
up to the last flush of every API process.
"""

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from flask import Flask, current_app
from sqlalchemy import Table, delete, func, select
from sqlalchemy.exc import IntegrityError

from app.api_keys.models import ApiKey
from app.core.auth import Kind
from app.core.db import insert_on_conflict
from app.extensions import db
from app.usage.minutes import (
    MINUTES_KEPT,
    STATUS_CLASSES,
    MinuteCounts,
    Minutes,
    day_ips_name,
    hour_ips_name,
    minute_ips_name,
)
from app.usage.models import RolledMinute, UsageBucket, UsageDistinctIps

GRANULARITY_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
ROLLED_GRANULARITIES = ("hour", "day")
SETTLE_MARGIN_SECONDS = 5
COUNT_COLUMNS = {cls: f"requests_{cls}" for cls in STATUS_CLASSES}
MINUTE_LISTENERS = "owa_usage_minute_listeners"

StatusCounts = dict[str, int]
"""`2xx`, `4xx` (without 429), `429`, `5xx` → requests."""


@dataclass(frozen=True)
class MinuteUsage:
    """One rolled-up minute, as minute listeners receive it."""

    start: datetime
    per_key: dict[str, StatusCounts]
    """API key id → its requests in that minute by status class."""
    ips: dict[str, set[str]]
    """API key id → the client IPs it was used from in that minute."""


MinuteListener = Callable[[MinuteUsage], None]


def register_minute_listener(app: Flask, listener: MinuteListener) -> None:
    """Call `listener` (in the rollup task, after its commit) with every rolled minute
    that had API-key traffic, oldest first: the hook for unusual-activity alerts. A
    listener that raises is not retried for that minute."""
    app.extensions.setdefault(MINUTE_LISTENERS, []).append(listener)


def recent_minutes() -> Minutes:
    minutes: Minutes = current_app.extensions["owa_usage_minutes"]
    return minutes


def zero_counts() -> StatusCounts:
    return dict.fromkeys(STATUS_CLASSES, 0)


def _epoch_minute(moment: datetime) -> int:
    return int(moment.timestamp() // 60)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def bucket_start(seconds: float, granularity: str) -> datetime:
    size = GRANULARITY_SECONDS[granularity]
    return _at(seconds // size * size)


# The rollup.


def finished_minutes(now: float) -> range:
    """The minutes Redis still holds whose every count has been flushed: each process
    flushes at most 2 x USAGE_FLUSH_SECONDS after a request (the idle timer's period)."""
    settle = 2 * current_app.config["USAGE_FLUSH_SECONDS"] + SETTLE_MARGIN_SECONDS
    return range(int(now // 60) - MINUTES_KEPT, int((now - settle) // 60))


def roll_up(now: float | None = None) -> int:
    """Add the finished minutes not rolled up yet to the hourly and daily rows, then
    delete rows older than USAGE_RETENTION_DAYS. Returns how many requests were added."""
    now = time.time() if now is None else now
    candidates = finished_minutes(now)
    rolled = set(
        db.session.scalars(
            select(RolledMinute.minute).where(
                RolledMinute.minute.between(candidates.start, candidates.stop)
            )
        )
    )
    todo = [minute for minute in candidates if minute not in rolled]
    counts = recent_minutes().read(todo)
    _add_to_buckets(counts)
    _add_distinct_ips(counts)
    db.session.add_all(RolledMinute(minute=minute) for minute in todo)
    try:
        db.session.commit()
    except IntegrityError:
        # Another run rolled some of these minutes meanwhile: its commit counted them.
        db.session.rollback()
        return 0
    _notify_listeners(counts)
    delete_expired(now)
    return sum(sum(minute.values()) for minute in counts.values())


def _add_to_buckets(counts: dict[int, MinuteCounts]) -> None:
    rows: dict[tuple[str, str, str, datetime, str], StatusCounts] = {}
    for minute, fields in counts.items():
        for what, requests in fields.items():
            for granularity in ROLLED_GRANULARITIES:
                start = bucket_start(minute * 60, granularity)
                key = (granularity, what.kind, what.subject_id, start, what.route)
                rows.setdefault(key, zero_counts())[what.status_class] += requests
    if not rows:
        return
    table = cast(Table, UsageBucket.__table__)
    statement = insert_on_conflict(UsageBucket, db.session.get_bind().dialect)
    statement = statement.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key],
        set_={
            column: table.c[column] + statement.excluded[column]
            for column in COUNT_COLUMNS.values()
        },
    )
    db.session.execute(
        statement,
        [
            {
                "granularity": granularity,
                "subject_kind": kind,
                "subject_id": subject_id,
                "bucket_start": start,
                "route": route,
                **{COUNT_COLUMNS[cls]: n for cls, n in requests.items()},
            }
            for (granularity, kind, subject_id, start, route), requests in rows.items()
        ],
    )


def _keys_by_minute(counts: dict[int, MinuteCounts]) -> dict[int, set[str]]:
    return {
        minute: {what.subject_id for what in fields if what.kind == Kind.API_KEY}
        for minute, fields in counts.items()
    }


def _add_distinct_ips(counts: dict[int, MinuteCounts]) -> None:
    """The hour's and the day's IP sets hold every IP flushed so far: their size only
    grows, so the row keeps the larger of what it has and what Redis holds now."""
    periods = {
        (granularity, key_id, minute // (GRANULARITY_SECONDS[granularity] // 60))
        for minute, key_ids in _keys_by_minute(counts).items()
        for key_id in key_ids
        for granularity in ROLLED_GRANULARITIES
    }
    if not periods:
        return
    ordered = sorted(periods)
    sizes = recent_minutes().sizes([_period_ips_name(*period) for period in ordered])
    table = cast(Table, UsageDistinctIps.__table__)
    statement = insert_on_conflict(UsageDistinctIps, db.session.get_bind().dialect)
    larger = func.greatest if db.session.get_bind().dialect.name == "postgresql" else func.max
    statement = statement.on_conflict_do_update(
        index_elements=["granularity", "key_id", "bucket_start"],
        set_={"distinct_ips": larger(table.c.distinct_ips, statement.excluded.distinct_ips)},
    )
    db.session.execute(
        statement,
        [
            {
                "granularity": granularity,
                "key_id": key_id,
                "bucket_start": _at(index * GRANULARITY_SECONDS[granularity]),
                "distinct_ips": size,
            }
            for (granularity, key_id, index), size in zip(ordered, sizes, strict=True)
        ],
    )


def _period_ips_name(granularity: str, key_id: str, index: int) -> str:
    return (hour_ips_name if granularity == "hour" else day_ips_name)(index, key_id)


def _notify_listeners(counts: dict[int, MinuteCounts]) -> None:
    listeners: list[MinuteListener] = current_app.extensions.get(MINUTE_LISTENERS, [])
    if not listeners:
        return
    for minute, key_ids in sorted(_keys_by_minute(counts).items()):
        if not key_ids:
            continue
        per_key = {key_id: zero_counts() for key_id in key_ids}
        for what, requests in counts[minute].items():
            if what.kind == Kind.API_KEY:
                per_key[what.subject_id][what.status_class] += requests
        ordered = sorted(key_ids)
        ips = recent_minutes().members([minute_ips_name(minute, key) for key in ordered])
        usage = MinuteUsage(_at(minute * 60), per_key, dict(zip(ordered, ips, strict=True)))
        for listener in listeners:
            listener(usage)


def delete_expired(now: float) -> None:
    oldest = _at(now) - timedelta(days=current_app.config["USAGE_RETENTION_DAYS"])
    db.session.execute(delete(UsageBucket).where(UsageBucket.bucket_start < oldest))
    db.session.execute(delete(UsageDistinctIps).where(UsageDistinctIps.bucket_start < oldest))
    # Minutes Redis no longer holds are never rolled again.
    db.session.execute(
        delete(RolledMinute).where(RolledMinute.minute < finished_minutes(now).start)
    )
    db.session.commit()


# The series.


@dataclass(frozen=True)
class UsageQuery:
    start: datetime
    """Aligned to the granularity."""
    end: datetime
    """Exclusive; aligned up to the granularity."""
    granularity: str

    def bucket_starts(self) -> list[datetime]:
        size = timedelta(seconds=GRANULARITY_SECONDS[self.granularity])
        starts, moment = [], self.start
        while moment < self.end:
            starts.append(moment)
            moment += size
        return starts


@dataclass(frozen=True)
class Hit:
    start: datetime
    kind: str
    subject_id: str
    route: str
    counts: StatusCounts


def _hits(query: UsageQuery, now: float, key_id: str | None) -> tuple[list[Hit], list[int]]:
    """Every count in the range, from the rows and from Redis, and the unrolled minutes
    read from Redis (for their IP sets)."""
    hits: list[Hit] = []
    if query.granularity == "minute":
        minutes = list(range(_epoch_minute(query.start), _epoch_minute(query.end)))
    else:
        statement = select(UsageBucket).where(
            UsageBucket.granularity == query.granularity,
            UsageBucket.bucket_start >= query.start,
            UsageBucket.bucket_start < query.end,
        )
        if key_id is not None:
            statement = statement.where(
                UsageBucket.subject_kind == Kind.API_KEY.value, UsageBucket.subject_id == key_id
            )
        for row in db.session.scalars(statement):
            counts = {cls: getattr(row, column) for cls, column in COUNT_COLUMNS.items()}
            hits.append(Hit(row.bucket_start, row.subject_kind, row.subject_id, row.route, counts))
        current = int(now // 60)
        # No minute after the current one has counts yet: a range ending in the future
        # reads none, and a far-future one (year 6100) queries none, since its epoch
        # minutes overflow the integer column.
        held = range(
            max(_epoch_minute(query.start), current - MINUTES_KEPT),
            min(_epoch_minute(query.end), current + 1),
        )
        rolled = (
            set(
                db.session.scalars(
                    select(RolledMinute.minute).where(
                        RolledMinute.minute.between(held.start, held.stop)
                    )
                )
            )
            if held
            else set()
        )
        minutes = [minute for minute in held if minute not in rolled]
    for minute, fields in recent_minutes().read(minutes).items():
        start = bucket_start(minute * 60, query.granularity)
        for what, requests in fields.items():
            if key_id is not None and (what.kind != Kind.API_KEY or what.subject_id != key_id):
                continue
            counts = zero_counts()
            counts[what.status_class] = requests
            hits.append(Hit(start, what.kind, what.subject_id, what.route, counts))
    return hits, minutes


def _add(into: StatusCounts, counts: StatusCounts) -> None:
    for cls, requests in counts.items():
        into[cls] += requests


def _by(hits: Iterable[Hit], part: Callable[[Hit], str]) -> dict[str, StatusCounts]:
    grouped: dict[str, StatusCounts] = {}
    for hit in hits:
        _add(grouped.setdefault(part(hit), zero_counts()), hit.counts)
    return dict(sorted(grouped.items(), key=lambda item: (-sum(item[1].values()), item[0])))


def _series(query: UsageQuery, hits: Sequence[Hit]) -> dict[str, Any]:
    buckets = {start: zero_counts() for start in query.bucket_starts()}
    totals = zero_counts()
    for hit in hits:
        _add(buckets[hit.start], hit.counts)
        _add(totals, hit.counts)
    return {
        "start": query.start,
        "end": query.end,
        "granularity": query.granularity,
        "data": [{"start": start, **counts} for start, counts in buckets.items()],
        "totals": totals,
        "routes": [{"route": r, **c} for r, c in _by(hits, lambda hit: hit.route).items()],
    }


def key_usage(key_id: str, query: UsageQuery, now: float | None = None) -> dict[str, Any]:
    """One API key's series, with its distinct client IPs per bucket."""
    now = time.time() if now is None else now
    hits, unrolled = _hits(query, now, key_id)
    answer = _series(query, hits)
    distinct = _distinct_ips(key_id, query, unrolled)
    for point in answer["data"]:
        point["distinct_ips"] = distinct.get(point["start"], 0)
    answer["id"] = key_id
    return answer


def _distinct_ips(key_id: str, query: UsageQuery, unrolled: list[int]) -> dict[datetime, int]:
    if query.granularity == "minute":
        sizes = recent_minutes().sizes([minute_ips_name(minute, key_id) for minute in unrolled])
        return {_at(minute * 60): size for minute, size in zip(unrolled, sizes, strict=True)}
    rows = db.session.execute(
        select(UsageDistinctIps.bucket_start, UsageDistinctIps.distinct_ips).where(
            UsageDistinctIps.granularity == query.granularity,
            UsageDistinctIps.key_id == key_id,
            UsageDistinctIps.bucket_start >= query.start,
            UsageDistinctIps.bucket_start < query.end,
        )
    )
    distinct: dict[datetime, int] = dict(rows.all())
    size = GRANULARITY_SECONDS[query.granularity] // 60
    periods = sorted({minute // size for minute in unrolled})
    held = recent_minutes().sizes([_period_ips_name(query.granularity, key_id, p) for p in periods])
    for period, count in zip(periods, held, strict=True):
        start = _at(period * size * 60)
        distinct[start] = max(distinct.get(start, 0), count)
    return distinct


def all_usage(query: UsageQuery, now: float | None = None) -> dict[str, Any]:
    """Every API key's and every end user's SDK traffic, with a breakdown of each."""
    now = time.time() if now is None else now
    hits, _ = _hits(query, now, None)
    answer = _series(query, hits)
    per_key = _by((hit for hit in hits if hit.kind == Kind.API_KEY), lambda hit: hit.subject_id)
    rows = db.session.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(per_key)))
    names: dict[str, str] = dict(rows.all())
    answer["api_keys"] = [
        {"id": key_id, "name": names.get(key_id), **counts} for key_id, counts in per_key.items()
    ]
    per_user = _by((hit for hit in hits if hit.kind == Kind.SDK), lambda hit: hit.subject_id)
    answer["users"] = [{"user_id": user, **counts} for user, counts in per_user.items()]
    return answer


# What unusual-activity detection reads.


def key_minutes(key_id: str, minutes: Sequence[int]) -> dict[int, StatusCounts]:
    """One API key's requests per epoch minute (of the last MINUTES_KEPT) by status
    class, from Redis; a minute without requests has zeros."""
    counts = recent_minutes().read(list(minutes))
    per_minute = {minute: zero_counts() for minute in minutes}
    for minute, fields in counts.items():
        for what, requests in fields.items():
            if what.kind == Kind.API_KEY and what.subject_id == key_id:
                per_minute[minute][what.status_class] += requests
    return per_minute


def key_hourly_requests(key_id: str, start: datetime, end: datetime) -> dict[datetime, int]:
    """One API key's requests per clock hour in [start, end), every status class and
    route together, from the rolled-up rows (hours without requests are absent)."""
    rows = db.session.execute(
        select(
            UsageBucket.bucket_start,
            func.sum(sum(getattr(UsageBucket, column) for column in COUNT_COLUMNS.values())),
        )
        .where(
            UsageBucket.granularity == "hour",
            UsageBucket.subject_kind == Kind.API_KEY.value,
            UsageBucket.subject_id == key_id,
            UsageBucket.bucket_start >= start,
            UsageBucket.bucket_start < end,
        )
        .group_by(UsageBucket.bucket_start)
    ).all()
    return {hour: int(requests) for hour, requests in rows}
