"""Who is calling: an API key, a developer access token or an SDK token.

Hot path: read the header → `identify` the credential without I/O (an API key's shape
and checksum, then its digest; a JWT's signature and claims) → one Redis call
(`app.core.admission`) answers whether the key exists or the token is revoked, admits
the request against the caller's limit and records an API key's last use → the handler.

`authenticate` is the same check without that call, for requests the admission does not
cover (limits switched off for the route) and while Redis is unreachable: API keys are
then looked up in PostgreSQL, JWT revocations read from it.
"""

import time
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import jwt as pyjwt
import sqlalchemy.exc
from flask import Flask, current_app, g, request
from flask_jwt_extended import create_access_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException

from app.core import revocation
from app.core.errors import ApiError, database_unavailable_error, unauthorized
from app.core.origins import refuse_server_credentials_from_browsers
from app.core.outages import database_outage, is_database_unavailable
from app.core.secrets import digest, is_well_formed

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


@dataclass(frozen=True)
class ApiKeyRecord:
    """What authenticating an API key needs, as cached in Redis by its digest."""

    key_id: str
    environment: str
    expires_at: float | None
    """Epoch seconds; None: never."""


ApiKeyLoader = Callable[[str], ApiKeyRecord | None]
"""digest → the usable key holding it (None: unknown, rotated, deleted or revoked)."""


@dataclass(frozen=True)
class Claim:
    """A credential checked as far as it can be without I/O."""

    kind: Kind
    subject: str
    """The hash tag of every Redis key about this subject: `key:<digest>` for an API key
    (its id is only known from its record), `dev:<id>` or `sdk:<id>` for a JWT."""
    principal: Principal | None = None
    """JWTs: who is calling, if not revoked. API keys: None until the record is read."""
    revocation_fields: tuple[str, ...] = ()


P = ParamSpec("P")
R = TypeVar("R")


def set_api_key_loader(app: Flask, loader: ApiKeyLoader) -> None:
    """The api_keys feature plugs its digest lookup in here (core never imports features)."""
    app.extensions["owa_api_key_loader"] = loader


def load_api_key(digest_of_secret: str) -> ApiKeyRecord | None:
    loader: ApiKeyLoader = current_app.extensions["owa_api_key_loader"]
    return loader(digest_of_secret)


def api_key_subject(digest_of_secret: str) -> str:
    return f"key:{digest_of_secret}"


def digest_of_subject(subject: str) -> str:
    return subject.removeprefix("key:")


def read_credential() -> str | None:
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized("Authorization header must be 'Bearer <token>'.")
        return value.strip()
    api_key = request.headers.get(API_KEY_HEADER)
    return api_key.strip() if api_key else None


def api_key_principal(record: ApiKeyRecord | None) -> Principal:
    """The caller holding this key record, or 401 for no record or an expired one."""
    if record is None:
        raise unauthorized("Invalid API key")
    if record.expires_at is not None and record.expires_at <= time.time():
        raise unauthorized("API key expired")
    return Principal(kind=Kind.API_KEY, subject_id=record.key_id)


def issue_access_token(
    kind: Kind,
    subject_id: str,
    session_id: str,
    expires_in: int,
    claims: dict[str, Any] | None = None,
) -> str:
    token: str = create_access_token(
        identity=subject_id,
        expires_delta=timedelta(seconds=expires_in),
        additional_claims={"type": kind.value, "sid": session_id, **(claims or {})},
    )
    return token


def verify_access_token(token: str) -> Principal:
    """Signature, expiry and claims: everything but revocation (no I/O)."""
    try:
        claims = decode_token(token)
    except pyjwt.ExpiredSignatureError as error:
        raise unauthorized("Token has expired.") from error
    except (pyjwt.PyJWTError, JWTExtendedException) as error:
        raise unauthorized("Invalid token.") from error
    if any(claims.get(name) in (None, "") for name in REQUIRED_CLAIMS):
        raise unauthorized("Invalid token.")
    if claims["type"] not in (Kind.DEVELOPER, Kind.SDK):
        raise unauthorized("Invalid token type.")
    return Principal(
        kind=Kind(claims["type"]),
        subject_id=claims["sub"],
        client_id=claims.get("app_id"),
        session_id=claims["sid"],
        token_id=claims["jti"],
        expires_at=claims["exp"],
        issued_at=claims["iat"],
    )


