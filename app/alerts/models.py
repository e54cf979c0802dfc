from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt, UTCDateTime, UUIDPrimaryKey, utcnow
from app.core.outbox import PENDING
from app.extensions import db


class Alert(UUIDPrimaryKey, CreatedAt, db.Model):
    __tablename__ = "alerts"

    event: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    recipients: Mapped[list] = mapped_column(JSON, default=list, nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    # At most one alert per key: reminders use it for "once per key per period".
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    webhook_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_alerts_status_next_attempt_at", "status", "next_attempt_at"),)
