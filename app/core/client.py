"""Who is on the other end of the request, for the audit trail and rate limits."""

from dataclasses import dataclass

from flask import request


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None
    user_agent: str | None


def client_info() -> ClientInfo:
    """`remote_addr` is the real client only through ProxyFix's configured hops."""
    user_agent = request.headers.get("User-Agent")
    return ClientInfo(ip=request.remote_addr, user_agent=user_agent[:255] if user_agent else None)
