from typing import Any

from flask.views import MethodView

from app.core.api import Blueprint
from app.core.client import client_info
from app.core.cors import allow_cross_origin
from app.core.errors import ApiError
from app.refresh_tokens import cookies, services
from app.refresh_tokens.schemas import RefreshRequestSchema, TokenPairSchema

blp = Blueprint(
    "refresh",
    __name__,
    url_prefix="/api/v1/auth",
    description="Exchange a refresh token (developer or SDK) for a new pair.",
)

MISSING_REFRESH_TOKEN = "Missing data for required field."


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshRequestSchema, required=False)
    @blp.response(200, TokenPairSchema)
    @blp.doc(operationId="refreshTokens")
    @allow_cross_origin
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, payload: dict[str, Any] | None) -> Any:
        """Rotate a refresh token: a new access token AND a new refresh token.

        Refresh tokens are single-use. Presenting one that was already used revokes
        its whole family (the chain from one login or mint).

        Without `refresh_token` in the body the `ow_refresh_token` cookie is used (cookie
        mode): the request needs `X-Refresh-Cookie: 1` and `Sec-Fetch-Site: same-origin`
        or the app's own `Origin` (else 403); the rotated token goes into the cookie and
        the body omits `refresh_token`.
        """
        refresh_token = (payload or {}).get("refresh_token")
        if refresh_token:
            return services.rotate(refresh_token, client_info())
        cookie = cookies.presented_cookie()
        if cookie is None:
            raise ApiError(
                422,
                f"Validation error. refresh_token: {MISSING_REFRESH_TOKEN}",
                errors={"refresh_token": [MISSING_REFRESH_TOKEN]},
            )
        pair = services.rotate(cookie, client_info())
        cookies.set_refresh_cookie(pair)
        return cookies.body_without_refresh_token(pair)
