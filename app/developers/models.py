import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt, UTCDateTime, UUIDPrimaryKey
from app.extensions import Model


class Developer(UUIDPrimaryKey, CreatedAt, Model):
    __tablename__ = "developers"

    # Stored lower-cased, so the unique constraint is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last change or reset (not the first password): older reset requests are void.
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who removed (deactivated) this developer: their alerts go there from then on.
    removed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("developers.id", ondelete="SET NULL")
    )


class PasswordReset(UUIDPrimaryKey, CreatedAt, Model):
    """One single-use reset link; only the token's HMAC digest is stored."""

    __tablename__ = "password_resets"

    developer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("developers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
