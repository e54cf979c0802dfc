from flask.views import MethodView
from flask_smorest import Blueprint

from app.core.auth import authenticate, read_credential
from app.core.client import client_info
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
    @blp.arguments(AppCredentialsSchema, required=False)
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(security=[{}, {"bearerAuth": []}])
    def post(self, body, user_id):
        """Mint an SDK token for one user.

        Method 1: JSON `{"app_id", "app_secret"}` and no `Authorization` header.
        Method 2: an admin's developer token and no body; the token's `app_id` claim is
        then `admin:{developer_id}`. API keys and SDK tokens cannot mint (403).
        """
        credential = read_credential()
        principal = authenticate(credential) if credential else None
        credentials = services.AppCredentials(**body) if body else None
        return services.mint(user_id, principal, credentials, client_info())
