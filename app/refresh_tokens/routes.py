from flask.views import MethodView

from app.core.api import Blueprint
from app.core.client import client_info
from app.core.cors import allow_cross_origin
from app.refresh_tokens import services
from app.refresh_tokens.schemas import RefreshRequestSchema, TokenPairSchema

blp = Blueprint(
    "refresh",
    __name__,
    url_prefix="/api/v1/auth",
    description="Exchange a refresh token (developer or SDK) for a new pair.",
)


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshRequestSchema)
    @blp.response(200, TokenPairSchema)
    @blp.doc(operationId="refreshTokens")
    @allow_cross_origin
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, payload):
        """Rotate a refresh token: a new access token AND a new refresh token.

        Refresh tokens are single-use. Presenting one that was already used revokes
        its whole family (the chain from one login or mint).
        """
        return services.rotate(payload["refresh_token"], client_info())
