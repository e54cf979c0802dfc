"""Developer sessions: a login starts a refresh-token family, a logout ends it."""

import uuid

from app.audit import services as audit
from app.core.actor import ANONYMOUS, Actor
from app.core.auth import Kind, Principal, revoke_access_token
from app.core.client import ClientInfo
from app.core.errors import unauthorized
from app.developers.services import authenticate, normalise_email
from app.extensions import db
from app.refresh_tokens import services as refresh_tokens
from app.refresh_tokens.services import TokenPair


def login(email: str, password: str, client: ClientInfo) -> TokenPair:
    """A new session for valid credentials; every attempt lands in the audit trail."""
    developer = authenticate(email, password)
    if developer is None:
        audit.record(
            "developer.login_failed",
            ANONYMOUS,
            client,
            "developer",
            details={"email": normalise_email(email)},
        )
        db.session.commit()
        raise unauthorized("Incorrect email or password")
    developer_id = str(developer.id)
    audit.record(
        "developer.login", Actor("developer", developer_id), client, "developer", developer_id
    )
    return refresh_tokens.start_session(Kind.DEVELOPER, developer_id)


def logout(principal: Principal, refresh_token: str | None, client: ClientInfo) -> None:
    """Kill the caller's access token now, and its session's refresh tokens."""
    if refresh_token:
        refresh_tokens.revoke_presented_family(refresh_token, principal.kind, principal.subject_id)
    audit.record(
        "developer.logout",
        Actor.of(principal),
        client,
        "developer",
        principal.subject_id,
    )
    refresh_tokens.revoke_families([uuid.UUID(principal.session_id)])
    revoke_access_token(principal)
