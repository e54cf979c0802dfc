from typing import Any

from flask import current_app
from flask.views import MethodView

from app.core.api import Blueprint
from app.signing_keys import services
from app.signing_keys.schemas import JwksSchema

blp = Blueprint(
    "jwks",
    __name__,
    url_prefix="/.well-known",
    description="Public keys that verify access tokens (ES256 / EdDSA).",
)


@blp.route("/jwks.json")
class Jwks(MethodView):
    @blp.response(200, JwksSchema)
    @blp.doc(operationId="getJwks")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def get(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """The JSON Web Key Set (RFC 7517) of every signing key, newest included.

        A key is published here before any token is signed with it, and stays until
        the operator retires it. With `JWT_ALGORITHM=HS256` the set is empty: those
        tokens can only be checked with introspection.
        """
        max_age = current_app.config["JWKS_CACHE_SECONDS"]
        return services.public_jwks(), 200, {"Cache-Control": f"public, max-age={max_age}"}
