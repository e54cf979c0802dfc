from flask.views import MethodView

from app.audit import services
from app.audit.schemas import AuditPageSchema, AuditQuerySchema
from app.core.api import Blueprint
from app.core.auth import Kind, requires

blp = Blueprint(
    "audit", __name__, url_prefix="/api/v1/audit-events", description="The audit trail."
)


@blp.route("")
class AuditEvents(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="listAuditEvents")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, query):
        """Audit events, newest first."""
        rows, pagination = services.list_events(
            query.get("action"), query.get("target_id"), query.get("cursor"), query["limit"]
        )
        return {"data": rows, "pagination": pagination}
