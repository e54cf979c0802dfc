import uuid
from typing import Any

from flask.views import MethodView

from app.core.api import Blueprint
from app.core.auth import Kind, current_principal, current_principal_or_none, requires
from app.core.client import client_info
from app.core.errors import unauthorized
from app.core.pagination import PageQuerySchema, page_of
from app.core.ratelimit import (
    failed_login_limits,
    failed_password_check_limits,
    password_reset_request_limits,
)
from app.developers import services, sessions
from app.developers.schemas import (
    AcceptedSchema,
    ChangePasswordSchema,
    ConfirmPasswordSchema,
    DeveloperSchema,
    ForgotPasswordSchema,
    LoginSchema,
    LogoutSchema,
    ProfileUpdateSchema,
    ResetPasswordSchema,
    SessionPageSchema,
    TeamPageSchema,
)
from app.refresh_tokens import cookies
from app.refresh_tokens import services as refresh_tokens
from app.refresh_tokens.models import RefreshToken
from app.refresh_tokens.schemas import TokenPairSchema

blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1/auth", description="Developer login and sessions."
)
team_blp = Blueprint(
    "developers",
    __name__,
    url_prefix="/api/v1/developers",
    description="The developers (platform admins) of this deployment.",
)

RESET_REQUESTED = (
    "If that address belongs to a developer, a password-reset link is on its way to it."
)


@blp.route("/login")
class Login(MethodView):
    @failed_login_limits
    @blp.doc(operationId="login")
    @blp.arguments(LoginSchema, location="form")
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, credentials: dict[str, str]) -> Any:
        """Log in with e-mail (`username`) and password, form-encoded.

        Limited per client IP (`RATELIMIT_PER_IP`); failed logins also count per IP and
        per e-mail, and once either is used up logins get 429 until the window frees.

        Cookie mode: with the header `X-Refresh-Cookie: 1` the refresh token is set as the
        `ow_refresh_token` cookie (HttpOnly, SameSite=Strict, Path=/api/v1/auth, Secure
        over HTTPS) and the body omits `refresh_token`.
        """
        pair = sessions.login(credentials["username"], credentials["password"], client_info())
        if not cookies.wants_cookie():
            return pair
        cookies.set_refresh_cookie(pair)
        return cookies.body_without_refresh_token(pair)


@blp.route("/me")
class Me(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="getCurrentDeveloper")
    @blp.response(200, DeveloperSchema)
    def get(self) -> Any:
        """The developer the access token belongs to."""
        return services.signed_in_developer(current_principal())

    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="updateCurrentDeveloper")
    @blp.arguments(ProfileUpdateSchema)
    @blp.response(200, DeveloperSchema)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, changes: dict[str, str | None]) -> Any:
        """Change the caller's names; fields left out stay as they are."""
        return services.update_profile(current_principal(), changes, client_info())


@blp.route("/change-password")
class ChangePassword(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="changePassword")
    @failed_password_check_limits
    @blp.arguments(ChangePasswordSchema)
    @blp.response(204)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, payload: dict[str, str]) -> None:
        """Set a new password. Every other session of the developer ends at once; this
        one keeps working and counts as freshly confirmed.

        A wrong `current_password` is a 400 (not 401, which clients answer by
        refreshing) and counts as a failed login. A `new_password` against the password
        policy is a 422 whose `errors.new_password` names the rule.
        """
        sessions.change_password(
            current_principal(), payload["current_password"], payload["new_password"], client_info()
        )


@blp.route("/confirm-password")
class ConfirmPassword(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="confirmPassword")
    @failed_password_check_limits
    @blp.arguments(ConfirmPasswordSchema)
    @blp.response(204)
    @blp.alt_response(400, response="BAD_REQUEST")
    def post(self, payload: dict[str, str]) -> None:
        """Prove the password again: the session is fresh for `REAUTH_MAX_AGE_SECONDS`,
        as removing or inviting developers requires. A wrong password is a 400."""
        services.confirm_password(current_principal(), payload["password"], client_info())


def _session(row: RefreshToken, current_session: str | None) -> dict[str, Any]:
    started_at = row.session_started_at or row.created_at
    return {
        "id": row.family_id,
        "created_at": started_at,
        "last_used_at": row.created_at if row.created_at > started_at else None,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "current": str(row.family_id) == current_session,
    }


