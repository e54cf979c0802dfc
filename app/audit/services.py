from dataclasses import dataclass

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core.auth import Principal
from app.core.client import ClientInfo
from app.core.pagination import keyset_page
from app.extensions import db


@dataclass(frozen=True)
class Actor:
    type: str
    """`developer`, `api_key`, `sdk`, `application` or `anonymous`."""
    id: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> "Actor":
        return cls(type=principal.kind.value, id=principal.subject_id)


ANONYMOUS = Actor("anonymous")


def record(
    action: str,
    actor: Actor,
    client: ClientInfo,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict | None = None,
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


def list_events(action: str | None, target_id: str | None, cursor: str | None, limit: int):
    statement = select(AuditEvent)
    if action:
        statement = statement.where(AuditEvent.action == action)
    if target_id:
        statement = statement.where(AuditEvent.target_id == target_id)
    return keyset_page(statement, AuditEvent.created_at, AuditEvent.id, cursor, limit)
