from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime
from app.extensions import Model


class UsageBucket(Model):
    """Requests of one caller on one route in one hour or day, by status class."""

    __tablename__ = "usage_buckets"
    __table_args__ = (Index("ix_usage_buckets_granularity_start", "granularity", "bucket_start"),)

    granularity: Mapped[str] = mapped_column(String(4), primary_key=True)
    """`hour` or `day`."""
    subject_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    """`api_key` or `sdk` (an end user's SDK traffic)."""
    subject_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    route: Mapped[str] = mapped_column(String(200), primary_key=True)
    requests_2xx: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    requests_4xx: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    requests_429: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    requests_5xx: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class UsageDistinctIps(Model):
    """How many client IPs an API key was used from in one hour or day (exact)."""

    __tablename__ = "usage_distinct_ips"

    granularity: Mapped[str] = mapped_column(String(4), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    distinct_ips: Mapped[int] = mapped_column(Integer, nullable=False)


class RolledMinute(Model):
    """A minute already added to the buckets, written in the same transaction, so a
    retried or duplicated rollup never counts it twice."""

    __tablename__ = "usage_rolled_minutes"

    minute: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """Epoch minute (seconds since the epoch // 60)."""
