from flask.views import MethodView

from app.applications import services
from app.applications.schemas import (
    ApplicationPageSchema,
    ApplicationQuerySchema,
    ApplicationSchema,
    ApplicationWithSecretSchema,
    ApplicationWriteSchema,
    RotateSecretSchema,
)
from app.core.api import Blueprint
from app.core.auth import Kind, current_principal, requires
from app.core.client import client_info

blp = Blueprint(
    "applications",
    __name__,
    url_prefix="/api/v1/applications",
    description="Application credentials (`app_id` + `app_secret`) for minting SDK tokens.",
)


@blp.route("")
class Applications(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="listApplications")
    @blp.arguments(ApplicationQuerySchema, location="query")
    @blp.response(200, ApplicationPageSchema)
    def get(self, query):
        """List applications, newest first. Secrets are never shown again."""
        return services.list_applications(query["page"], query["limit"])

    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="createApplication")
    @blp.arguments(ApplicationWriteSchema)
    @blp.response(201, ApplicationWithSecretSchema)
    def post(self, fields):
        """Create an application. The `app_secret` is only shown in this response."""
        return services.create_application(fields["name"], current_principal(), client_info())


@blp.route("/<uuid:application_id>")
class ApplicationById(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="getApplication")
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, application_id):
        """One application."""
        return services.get_application(application_id)

    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="deleteApplication")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, application_id):
        """Delete an application; every SDK session it minted stops working at once."""
        services.delete_application(application_id, current_principal(), client_info())


@blp.route("/<uuid:application_id>/rotate-secret")
class RotateSecret(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="rotateApplicationSecret")
    @blp.arguments(RotateSecretSchema, required=False)
    @blp.response(200, ApplicationWithSecretSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, options, application_id):
        """Replace the `app_secret`; the old one is refused from now on."""
        revoke_sessions = (options or {}).get("revoke_sessions", False)
        return services.rotate_secret(
            application_id, revoke_sessions, current_principal(), client_info()
        )
