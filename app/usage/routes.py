from typing import Any

from flask.views import MethodView

from app.api_keys import services as api_keys
from app.core.api import Blueprint
from app.core.auth import Kind, requires
from app.usage import services
from app.usage.schemas import KeyUsageSchema, UsageQuerySchema, UsageSchema
from app.usage.services import UsageQuery

blp = Blueprint(
    "usage",
    __name__,
    url_prefix="/api/v1",
    description="Requests per API key and per end user (SDK tokens), by status class and "
    "route. Managed with a developer token only.",
)


@blp.route("/api-keys/<string:key_id>/usage")
class ApiKeyUsage(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="getApiKeyUsage")
    @blp.arguments(UsageQuerySchema, location="query")
    @blp.response(200, KeyUsageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, query: UsageQuery, key_id: str) -> dict[str, Any]:
        """One API key's requests per minute, hour or day by status class, its routes and
        distinct client IPs; complete up to the API processes' last flush (seconds)."""
        api_keys.get_key(key_id)
        return services.key_usage(key_id, query)


@blp.route("/usage")
class Usage(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="getUsage")
    @blp.arguments(UsageQuerySchema, location="query")
    @blp.response(200, UsageSchema)
    def get(self, query: UsageQuery) -> dict[str, Any]:
        """Every API key's and end user's (SDK tokens) requests, with a breakdown by key
        and by user."""
        return services.all_usage(query)
