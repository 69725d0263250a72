"""Which address a request comes from: the peer, or behind trusted proxies the client they name.

X-Forwarded-For counts only when the peer is in MCP_TRUSTED_PROXIES; then the nearest hop that
is not itself a trusted proxy is the client. Everything that counts or limits per client
address (rate limits, listen caps, OAuth registrations, the access log) takes it from here,
so a server behind a balancer does not count every client as the balancer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import cache

from django.conf import settings
from django.http import HttpRequest


@cache
def trusted_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in settings.MCP_TRUSTED_PROXIES)


def is_trusted_proxy(addr: str) -> bool:
    networks = trusted_networks()
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, headers: Mapping[str, str]) -> str:
    """The peer, or, behind trusted proxies, the nearest untrusted X-Forwarded-For hop
    (``headers`` answers ``get`` for the lower-case name, as Django's ``request.headers`` does)."""
    if not peer or not is_trusted_proxy(peer):
        return peer
    hops = [hop.strip() for hop in headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            return hop
    return hops[0] if hops else peer


def request_address(request: HttpRequest) -> str:
    """``client_address`` of a Django request (any view, not only the MCP endpoint's)."""
    return client_address(str(request.META.get("REMOTE_ADDR") or ""), request.headers)
