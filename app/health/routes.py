from flask.views import MethodView

from app.core.api import Blueprint
from app.core.errors import ApiError
from app.health import services
from app.health.schemas import HealthSchema

blp = Blueprint("health", __name__, description="Liveness and readiness probes.")


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(operationId="checkLiveness")
    def get(self):
        """The process is alive."""
        return {"status": "ok"}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.doc(operationId="checkReadiness")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        """The database and Redis are reachable.

        Without Redis the service still answers (`degraded`): rate limits fall back to
        per-process counters and JWTs are checked against PostgreSQL until Redis is back.
        """
        checks = services.readiness()
        if checks["database"] == "unavailable":
            raise ApiError(503, "Not ready: database unreachable.")
        degraded = checks["redis"] == "unavailable" or checks["rate_limits"] == "in-memory fallback"
        return {"status": "degraded" if degraded else "ready", "checks": checks}