def token_revocation_fields(principal: Principal) -> tuple[str, ...]:
    return (
        revocation.token_field(principal.token_id or ""),
        revocation.session_field(principal.session_id or ""),
    )


def identify(credential: str) -> Claim:
    """The credential's kind and subject, or 401, without I/O."""
    if credential.startswith(API_KEY_PREFIXES):
        refuse_server_credentials_from_browsers()
        if not any(is_well_formed(credential, prefix) for prefix in API_KEY_PREFIXES):
            raise unauthorized("Invalid API key")
        return Claim(Kind.API_KEY, api_key_subject(digest(credential)))
    principal = verify_access_token(credential)
    return Claim(
        principal.kind,
        revocation.subject_of(principal.kind.value, principal.subject_id),
        principal,
        token_revocation_fields(principal),
    )


def token_not_revoked(principal: Principal) -> Principal:
    """`principal`, or 401 when its token or session was revoked."""
    subject = revocation.subject_of(principal.kind.value, principal.subject_id)
    if revocation.is_revoked(subject, principal.token_id or "", principal.session_id or ""):
        raise unauthorized("Token has been revoked.")
    return principal


def authenticate(credential: str) -> Principal:
    """The whole check without the admission's Redis call (see the module docstring)."""
    claim = identify(credential)
    if claim.principal is not None:
        return token_not_revoked(claim.principal)
    return api_key_principal(load_api_key(digest_of_subject(claim.subject)))


def decode_access_token(token: str) -> Principal:
    """A JWT that is valid and not revoked, checked on its own (refresh, revoke, introspect)."""
    return token_not_revoked(verify_access_token(token))


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
    resolved: Principal | ApiError | None = g.resolved_caller
    if isinstance(resolved, ApiError):
        raise resolved
    return resolved


def optional_principal() -> Principal | None:
    """The caller, or None when credentials are missing or rejected."""
    try:
        return load_principal()
    except ApiError:
        return None


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal


def current_principal_or_none() -> Principal | None:
    """The caller of a view that `requires(..., or_anonymous=True)`; None when anonymous."""
    principal: Principal | None = g.principal
    return principal


def requires(
    *kinds: Kind, or_anonymous: bool = False
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Only callers of these kinds reach the view; the rest get 401 (no or bad
    credentials) or 403 (valid credentials of another kind).

    When SDK tokens are allowed the view must take `user_id`, and an SDK token only
    passes for its own user. `allowed_kinds` stays on the view for the scope tests.
    `or_anonymous`: a request without credentials reaches the view too (which then
    checks another proof, e.g. the refresh cookie), with `g.principal` None.
    """
    allowed = frozenset(kinds)

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            principal = load_principal()
            if principal is None and or_anonymous:
                g.principal = None
                return view(*args, **kwargs)
            if principal is None:
                raise unauthorized("Not authenticated.")
            if principal.kind not in allowed:
                raise ApiError(403, f"{KIND_LABELS[principal.kind]} cannot access this endpoint.")
            if principal.kind is Kind.SDK and str(kwargs.get("user_id")) != principal.subject_id:
                raise ApiError(403, "This SDK token is not valid for this user.")
            g.principal = principal
            return view(*args, **kwargs)

        apidoc: dict[str, Any] = deepcopy(getattr(view, "_apidoc", {}))
        apidoc.setdefault("manual_doc", {})["security"] = [
            {"bearerAuth": []},
            *([{"apiKeyHeader": []}] if Kind.API_KEY in allowed else []),
        ]
        responses = apidoc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        responses.setdefault(403, []).append("FORBIDDEN")
        responses.setdefault(429, []).append("TOO_MANY_REQUESTS")
        # flask-smorest documents the view from `_apidoc`; the scope tests read `allowed_kinds`.
        vars(wrapper).update(_apidoc=apidoc, allowed_kinds=allowed)
        return wrapper

    return decorator
