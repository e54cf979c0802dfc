from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt, UTCDateTime, UUIDPrimaryKey, utcnow
from app.extensions import Model


class User(UUIDPrimaryKey, CreatedAt, Model):
    __tablename__ = "users"

    # Stored lower-cased, so uniqueness is case-insensitive on every backend.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    external_user_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )
