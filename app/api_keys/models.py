import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt, UTCDateTime
from app.extensions import Model


class ApiKey(CreatedAt, Model):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    environment: Mapped[str] = mapped_column(String(4), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    """The first characters of the key, safe to display."""
    key_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("developers.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set by `services.revoke_key` (a leak report); rotating the key clears it."""
    revoked_reason: Mapped[str | None] = mapped_column(String(200))
    previous_key_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    """The secret a rotation with a grace period replaced, valid until the time below."""
    previous_key_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    """The scopes (`app.core.auth.API_KEY_SCOPES`) the key is restricted to; NULL: all."""
    allowed_ips: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    """Normalised CIDRs the key may be used from; NULL: anywhere."""
