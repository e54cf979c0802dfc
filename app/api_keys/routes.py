from typing import Any

from flask.views import MethodView

from app.api_keys import services
from app.api_keys.models import ApiKey
from app.api_keys.schemas import (
    ApiKeyCreateSchema,
    ApiKeyRotateSchema,
    ApiKeySchema,
    ApiKeyUpdateSchema,
    ApiKeyWithSecretSchema,
)
from app.core.api import Blueprint
from app.core.auth import Kind, current_principal, requires
from app.core.client import client_info
from app.core.secrets import ShownOnce

blp = Blueprint(
    "api-keys",
    __name__,
    url_prefix="/api/v1/api-keys",
    description="Server credentials. Managed with a developer token only.",
)


@blp.route("")
class ApiKeys(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="listApiKeys")
    @blp.response(200, ApiKeySchema(many=True))
    def get(self) -> list[ApiKey]:
        """All API keys, newest first. The secret is never shown again."""
        return services.list_keys()

    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="createApiKey")
    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, ApiKeyWithSecretSchema)
    def post(self, fields: dict[str, Any]) -> ShownOnce:
        """Create an API key. The `key` is in this response only: store it securely."""
        api_key, secret = services.create_key(
            fields["name"],
            fields["environment"],
            fields.get("expires_at"),
            current_principal(),
            client_info(),
            fields["scopes"],
            fields["allowed_ips"],
        )
        return ShownOnce(api_key, key=secret)


@blp.route("/<string:key_id>")
class ApiKeyById(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="getApiKey")
    @blp.response(200, ApiKeySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, key_id: str) -> ApiKey:
        """One API key (without its secret)."""
        return services.get_key(key_id)

    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="updateApiKey")
    @blp.arguments(ApiKeyUpdateSchema)
    @blp.response(200, ApiKeySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, fields: dict[str, Any], key_id: str) -> ApiKey:
        """Rename an API key, or change its `scopes` or `allowed_ips` (null lifts the
        restriction). Fields left out keep their value; at least one is required. A
        narrower restriction holds on every worker from this response on."""
        return services.update_key(key_id, fields, current_principal(), client_info())

    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="deleteApiKey")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, key_id: str) -> None:
        """Delete an API key; it stops working at once."""
        services.delete_key(key_id, current_principal(), client_info())


@blp.route("/<string:key_id>/rotate")
class RotateApiKey(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="rotateApiKey")
    @blp.arguments(ApiKeyRotateSchema, required=False)
    @blp.response(200, ApiKeyWithSecretSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, fields: dict[str, Any], key_id: str) -> ShownOnce:
        """A new secret for the same key id and name; the old secret is invalid at once,
        or after `grace_seconds` when given (a second rotation or a deletion ends it)."""
        api_key, secret = services.rotate_key(
            key_id, current_principal(), client_info(), fields.get("grace_seconds", 0)
        )
        return ShownOnce(api_key, key=secret)
