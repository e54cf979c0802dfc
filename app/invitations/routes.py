import uuid
from typing import Any

from flask.views import MethodView

from app.core.api import Blueprint
from app.core.auth import Kind, current_principal, requires
from app.core.client import client_info
from app.core.pagination import PageQuerySchema, page_of
from app.developers.schemas import DeveloperSchema
from app.invitations import services
from app.invitations.schemas import (
    AcceptSchema,
    InvitationCreateSchema,
    InvitationPageSchema,
    IssuedInvitationSchema,
)

blp = Blueprint(
    "invitations",
    __name__,
    url_prefix="/api/v1/invitations",
    description="Invite colleagues to become developers of this deployment.",
)


@blp.route("")
class Invitations(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="createInvitation")
    @blp.arguments(InvitationCreateSchema)
    @blp.response(201, IssuedInvitationSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, payload: dict[str, str]) -> Any:
        """Invite someone by e-mail: a mail with the accept link goes out (durably, even
        with the broker down). `accept_url` (token in its #fragment) is shown only here.
        Needs a fresh session (403 "Please confirm your password."); an existing
        developer's e-mail, or one with a pending invitation → 409. Every active
        developer is alerted."""
        return services.invite(current_principal(), payload["email"], client_info())

    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="listInvitations")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, InvitationPageSchema)
    def get(self, query: dict[str, int]) -> Any:
        """Pending invitations (not accepted, revoked or expired), newest first."""
        return page_of(services.pending_invitations(), query["page"], query["limit"])


@blp.route("/<uuid:invitation_id>")
class InvitationById(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="revokeInvitation")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, invitation_id: uuid.UUID) -> None:
        """Revoke a pending invitation: its link stops working."""
        services.revoke(current_principal(), invitation_id, client_info())


@blp.route("/<uuid:invitation_id>/resend")
class ResendInvitation(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="resendInvitation")
    @blp.response(200, IssuedInvitationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, invitation_id: uuid.UUID) -> Any:
        """A new link (the old one dies), mailed again, valid `INVITATION_EXPIRES_HOURS`
        from now; the answer carries the new `accept_url`. Needs a fresh session."""
        return services.resend(current_principal(), invitation_id, client_info())


@blp.route("/accept")
class AcceptInvitation(MethodView):
    @blp.arguments(AcceptSchema)
    @blp.doc(operationId="acceptInvitation")
    @blp.response(201, DeveloperSchema)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(410, response="GONE")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, payload: dict[str, Any]) -> Any:
        """Create the invited developer's account (no authentication: the token is the
        proof). Unknown token → 400; used, revoked or expired → 410; the e-mail already
        a developer → 409; a password against the policy → 422."""
        return services.accept(
            payload["token"],
            payload["password"],
            payload.get("first_name"),
            payload.get("last_name"),
            client_info(),
        )
