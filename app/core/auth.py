"""Who is calling: an API key, a developer access token or an SDK token.

Hot path: read the header → recognise the credential by shape (no I/O) → either one
indexed lookup by digest (API keys, resolved by the api_keys feature) or a JWT
signature check plus one revocation round trip (`app.core.revocation`) → the handler.
"""

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import wraps

import jwt as pyjwt
import sqlalchemy.exc
from flask import current_app, g, request
from flask_jwt_extended import create_access_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException

from app.core import revocation
from app.core.errors import ApiError, database_unavailable_error
from app.core.origins import refuse_server_credentials_from_browsers
from app.core.outages import database_outage, is_database_unavailable
from app.core.secrets import is_well_formed

API_KEY_PREFIXES = ("ow_live_", "ow_test_")
API_KEY_HEADER = "X-Open-Wearables-API-Key"
REQUIRED_CLAIMS = ("type", "sub", "iat", "exp", "jti", "sid")


class Kind(StrEnum):
    DEVELOPER = "developer"
    SDK = "sdk"
    API_KEY = "api_key"


KIND_LABELS = {
    Kind.DEVELOPER: "Developer tokens",
    Kind.SDK: "SDK tokens",
    Kind.API_KEY: "API keys",
}


@dataclass(frozen=True)
class Principal:
    kind: Kind
    subject_id: str
    """Developer id, end-user id (SDK) or API key id."""
    client_id: str | None = None
    """SDK tokens: the application's `app_id`, or `admin:{developer_id}`."""
    session_id: str | None = None
    """JWTs: the refresh-token family the token belongs to."""
    token_id: str | None = None
    expires_at: int | None = None
    issued_at: int | None = None


ApiKeyResolver = Callable[[str], Principal]


def set_api_key_resolver(app, resolver: ApiKeyResolver) -> None:
    """The api_keys feature plugs its digest lookup in here (core never imports features)."""
    app.extensions["owa_api_key_resolver"] = resolver


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, {"WWW-Authenticate": "Bearer"})


def read_credential() -> str | None:
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("Authorization header must be 'Bearer <token>'.")
        return value.strip()
    api_key = request.headers.get(API_KEY_HEADER)
    return api_key.strip() if api_key else None


def _resolve_api_key(credential: str) -> Principal:
    if not any(is_well_formed(credential, prefix) for prefix in API_KEY_PREFIXES):
        raise _unauthorized("Invalid API key")
    resolver = current_app.extensions.get("owa_api_key_resolver")
    if resolver is None:
        raise _unauthorized("Invalid API key")
    return resolver(credential)


def issue_access_token(
    kind: Kind,
    subject_id: str,
    session_id: str,
    expires_in: int,
    claims: dict | None = None,
) -> str:
    return create_access_token(
        identity=subject_id,
        expires_delta=timedelta(seconds=expires_in),
        additional_claims={"type": kind.value, "sid": session_id, **(claims or {})},
    )


def decode_access_token(token: str) -> Principal:
    try:
        claims = decode_token(token)
    except pyjwt.ExpiredSignatureError as error:
        raise _unauthorized("Token has expired.") from error
    except (pyjwt.PyJWTError, JWTExtendedException) as error:
        raise _unauthorized("Invalid token.") from error
    if any(claims.get(name) in (None, "") for name in REQUIRED_CLAIMS):
        raise _unauthorized("Invalid token.")
    if claims["type"] not in (Kind.DEVELOPER, Kind.SDK):
        raise _unauthorized("Invalid token type.")
    subject = revocation.subject_of(claims["type"], claims["sub"])
    if revocation.is_revoked(subject, claims["jti"], claims["sid"]):
        raise _unauthorized("Token has been revoked.")
    return Principal(
        kind=Kind(claims["type"]),
        subject_id=claims["sub"],
        client_id=claims.get("app_id"),
        session_id=claims["sid"],
        token_id=claims["jti"],
        expires_at=claims["exp"],
        issued_at=claims["iat"],
    )


def authenticate(credential: str) -> Principal:
    if credential.startswith(API_KEY_PREFIXES):
        refuse_server_credentials_from_browsers()
        return _resolve_api_key(credential)
    return decode_access_token(credential)


def load_principal() -> Principal | None:
    """Who is calling, resolved once per request: None without credentials, and the same
    ApiError (401, or 503 without the database) every time for credentials that fail.

    The rate limiter needs the caller before the view runs, `requires` needs it again;
    both share this one lookup.
    """
    if "resolved_caller" not in g:
        try:
            credential = read_credential()
            g.resolved_caller = authenticate(credential) if credential else None
        except ApiError as error:
            g.resolved_caller = error
        except sqlalchemy.exc.SQLAlchemyError as error:
            if not is_database_unavailable(error):
                raise
            database_outage().failed(error)
            g.resolved_caller = database_unavailable_error()
    if isinstance(g.resolved_caller, ApiError):
        raise g.resolved_caller
    return g.resolved_caller


def optional_principal() -> Principal | None:
    """The caller, or None when credentials are missing or rejected."""
    try:
        return load_principal()
    except ApiError:
        return None


def current_principal() -> Principal:
    return g.principal


def requires(*kinds: Kind, or_anonymous: bool = False):
    """Only callers of these kinds reach the view; the rest get 401 (no or bad
    credentials) or 403 (valid credentials of another kind).

    When SDK tokens are allowed the view must take `user_id`, and an SDK token only
    passes for its own user. `allowed_kinds` stays on the view for the scope tests.
    `or_anonymous`: a request without credentials reaches the view too (which then
    checks another proof, e.g. the refresh cookie), with `g.principal` None.
    """
    allowed = frozenset(kinds)

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = load_principal()
            if principal is None and or_anonymous:
                g.principal = None
                return view(*args, **kwargs)
            if principal is None:
                raise _unauthorized("Not authenticated.")
            if principal.kind not in allowed:
                raise ApiError(403, f"{KIND_LABELS[principal.kind]} cannot access this endpoint.")
            if principal.kind is Kind.SDK and str(kwargs.get("user_id")) != principal.subject_id:
                raise ApiError(403, "This SDK token is not valid for this user.")
            g.principal = principal
            return view(*args, **kwargs)

        wrapper.allowed_kinds = allowed
        wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
        wrapper._apidoc.setdefault("manual_doc", {})["security"] = [
            {"bearerAuth": []},
            *([{"apiKeyHeader": []}] if Kind.API_KEY in allowed else []),
        ]
        responses = wrapper._apidoc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        responses.setdefault(403, []).append("FORBIDDEN")
        responses.setdefault(429, []).append("TOO_MANY_REQUESTS")
        return wrapper

    return decorator
