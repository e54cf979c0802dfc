"""Mint SDK tokens: user-scoped JWTs plus a refresh-token family for one end user.

Credentials are checked before the user is looked up, so an unauthenticated caller
cannot learn which user ids exist.
"""

import uuid
from dataclasses import dataclass

from app.activity_alerts import services as activity_alerts
from app.applications import services as applications
from app.audit import services as audit
from app.core.actor import ANONYMOUS, Actor
from app.core.auth import KIND_LABELS, Kind, Principal
from app.core.client import ClientInfo
from app.core.errors import ApiError, unauthorized
from app.developers import services as developers
from app.extensions import db
from app.refresh_tokens import services as refresh_tokens
from app.refresh_tokens.services import TokenPair
from app.sdk_tokens.client_ids import admin_client_id
from app.users import services as users

INVALID_APP_CREDENTIALS = "Invalid app credentials"


@dataclass(frozen=True)
class AppCredentials:
    app_id: str
    app_secret: str


def _admin_client_id(principal: Principal) -> tuple[Actor, str]:
    developer = developers.signed_in_developer(principal)
    return Actor.of(principal), admin_client_id(str(developer.id))


def _application_client_id(
    credentials: AppCredentials, user_id: uuid.UUID, client: ClientInfo
) -> tuple[Actor, str]:
    application = applications.find_by_credentials(credentials.app_id, credentials.app_secret)
    if application is None:
        audit.record(
            "sdk_token.mint_failed",
            ANONYMOUS,
            client,
            "user",
            str(user_id),
            {"app_id": credentials.app_id},
        )
        db.session.commit()
        activity_alerts.note_mint_failure(credentials.app_id, client)
        raise unauthorized(INVALID_APP_CREDENTIALS)
    return Actor("application", application.app_id), application.app_id


def mint(
    user_id: uuid.UUID,
    principal: Principal | None,
    credentials: AppCredentials | None,
    client: ClientInfo,
) -> TokenPair:
    """Method 1: app credentials and no auth header. Method 2: an admin's developer
    token and no body; the token then carries `app_id = admin:{developer_id}`."""
    if principal is not None:
        if principal.kind is not Kind.DEVELOPER:
            raise ApiError(403, f"{KIND_LABELS[principal.kind]} cannot mint SDK tokens.")
        if credentials is not None:
            raise ApiError(422, "Send app credentials or an admin token, not both.")
        actor, client_id = _admin_client_id(principal)
    elif credentials is not None:
        actor, client_id = _application_client_id(credentials, user_id, client)
    else:
        raise unauthorized("Send app credentials (app_id and app_secret) or an admin token.")
    users.get_user(user_id)
    audit.record(
        "sdk_token.minted",
        actor,
        client,
        "user",
        str(user_id),
        {"app_id": client_id},
    )
    return refresh_tokens.start_session(Kind.SDK, str(user_id), client_id=client_id)
