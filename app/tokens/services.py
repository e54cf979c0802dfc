"""Revoke (RFC 7009) and introspect (RFC 7662) a token.

Both go through the same checks as an authenticated request (`decode_access_token`:
signature, claims, the revocation list) and the refresh-token store, so what they say
about a token is what every worker would do with it.
"""

from typing import Any

from app.audit import services as audit
from app.core.auth import Principal, decode_access_token
from app.core.client import ClientInfo
from app.core.errors import ApiError
from app.extensions import db
from app.refresh_tokens import services as refresh_tokens
from app.refresh_tokens.revocations import revoke_access_token

INACTIVE: dict[str, Any] = {"active": False}


def _valid_access_token(token: str) -> Principal | None:
    """The token's principal, or None for anything a request would refuse with 401
    (expired, revoked, malformed, unknown key). Other errors propagate."""
    try:
        return decode_access_token(token)
    except ApiError as error:
        if error.status == 401:
            return None
        raise


def revoke(token: str, client: ClientInfo) -> None:
    """A refresh token revokes its whole family (and the access tokens minted from it);
    an access token revokes itself. Unknown, invalid or already revoked tokens are no-ops:
    the caller is told nothing about them (RFC 7009 §2.2)."""
    if refresh_tokens.is_refresh_token(token):
        row = refresh_tokens.revoke_family_of(token)
        if row is not None:
            _record_revocation(
                audit.Actor(row.subject_type, row.subject_id), client, "session", row.family_id
            )
        return
    principal = _valid_access_token(token)
    if principal is None:
        return
    revoke_access_token(principal)
    _record_revocation(audit.Actor.of(principal), client, "access_token", principal.token_id)


def _record_revocation(actor: audit.Actor, client: ClientInfo, target_type: str, target_id) -> None:
    audit.record("token.revoked", actor, client, target_type, str(target_id))
    db.session.commit()


def introspect(token: str) -> dict[str, Any]:
    if refresh_tokens.is_refresh_token(token):
        row = refresh_tokens.find_usable(token)
        if row is None:
            return INACTIVE
        claims = {
            "token_type": "refresh_token",
            "type": row.subject_type,
            "sub": row.subject_id,
            "app_id": row.client_id,
            "iat": int(row.created_at.timestamp()),
            "exp": int(row.expires_at.timestamp()),
            "sid": str(row.family_id),
        }
    else:
        principal = _valid_access_token(token)
        if principal is None:
            return INACTIVE
        claims = {
            "token_type": "access_token",
            "type": principal.kind.value,
            "sub": principal.subject_id,
            "app_id": principal.client_id,
            "iat": principal.issued_at,
            "exp": principal.expires_at,
            "jti": principal.token_id,
            "sid": principal.session_id,
        }
    return {"active": True, **{name: value for name, value in claims.items() if value is not None}}
