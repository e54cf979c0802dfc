import uuid
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt, UTCDateTime, UUIDPrimaryKey, utcnow
from app.core.outbox import PENDING
from app.extensions import db

LINK_PLACEHOLDER = "{link}"

INVITATION = "invitation"
PASSWORD_RESET = "password_reset"


class AccountMail(UUIDPrimaryKey, CreatedAt, db.Model):
    __tablename__ = "account_mails"

    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    # The invitation or password reset the link opens; a reset gets it in the worker.
    reference_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    # The text, with LINK_PLACEHOLDER where the link goes at sending time.
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # The link up to its token: PUBLIC_BASE_URL (or the asking request's origin), the
    # page, and `#token=` — the token travels in the fragment, never sent to a server.
    link_prefix: Mapped[str] = mapped_column(String(500), nullable=False)
    # Fernet ciphertext of the link's token; NULL once sent (or superseded).
    sealed_token: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_account_mails_status_next_attempt_at", "status", "next_attempt_at"),
    )