@blp.route("/sessions")
class Sessions(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="listSessions")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, SessionPageSchema)
    def get(self, query: dict[str, int]) -> Any:
        """The caller's live sessions (one per login), newest first."""
        principal = current_principal()
        page = page_of(
            refresh_tokens.live_sessions(Kind.DEVELOPER, principal.subject_id),
            query["page"],
            query["limit"],
        )
        page["items"] = [_session(row, principal.session_id) for row in page["items"]]
        return page

    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="revokeOtherSessions")
    @blp.response(204)
    def delete(self) -> None:
        """End every session of the caller but this one ("log out other devices")."""
        sessions.revoke_other_sessions(current_principal(), client_info())


@blp.route("/sessions/<session_id>")
class Session(MethodView):
    @requires(Kind.DEVELOPER)
    @blp.doc(operationId="revokeSession")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, session_id: str) -> None:
        """End one of the caller's sessions: its access and refresh tokens stop working
        on every worker at once. Another developer's session is a 404."""
        sessions.revoke_session(current_principal(), session_id, client_info())


@blp.route("/logout")
class Logout(MethodView):
    @requires(Kind.DEVELOPER, or_anonymous=True)
    @blp.doc(operationId="logout")
    @blp.arguments(LogoutSchema, required=False)
    @blp.response(204)
    def post(self, payload: dict[str, str] | None) -> None:
        """End the session: the access token and the session's refresh tokens stop working.

        In cookie mode the `ow_refresh_token` cookie alone is enough (with
        `X-Refresh-Cookie: 1` on a same-origin request, else 403): its session ends and
        the cookie is cleared.
        """
        principal = current_principal_or_none()
        # A bearer logout also ends the cookie's session when the browser may use it.
        cookie = cookies.presented_cookie() if principal is None else cookies.same_origin_cookie()
        if principal is None and cookie is None:
            raise unauthorized("Not authenticated.")
        client = client_info()
        if cookie is not None:
            sessions.logout_cookie_session(cookie, client)
            cookies.clear_refresh_cookie()
        if principal is not None:
            sessions.logout(principal, (payload or {}).get("refresh_token"), client)


@blp.route("/forgot-password")
class ForgotPassword(MethodView):
    @password_reset_request_limits
    @blp.doc(operationId="forgotPassword")
    @blp.arguments(ForgotPasswordSchema)
    @blp.response(202, AcceptedSchema)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, payload: dict[str, str]) -> Any:
        """Mail a single-use reset link (valid `PASSWORD_RESET_EXPIRES_MINUTES`) to an
        active developer. The answer, and the work done before it, are the same whether
        or not the address exists. Limited per e-mail and per IP, unknown addresses too."""
        services.request_password_reset(payload["email"], client_info())
        return {"detail": RESET_REQUESTED}


@blp.route("/reset-password")
class ResetPassword(MethodView):
    @blp.arguments(ResetPasswordSchema)
    @blp.doc(operationId="resetPassword")
    @blp.response(204)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, payload: dict[str, str]) -> None:
        """Set a new password with the token from a reset link; it works once. Every
        session of the developer ends. Invalid, used or expired token → 400."""
        sessions.reset_password(payload["token"], payload["new_password"], client_info())


@team_blp.route("")
class Developers(MethodView):
    @requires(Kind.DEVELOPER)
    @team_blp.doc(operationId="listDevelopers")
    @team_blp.arguments(PageQuerySchema, location="query")
    @team_blp.response(200, TeamPageSchema)
    def get(self, query: dict[str, int]) -> Any:
        """The active developers, oldest first."""
        return page_of(services.active_developers(), query["page"], query["limit"])


@team_blp.route("/<uuid:developer_id>")
class DeveloperById(MethodView):
    @requires(Kind.DEVELOPER)
    @team_blp.doc(operationId="removeDeveloper")
    @team_blp.response(204)
    @team_blp.alt_response(404, response="NOT_FOUND")
    @team_blp.alt_response(409, response="CONFLICT")
    def delete(self, developer_id: uuid.UUID) -> None:
        """Remove (deactivate) a developer: they cannot log in and every session of
        theirs ends at once; their API keys and applications stay, and alerts about them
        go to the caller. Needs a fresh session (403 "Please confirm your password.").
        Yourself or the last active developer → 409. Every active developer is alerted."""
        sessions.remove_developer(current_principal(), developer_id, client_info())
