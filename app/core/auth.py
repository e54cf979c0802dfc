"""Who is calling: an API key, a developer access token or an SDK token.

Hot path: read the header → `identify` the credential without I/O (an API key's shape
and checksum, then its digest; a JWT's signature and claims) → one Redis call
(`app.core.admission`) answers whether the key exists or the token is revoked, admits
the request against the caller's limit and records an API key's last use → the handler.

`authenticate` is the same check without that call, for requests the admission does not
cover (limits switched off for the route) and while Redis is unreachable: API keys are
then looked up in PostgreSQL, JWT revocations read from it.
"""

import base64
import ipaddress
import time
from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache, wraps
from typing import Any, ParamSpec, TypeVar

import jwt as pyjwt
import sqlalchemy.exc
from flask import Flask, current_app, g, request
from flask_jwt_extended import JWTManager, create_access_token

from app.core import revocation
from app.core.client import Address, parse_address
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


API_KEY_SCOPES = {
    "users:read": "list and read end users",
    "users:write": "create, update and delete end users",
    "data:read": "read workouts and time series",
    "data:write": "ingest and delete workouts and time series",
    "tokens:introspect": "introspect tokens (RFC 7662)",
}
"""The vocabulary of API-key scopes: every route an API key can reach names one. A key
without scopes (null) has them all; scopes never restrict developers or SDK tokens."""
UNRESTRICTED = "*"
"""A key record's `scopes` / `allowed_ips` field for "no restriction"."""
IP_REFUSED = "This API key is not allowed from this IP address."
REFUSED_NETWORK_PREFIX = {4: 24, 6: 48}
"""A refused address is audited as its network of this size (IPv4 /24, IPv6 /48)."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

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
    scopes: frozenset[str] | None = None
    """API keys: the scopes it is restricted to; None: all of them."""
    allowed_networks: tuple[Network, ...] | None = None
    """API keys: the networks it may be used from; None: anywhere."""


@dataclass(frozen=True)
class ApiKeyRecord:
    """What authenticating an API key needs, as cached in Redis by its digest."""

    key_id: str
    environment: str
    expires_at: float | None
    """Epoch seconds; None: never."""
    scopes: tuple[str, ...] | None = None
    """None: every scope."""
    allowed_ips: tuple[str, ...] | None = None
    """Normalised CIDRs; None: anywhere."""


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


def restriction_field(values: Iterable[str] | None) -> str:
    """The compact form of a key's scopes or allowed networks in its Redis record."""
    return UNRESTRICTED if values is None else " ".join(values)


@lru_cache(maxsize=1024)
def scopes_of(field: str) -> frozenset[str] | None:
    return None if field == UNRESTRICTED else frozenset(field.split())


@lru_cache(maxsize=1024)
def networks_of(field: str) -> tuple[Network, ...] | None:
    """Parsed once per process for each distinct allowlist."""
    if field == UNRESTRICTED:
        return None
    return tuple(ipaddress.ip_network(cidr) for cidr in field.split())


@lru_cache(maxsize=4096)
def api_key_caller(key_id: str, scopes: str, allowed_ips: str) -> Principal:
    """The principal of a key from its record's fields (Redis) or its row (PostgreSQL);
    the same frozen principal for the same fields, built once per process."""
    return Principal(
        kind=Kind.API_KEY,
        subject_id=key_id,
        scopes=scopes_of(scopes),
        allowed_networks=networks_of(allowed_ips),
    )


def api_key_principal(record: ApiKeyRecord | None) -> Principal:
    """The caller holding this key record, or 401 for no record or an expired one."""
    if record is None:
        raise unauthorized("Invalid API key")
    if record.expires_at is not None and record.expires_at <= time.time():
        raise unauthorized("API key expired")
    return api_key_caller(
        record.key_id, restriction_field(record.scopes), restriction_field(record.allowed_ips)
    )


IpRefusalRecorder = Callable[[Principal, str, str], None]
"""(the key's principal, its subject, the refused network) → audited at most once an hour."""


def set_ip_refusal_recorder(app: Flask, recorder: IpRefusalRecorder) -> None:
    """The api_keys feature plugs in how a refused address is audited."""
    app.extensions["owa_ip_refusal_recorder"] = recorder


def client_address() -> Address | None:
    """The caller's address as ProxyFix left it (an IPv4-mapped IPv6 address as IPv4)."""
    return parse_address(request.remote_addr)


