from typing import Any

from flask.views import MethodView

from app.core.api import Blueprint
from app.core.auth import Kind, requires
from app.core.client import client_info
from app.tokens import services
from app.tokens.schemas import IntrospectionSchema, TokenSchema

TOKEN_SCHEMA_REF = "#/components/schemas/Token"


class TokensBlueprint(Blueprint):
    """RFC 7009 lets clients send the revocation request form-encoded; ours may also
    send JSON like every other endpoint. The OpenAPI document lists both."""

    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "json_or_form": "application/json",
    }


blp = TokensBlueprint(
    "tokens",
    __name__,
    url_prefix="/api/v1/auth",
    description="Revoke (RFC 7009) and introspect (RFC 7662) access and refresh tokens.",
)


@blp.route("/revoke")
class Revoke(MethodView):
    @blp.doc(operationId="revokeToken")
    @blp.arguments(TokenSchema, location="json_or_form")
    @blp.doc(
        requestBody={
            "content": {"application/x-www-form-urlencoded": {"schema": {"$ref": TOKEN_SCHEMA_REF}}}
        }
    )
    @blp.response(200)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, payload: dict[str, str]) -> dict[str, Any]:
        """Revoke a token (RFC 7009): form or JSON `token`, optional `token_type_hint`.

        A refresh token revokes its whole session (every refresh token of its family and
        every access token minted from it); an access token revokes itself. Holding the
        token proves the right to revoke it, so no other credential is needed, and a
        developer revokes someone else's token the same way. Unknown, malformed, expired
        or already revoked tokens also answer 200 `{}` (RFC 7009 §2.2).
        """
        services.revoke(payload["token"], client_info())
        return {}


@blp.route("/introspect")
class Introspect(MethodView):
    @requires(Kind.API_KEY, scope="tokens:introspect")
    @blp.doc(operationId="introspectToken")
    @blp.arguments(TokenSchema, location="form")
    @blp.response(200, IntrospectionSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, payload: dict[str, str]) -> dict[str, Any]:
        """Introspect a token (RFC 7662) for a resource server: form `token`.

        Authenticated with an API key (a restricted key needs `tokens:introspect`).
        Answers `{"active": true, ...claims}` for a token a request would accept right
        now, and `{"active": false}` for anything expired, revoked (on any worker),
        malformed or unknown.
        """
        return services.introspect(payload["token"])
