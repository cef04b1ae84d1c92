"""Who is on the other end: the peer address, or the one a trusted proxy forwarded for it.

`X-Forwarded-For` is anyone's to write, so it is believed only when the peer that sent it is
one of `TRUSTED_PROXIES` (addresses or CIDR blocks; none by default, not even loopback). The
list is read from the right: each hop a trusted proxy appended is believed, and the first
address not itself a trusted proxy is the client.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import Scope

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_STATE_KEY = "client_address"
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a sign-in comes from, shown back to the user in their sessions list."""

    ip: str | None = None
    user_agent: str | None = None

    @property
    def address(self) -> str:
        return self.ip or UNKNOWN_ADDRESS


class TrustedProxies:
    def __init__(self, entries: Iterable[str]) -> None:
        self.networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(entry.strip(), strict=False) for entry in entries
        )

    def trusts(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def client_of(self, scope: Scope) -> str | None:
        """The client's address for this request, worked out once and kept on the scope."""
        state = scope.setdefault("state", {})
        if _STATE_KEY not in state:
            state[_STATE_KEY] = self._resolve(scope)
        address: str | None = state[_STATE_KEY]
        return address

    def _resolve(self, scope: Scope) -> str | None:
        client = scope.get("client")
        peer = _parse(client[0]) if client else None
        if peer is None:
            return client[0] if client else None
        if not self.networks or not self.trusts(peer):
            return str(peer)
        current = peer
        for hop in reversed(_forwarded_for(scope)):
            address = _parse(hop)
            if address is None:
                # Garbage from beyond our proxies: the last trusted hop is all we know.
                break
            current = address
            if not self.trusts(address):
                break
        return str(current)


def _forwarded_for(scope: Scope) -> list[str]:
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops.extend(part.strip() for part in value.decode("latin-1").split(","))
    return [hop for hop in hops if hop]


@functools.lru_cache(maxsize=4096)  # every request parses its peer; peers repeat
def _parse(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 client reaching an IPv6 socket is still the IPv4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
