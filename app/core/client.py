"""Who is on the other end of the request, for the audit trail and rate limits."""

import ipaddress
from dataclasses import dataclass

from flask import request

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None
    user_agent: str | None


def client_info() -> ClientInfo:
    """`remote_addr` is the real client only through ProxyFix's configured hops."""
    user_agent = request.headers.get("User-Agent")
    return ClientInfo(ip=request.remote_addr, user_agent=user_agent[:255] if user_agent else None)


def parse_address(text: str | None) -> Address | None:
    """A client's address, with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, how a
    dual-stack listener reports an IPv4 client) as the IPv4 address it is; None for
    anything else than an address."""
    try:
        address = ipaddress.ip_address(text or "")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
