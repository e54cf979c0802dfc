from flask.views import MethodView
from flask_smorest import Blueprint

from app.core.errors import ApiError
from app.health import services
from app.health.schemas import HealthSchema

blp = Blueprint("health", __name__, description="Liveness and readiness probes.")


@blp.route("/healthz")
class Liveness(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is alive."""
        return {"status": "ok"}


@blp.route("/readyz")
class Readiness(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        """The database and Redis are reachable."""
        checks = services.readiness()
        down = sorted(name for name, state in checks.items() if state == "unavailable")
        if down:
            raise ApiError(503, f"Not ready: {', '.join(down)} unreachable.")
        return {"status": "ready", "checks": checks}
