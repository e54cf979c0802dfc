from flask.views import MethodView

from app.core.api import Blueprint
from app.core.auth import load_principal
from app.core.client import client_info
from app.core.origins import refuse_server_credentials_from_browsers
from app.core.ratelimit import failed_mint_limits
from app.refresh_tokens.schemas import TokenPairSchema
from app.sdk_tokens import services
from app.sdk_tokens.schemas import AppCredentialsSchema

blp = Blueprint(
    "sdk_tokens",
    __name__,
    url_prefix="/api/v1/users",
    description="SDK tokens: user-scoped access for mobile and web apps.",
)


@blp.route("/<uuid:user_id>/token")
class SdkToken(MethodView):
    @failed_mint_limits
    @blp.doc(operationId="mintSdkToken")
    @blp.arguments(AppCredentialsSchema, required=False)
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.doc(security=[{}, {"bearerAuth": []}])
    def post(self, body, user_id):
        """Mint an SDK token for one user.

        Method 1: JSON `{"app_id", "app_secret"}` and no `Authorization` header.
        Method 2: an admin's developer token and no body; the token's `app_id` claim is
        then `admin:{developer_id}`. API keys and SDK tokens cannot mint (403).
        Method 1 from a web page of another origin (an `Origin` header) is refused with
        403: app secrets belong on servers.

        Limited per client IP (`RATELIMIT_PER_IP`, or the admin's developer limit);
        failed mints also count per `app_id` and per IP, and once either is used up
        mints get 429 until the window frees.
        """
        if body:
            refuse_server_credentials_from_browsers()
        principal = load_principal()
        credentials = services.AppCredentials(**body) if body else None
        return services.mint(user_id, principal, credentials, client_info())
