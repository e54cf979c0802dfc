from flask import jsonify
from flask.views import MethodView

from app.core.api import Blueprint
from app.core.errors import RETRY_AFTER_SECONDS
from app.health import services
from app.health.schemas import HealthSchema, NotReadySchema

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
    @blp.alt_response(503, schema=NotReadySchema, description="The database is unreachable.")
    def get(self):
        """The database and Redis are reachable.

        Without Redis the service still answers (`degraded`): rate limits fall back to
        per-process counters and JWTs are checked against PostgreSQL until Redis is back.
        Without the database it is not ready (503, with each dependency's state in `checks`).
        """
        checks = services.readiness()
        if checks["database"] == "unavailable":
            # A Response passes flask-smorest untouched (the 200 schema would drop `detail`).
            response = jsonify(
                detail="Not ready: database unreachable.", status="unavailable", checks=checks
            )
            response.status_code = 503
            response.headers["Retry-After"] = RETRY_AFTER_SECONDS
            return response
        degraded = checks["redis"] == "unavailable" or checks["rate_limits"] == "in-memory fallback"
        return {"status": "degraded" if degraded else "ready", "checks": checks}
