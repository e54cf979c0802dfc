"""Server credentials stay on servers.

A browser names the page's origin in the `Origin` header of every cross-origin request
(and of same-origin writes); servers send none. An API key or an app secret arriving
with the origin of another site (`null` included: sandboxed frames, `file:` pages) was
put into client-side code, which the public docs forbid, so it is refused before any
lookup. The API's own pages (`/docs` "Try it out") share its origin and are unaffected.
"""

from flask import request

from app.core.errors import ApiError

SERVER_CREDENTIAL_DETAIL = (
    "API keys and app secrets are server credentials and cannot be used from a web "
    "page on another origin; use SDK tokens in browsers."
)


def own_origin() -> str:
    """`scheme://host[:port]` of this request as the client addressed it (after ProxyFix)."""
    return f"{request.scheme}://{request.host}".lower()


def is_from_another_origin() -> bool:
    origin = request.headers.get("Origin")
    return origin is not None and origin.strip().lower() != own_origin()


def refuse_server_credentials_from_browsers() -> None:
    """403 when a server credential comes from a web page of another origin."""
    if is_from_another_origin():
        raise ApiError(403, SERVER_CREDENTIAL_DETAIL)
