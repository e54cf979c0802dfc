import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, String, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt, UTCDateTime, UUIDPrimaryKey
from app.extensions import Model


class RefreshToken(UUIDPrimaryKey, CreatedAt, Model):
    __tablename__ = "refresh_tokens"

    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    subject_type: Mapped[str] = mapped_column(String(16), nullable=False)
    subject_id: Mapped[str] = mapped_column(String(64), nullable=False)
    client_id: Mapped[str | None] = mapped_column(String(80), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who presented the login or refresh that minted this token: the session list shows
    # the latest token of each family, so these are the session's last-seen client.
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # When the family began (the login or mint); copied to every token of the family.
    session_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    """The token this one was issued for by a refresh (None: the family's first). No
    foreign key: the purge deletes whole families, parents and children alike."""
    access_token_id: Mapped[str | None] = mapped_column(String(64))
    """`jti` of the access token issued with it, to revoke both when it is replaced."""
    reissued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the grace for a lost refresh response was spent on this (used) token."""
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When a grace retry of its parent replaced this unused token. Not `revoked_at`: the
    family lives on, and a revoked row means a revoked session."""

    __table_args__ = (Index("ix_refresh_tokens_subject", "subject_type", "subject_id"),)


class RevokedAccessToken(Model):
    """A logged-out access token, kept until it would have expired anyway."""

    __tablename__ = "revoked_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    """`dev:<id>` or `sdk:<id>` (`app.core.revocation.subject_of`)."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class RevocationRecord(UUIDPrimaryKey, Model):
    """A committed revocation whose Redis flag may not exist: not pushed yet, or pushed
    to a Redis that may come back from a snapshot taken before. Kept until it expires."""

    __tablename__ = "revocation_records"

    subject: Mapped[str] = mapped_column(String(80), nullable=False)
    field: Mapped[str] = mapped_column(String(80), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    pushed: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    """Redis accepted the flag once: pushed again only when Redis is distrusted."""
