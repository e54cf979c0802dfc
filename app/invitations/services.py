import uuid
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, select, update

from app.account_mail import services as account_mail
from app.account_mail.models import INVITATION, LINK_PLACEHOLDER
from app.audit import services as audit
from app.core.actor import Actor
from app.core.auth import Principal
from app.core.client import ClientInfo
from app.core.db import rows_changed, utcnow
from app.core.errors import ApiError
from app.core.schemas import normalise_email
from app.core.secrets import digest, generate_secret, is_well_formed
from app.developers import services as developers
from app.developers.models import Developer
from app.developers.passwords import enforce_password_policy
from app.extensions import db
from app.invitations.models import Invitation

INVITATION_TOKEN_PREFIX = "inv_"
ACCEPT_PAGE = "/dashboard/accept-invitation"


def _pending(*conditions: Any) -> Select[Any]:
    return select(Invitation).where(
        *conditions,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow(),
    )


def pending_invitations() -> Select[Any]:
    return _pending().order_by(Invitation.created_at.desc(), Invitation.id)


def _get_pending(invitation_id: uuid.UUID) -> Invitation:
    invitation: Invitation | None = db.session.scalar(_pending(Invitation.id == invitation_id))
    if invitation is None:
        raise ApiError(404, "Invitation not found.")
    return invitation


def _issue_token(invitation: Invitation, inviter: Developer) -> dict[str, Any]:
    """A fresh token for the invitation, its mail queued; the response with `accept_url`."""
    token = generate_secret(INVITATION_TOKEN_PREFIX)
    hours = current_app.config["INVITATION_EXPIRES_HOURS"]
    invitation.token_digest = digest(token)
    invitation.expires_at = utcnow() + timedelta(hours=hours)
    invitation.invited_by = inviter.id
    prefix = account_mail.link_prefix(ACCEPT_PAGE)
    account_mail.queue_mail(
        INVITATION,
        invitation.email,
        "You are invited to Open Wearables",
        f"{inviter.email} invited you to manage their Open Wearables platform.\n\n"
        f"Create your account within {hours} hours at:\n{LINK_PLACEHOLDER}\n\n"
        "If you did not expect this invitation, ignore this mail.",
        prefix,
        reference_id=invitation.id,
        token=token,
    )
    return {
        "id": invitation.id,
        "email": invitation.email,
        "expires_at": invitation.expires_at,
        "invited_by": invitation.invited_by,
        "created_at": invitation.created_at,
        "accept_url": prefix + token,
    }


def invite(principal: Principal, email: str, client: ClientInfo) -> dict[str, Any]:
    account_mail.require_mail_transport()
    developers.require_fresh_session(principal)
    inviter = developers.signed_in_developer(principal)
    email = normalise_email(email)
    if developers.find_by_email(email) is not None:
        raise ApiError(409, "A developer with this e-mail already exists.")
    if db.session.scalar(_pending(Invitation.email == email)) is not None:
        raise ApiError(409, "An invitation for this e-mail is pending; resend or revoke it.")
    invitation = Invitation(id=uuid.uuid4(), email=email, created_at=utcnow())
    db.session.add(invitation)
    issued = _issue_token(invitation, inviter)
    audit.record(
        "invitation.created",
        Actor.of(principal),
        client,
        "invitation",
        str(invitation.id),
        details={"email": email},
    )
    developers.alert_every_active_developer(
        "invitation.created",
        f"{inviter.email} invited {email}",
        f"{inviter.email} invited {email} to become a developer (platform admin) of this "
        "Open Wearables deployment.",
        "invitation",
        str(invitation.id),
        email,
        principal,
        client,
    )
    db.session.commit()
    return issued


def resend(principal: Principal, invitation_id: uuid.UUID, client: ClientInfo) -> dict[str, Any]:
    account_mail.require_mail_transport()
    developers.require_fresh_session(principal)
    inviter = developers.signed_in_developer(principal)
    invitation = _get_pending(invitation_id)
    account_mail.discard_unsent(invitation.id)
    issued = _issue_token(invitation, inviter)
    audit.record("invitation.resent", Actor.of(principal), client, "invitation", str(invitation.id))
    db.session.commit()
    return issued


def revoke(principal: Principal, invitation_id: uuid.UUID, client: ClientInfo) -> None:
    _revoke(_get_pending(invitation_id), principal, client)
    db.session.commit()


def revoke_sent_by(developer_id: uuid.UUID, principal: Principal, client: ClientInfo) -> None:
    """Revoke the pending invitations a developer sent (last sent, for a resent one), in
    the caller's transaction: a removed developer's links must not admit anyone."""
    for invitation in db.session.scalars(_pending(Invitation.invited_by == developer_id)):
        _revoke(invitation, principal, client)


def _revoke(invitation: Invitation, principal: Principal, client: ClientInfo) -> None:
    invitation.revoked_at = utcnow()
    account_mail.discard_unsent(invitation.id)
    audit.record(
        "invitation.revoked", Actor.of(principal), client, "invitation", str(invitation.id)
    )


def _refuse_unless_pending(invitation: Invitation) -> None:
    """410 for an invitation that was used, revoked or has expired."""
    if invitation.accepted_at is not None:
        raise ApiError(410, "This invitation has already been used.")
    if invitation.revoked_at is not None:
        raise ApiError(410, "This invitation has been revoked.")
    if invitation.expires_at <= utcnow():
        raise ApiError(410, "This invitation has expired.")


def accept(
    token: str,
    password: str,
    first_name: str | None,
    last_name: str | None,
    client: ClientInfo,
) -> Developer:
    """Create the invitee's account; the token works once, until it expires."""
    invitation = None
    if is_well_formed(token, INVITATION_TOKEN_PREFIX):
        invitation = db.session.scalar(
            select(Invitation).where(Invitation.token_digest == digest(token))
        )
    if invitation is None:
        raise ApiError(400, "Invalid invitation token.")
    _refuse_unless_pending(invitation)
    if developers.find_by_email(invitation.email) is not None:
        raise ApiError(409, "A developer with this e-mail already exists.")
    enforce_password_policy(password, invitation.email, "password")
    # Conditional on every state a concurrent request may have changed since the read:
    # another acceptance, a revocation, the removal of the inviter.
    accepted = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(accepted_at=utcnow())
    )
    if rows_changed(accepted) != 1:
        db.session.rollback()
        _refuse_unless_pending(invitation)
        raise ApiError(410, "This invitation has already been used.")
    developer = developers.new_developer(invitation.email, password, first_name, last_name)
    invitation.developer_id = developer.id
    audit.record(
        "invitation.accepted",
        Actor("developer", str(developer.id)),
        client,
        "invitation",
        str(invitation.id),
    )
    db.session.commit()
    return developer
