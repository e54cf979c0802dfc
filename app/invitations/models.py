import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt, UTCDateTime, UUIDPrimaryKey
from app.extensions import db


class Invitation(UUIDPrimaryKey, CreatedAt, db.Model):
    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("developers.id", ondelete="SET NULL")
    )
    # HMAC digest of the current token; a resend replaces it (the old link dies).
    token_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    developer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("developers.id", ondelete="SET NULL")
    )
    """The account the invitation created."""
