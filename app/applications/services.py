"""Create, list, rotate and delete applications; verify their credentials when minting.

The secret is shown once (creation, rotation) and stored as a keyed HMAC digest: a
slow password hash would make every mint cost tens of milliseconds, and a 190-bit
random secret needs no stretching. Credentials are checked by one indexed lookup of
the digest, after a format and checksum check that needs no I/O.
"""

import hmac
import re
import uuid
from typing import Any

from sqlalchemy import select

from app.alerts import services as alerts
from app.applications.models import Application
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.core.actor import Actor
from app.core.auth import Principal
from app.core.client import ClientInfo
from app.core.errors import ApiError
from app.core.pagination import page_of
from app.core.secrets import digest, generate_secret, is_well_formed, random_base62
from app.developers import services as developers
from app.extensions import db
from app.refresh_tokens import services as refresh_tokens

APP_ID_PREFIX = "app_"
APP_ID_RANDOM_LENGTH = 20
APP_ID_SHAPE = re.compile(rf"{APP_ID_PREFIX}[0-9A-Za-z]{{{APP_ID_RANDOM_LENGTH}}}")
SECRET_PREFIX = "secret_"


def _audit(
    action: str,
    principal: Principal,
    client: ClientInfo,
    application_id: uuid.UUID,
    app_id: str,
    **details: object,
) -> None:
    audit.record(
        action,
        Actor.of(principal),
        client,
        "application",
        str(application_id),
        {"app_id": app_id, **details},
    )


def create_application(
    name: str, principal: Principal, client: ClientInfo
) -> tuple[Application, str]:
    """A new application and its secret; the secret exists only in this return value."""
    app_secret = generate_secret(SECRET_PREFIX)
    application = Application(
        id=uuid.uuid4(),
        app_id=APP_ID_PREFIX + random_base62(APP_ID_RANDOM_LENGTH),
        name=name,
        secret_digest=digest(app_secret),
    )
    db.session.add(application)
    _audit("application.created", principal, client, application.id, application.app_id, name=name)
    db.session.commit()
    return application, app_secret


def list_applications(page: int, limit: int) -> dict[str, Any]:
    statement = select(Application).order_by(Application.created_at.desc(), Application.id.desc())
    return page_of(statement, page, limit)


def get_application(application_id: uuid.UUID) -> Application:
    application = db.session.get(Application, application_id)
    if application is None:
        raise ApiError(404, "Application not found.")
    return application


def rotate_secret(
    application_id: uuid.UUID, revoke_sessions: bool, principal: Principal, client: ClientInfo
) -> tuple[Application, str]:
    """A new secret; the old one stops working at once. Sessions already minted live
    on unless `revoke_sessions` (a leaked secret may have minted tokens for anyone)."""
    application = get_application(application_id)
    app_secret = generate_secret(SECRET_PREFIX)
    application.secret_digest = digest(app_secret)
    _audit(
        "application.secret_rotated",
        principal,
        client,
        application.id,
        application.app_id,
        revoke_sessions=revoke_sessions,
    )
    _queue_rotation_alert(application, revoke_sessions, principal, client)
    db.session.commit()
    if revoke_sessions:
        refresh_tokens.revoke_client(application.app_id)
    return application, app_secret


def _queue_rotation_alert(
    application: Application, revoke_sessions: bool, principal: Principal, client: ClientInfo
) -> None:
    """Applications have no owner of record: the alert goes to whoever rotated the
    secret (and `ALERT_EMAIL_TO`), in the rotation's own transaction."""
    actor = developers.named_actor(principal)
    sessions = (
        "Every SDK session it had minted was revoked."
        if revoke_sessions
        else "SDK sessions it had already minted stay valid."
    )
    alerts.queue_alert(
        event="application.secret_rotated",
        subject=f"Application secret rotated: {application.name}",
        summary=(
            "An application's secret was rotated: the previous secret stopped working at "
            f"that moment. {sessions} If you did not expect this, check the audit trail."
        ),
        credential=alerts.Credential(
            type="application", id=application.app_id, name=application.name
        ),
        actor=actor,
        client=client,
        recipients=[actor.name] if actor.name else [],
    )


def delete_application(application_id: uuid.UUID, principal: Principal, client: ClientInfo) -> None:
    """Delete the application and end every SDK session it minted."""
    application = get_application(application_id)
    app_id = application.app_id
    db.session.delete(application)
    _audit("application.deleted", principal, client, application_id, app_id, name=application.name)
    db.session.commit()
    refresh_tokens.revoke_client(app_id)


def find_by_app_id(app_id: str) -> Application | None:
    return db.session.scalar(select(Application).where(Application.app_id == app_id))


def creator_email(application: Application) -> str | None:
    """Applications have no owner of record: the developer the audit trail says created
    it, or whoever took over their alerts once they were removed."""
    creator_id = db.session.scalar(
        select(AuditEvent.actor_id).where(
            AuditEvent.target_id == str(application.id),
            AuditEvent.action == "application.created",
            AuditEvent.actor_type == "developer",
        )
    )
    return developers.alert_address(creator_id)


def find_by_credentials(app_id: str, app_secret: str) -> Application | None:
    """The application these credentials belong to, or None. Malformed input is refused
    before any I/O; the app_id comparison is constant-time."""
    if not APP_ID_SHAPE.fullmatch(app_id) or not is_well_formed(app_secret, SECRET_PREFIX):
        return None
    application = db.session.scalar(
        select(Application).where(Application.secret_digest == digest(app_secret))
    )
    if application is None or not hmac.compare_digest(application.app_id, app_id):
        return None
    return application
