"""Who is calling: the client's address, taken from a trusted proxy's header when the request
comes through one (MOTCUA_TRUSTED_PROXIES), else the socket's peer. Every per-address limit
keys on this, so that a load balancer's own address never stands for all its clients."""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted(spec: str) -> tuple[_Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def _is_trusted(address: str, networks: tuple[_Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The nearest address in the forwarding chain that is not one of our proxies. A client can
    put anything in the header, so it is read right to left and only past trusted hops."""
    peer = request.META.get("REMOTE_ADDR") or None
    networks = _trusted(settings.TRUSTED_PROXIES)
    if peer is None or not _is_trusted(peer, networks):
        return peer
    header = request.META.get(settings.CLIENT_IP_HEADER, "")
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop if _valid(hop) else peer
    return hops[0] if hops and _valid(hops[0]) else peer


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