def allowed_here(principal: Principal, subject: str) -> Principal:
    """`principal`, or 403 when it is an API key used from outside its allowlist (the
    refusal is recorded for `subject`, the key's hash tag)."""
    networks = principal.allowed_networks
    if networks is None:
        return principal
    address = client_address()
    if address is not None and any(address in network for network in networks):
        return principal
    if address is not None:
        refused = ipaddress.ip_network(
            f"{address}/{REFUSED_NETWORK_PREFIX[address.version]}", strict=False
        )
        recorder: IpRefusalRecorder = current_app.extensions["owa_ip_refusal_recorder"]
        recorder(principal, subject, str(refused))
    raise ApiError(403, IP_REFUSED)


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


def _decoded_claims(token: str) -> dict[str, Any]:
    """The checks of flask-jwt-extended's `decode_token` (its JWT_DECODE_* settings), in
    one PyJWT decode. `decode_token` parses the token three times (unverified claims,
    unverified header, then verified), and PyJWT checks base64url character by character
    in Python: this costs about half (80 against 151 µs, measured alone). The header is
    read here, not with `jwt.get_unverified_header`, which would parse the whole token
    again; unverified, it only chooses the key, through the loader registered with
    flask-jwt-extended (`app.signing_keys`); the decode then checks the signature, the
    header's algorithm and the claims."""
    config = current_app.config
    segment = token.split(".", 1)[0]
    # The app's JSON provider: too deep a document is a ValueError, not a RecursionError.
    header = current_app.json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if not isinstance(header, dict):
        raise pyjwt.DecodeError("Invalid header")
    # The loader selects by the header alone: no claim is read before its signature.
    manager: JWTManager = current_app.extensions["flask-jwt-extended"]
    key = manager._decode_key_callback(header, {})
    audience = config["JWT_DECODE_AUDIENCE"]
    claims: dict[str, Any] = pyjwt.decode(
        token,
        key,
        algorithms=config["JWT_DECODE_ALGORITHMS"],
        audience=audience,
        issuer=config["JWT_DECODE_ISSUER"],
        leeway=config["JWT_DECODE_LEEWAY"],
        options={"verify_aud": audience is not None, "verify_sub": config["JWT_VERIFY_SUB"]},
    )
    return claims


def verify_access_token(token: str) -> Principal:
    """Signature, expiry and claims: everything but revocation (no I/O)."""
    try:
        claims = _decoded_claims(token)
    except pyjwt.ExpiredSignatureError as error:
        raise unauthorized("Token has expired.") from error
    except (pyjwt.PyJWTError, ValueError) as error:
        # ValueError: a header that is not base64url-encoded JSON.
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


def verify_credential(claim: Claim) -> Principal:
    """Everything but the allowlist, without the admission's Redis call: a JWT's
    revocations or an API key's row read from PostgreSQL."""
    if claim.principal is not None:
        return token_not_revoked(claim.principal)
    return api_key_principal(load_api_key(digest_of_subject(claim.subject)))


def authenticate(credential: str) -> Principal:
    """The whole check without the admission's Redis call (see the module docstring)."""
    claim = identify(credential)
    return allowed_here(verify_credential(claim), claim.subject)


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
    *kinds: Kind, or_anonymous: bool = False, scope: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Only callers of these kinds reach the view; the rest get 401 (no or bad
    credentials) or 403 (valid credentials of another kind, or an API key without
    `scope`).

    A view open to API keys names the scope (from API_KEY_SCOPES) a restricted key
    needs; it is documented as the operation's `x-required-scope`.

    When SDK tokens are allowed the view must take `user_id`, and an SDK token only
    passes for its own user. `allowed_kinds` stays on the view for the scope tests.
    `or_anonymous`: a request without credentials reaches the view too (which then
    checks another proof, e.g. the refresh cookie), with `g.principal` None.
    """
    allowed = frozenset(kinds)
    if (Kind.API_KEY in allowed) != (scope is not None) or (
        scope is not None and scope not in API_KEY_SCOPES
    ):
        raise ValueError(f"A view open to API keys names one scope of API_KEY_SCOPES: {scope}")

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
            if principal.scopes is not None and scope not in principal.scopes:
                raise ApiError(403, f"This API key lacks the scope '{scope}'.")
            g.principal = principal
            return view(*args, **kwargs)

        apidoc: dict[str, Any] = deepcopy(getattr(view, "_apidoc", {}))
        apidoc.setdefault("manual_doc", {})["security"] = [
            {"bearerAuth": []},
            *([{"apiKeyHeader": []}] if Kind.API_KEY in allowed else []),
        ]
        if scope is not None:
            apidoc["manual_doc"]["x-required-scope"] = scope
        responses = apidoc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        responses.setdefault(403, []).append("FORBIDDEN")
        responses.setdefault(429, []).append("TOO_MANY_REQUESTS")
        # flask-smorest documents the view from `_apidoc`; the scope tests read `allowed_kinds`.
        vars(wrapper).update(_apidoc=apidoc, allowed_kinds=allowed, required_scope=scope)
        return wrapper

    return decorator
