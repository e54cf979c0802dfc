"""Unusual-activity alerts: their kinds, and the record that each was raised at most
once per subject and clock hour."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt, UTCDateTime
from app.extensions import Model

SUBJECT_LENGTH = 80
"""As long as an audit event's `target_id`: an API key id, an `app_id`, a network."""


class ActivityKind(StrEnum):
    """What looked unusual. The alert's event and audit action are `activity.<kind>`."""

    NEW_NETWORK = "new_network"
    """An API key used from a network it was not seen on lately (subject: the key)."""
    MINT_FAILURES = "mint_failures"
    """A burst of failed SDK token mints for one `app_id` (subject: the app_id)."""
    AUTH_FAILURES = "auth_failures"
    """A burst of refused API keys from one network (subject: the network)."""
    LIMIT_SUSTAINED = "limit_sustained"
    """An API key at its rate limit for minutes on end (subject: the key)."""
    TRAFFIC_SPIKE = "traffic_spike"
    """An API key's traffic far above its usual hourly level (subject: the key)."""


class RaisedActivityAlert(CreatedAt, Model):
    """One row per alert raised: the primary key allows one per kind, subject and hour,
    inserted in the alert's own transaction, so two workers cannot both raise it."""

    __tablename__ = "activity_alerts"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT_LENGTH), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    """The clock hour (UTC) the alert was raised in."""
    alert_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
    )


class KeyNetwork(Model):
    """A network (IPv4 /24, IPv6 /48) an API key was used from, and when last: what
    `activity.new_network` compares a key's traffic against."""

    __tablename__ = "api_key_networks"

    key_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(String(SUBJECT_LENGTH), primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    """The start of the latest rolled-up minute the key was used from this network in."""
