from typing import Any

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core.actor import Actor
from app.core.client import ClientInfo
from app.core.pagination import cursor_page
from app.extensions import db


def record(
    action: str,
    actor: Actor,
    client: ClientInfo,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the current transaction; the caller's commit makes it durable
    together with the change it describes. Never pass a secret in `details`."""
    event = AuditEvent(
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        target_type=target_type,
        target_id=target_id,
        ip=client.ip,
        user_agent=client.user_agent,
        details=details or {},
    )
    db.session.add(event)
    return event


def list_events(
    action: str | None, target_id: str | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    statement = select(AuditEvent)
    if action:
        statement = statement.where(AuditEvent.action == action)
    if target_id:
        statement = statement.where(AuditEvent.target_id == target_id)
    return cursor_page(statement, AuditEvent.created_at, AuditEvent.id, cursor, limit)
