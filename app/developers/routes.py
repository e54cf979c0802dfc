from flask.views import MethodView

from app.core.api import Blueprint
from app.core.auth import Kind, current_principal, requires
from app.core.client import client_info
from app.core.errors import ApiError
from app.core.ratelimit import failed_login_limits
from app.developers import services
from app.developers.schemas import DeveloperSchema, LoginSchema, LogoutSchema
from app.refresh_tokens.schemas import TokenPairSchema

blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1/auth", description="Developer login and sessions."
)


@blp.route("/login")
class Login(MethodView):
    @failed_login_limits
    @blp.doc(operationId="login")
    @blp.arguments(LoginSchema, location="form")
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, credentials):
        """Log in with e-mail (`username`) and password, form-encoded.

        Limited per client IP (`RATELIMIT_PER_IP`); failed logins also count per IP and
        per e-mail, and once either is used up logins get 429 until the window frees.
        """
        return services.login(credentials["username"], credentials["password"], client_info())


@blp.route("/me")
class Me(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="getCurrentDeveloper")
    @blp.response(200, DeveloperSchema)
    def get(self):
        """The developer the access token belongs to."""
        developer = services.get_developer(current_principal().subject_id)
        if developer is None or not developer.is_active:
            raise ApiError(401, "Account no longer exists.", {"WWW-Authenticate": "Bearer"})
        return developer


@blp.route("/logout")
class Logout(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="logout")
    @blp.arguments(LogoutSchema, required=False)
    @blp.response(204)
    def post(self, payload):
        """End the session: the access token and the session's refresh tokens stop working."""
        services.logout(current_principal(), (payload or {}).get("refresh_token"), client_info())
