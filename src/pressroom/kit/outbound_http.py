"""Requests this server makes to addresses others chose (webhook URLs), guarded against SSRF.

A URL is refused when any address its host resolves to is not a public one (loopback, private,
link-local, multicast, reserved, unspecified, shared, documentation, and v4 addresses wrapped in
IPv6 forms). The check runs again before each request, and the request goes to the very address
that was checked: the URL's host is replaced by that IP, while the `Host` header and TLS's SNI
and certificate check keep the name (httpx's `sni_hostname` extension). So a name that resolved
to a public address at registration and to 127.0.0.1 a second later (DNS rebinding) reaches
nothing: the second answer is checked, refused, and never connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import SplitResult, urlsplit

import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_CHARS = 2048
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The URL may not be requested; the message says why, in terms its owner can act on."""


class Resolver(Protocol):
    """Host name to addresses. Injected, so tests can answer what DNS would (rebinding)."""

    async def resolve(self, host: str, port: int) -> list[IpAddress]: ...


class SystemResolver:
    async def resolve(self, host: str, port: int) -> list[IpAddress]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            return []
        return [ipaddress.ip_address(info[4][0]) for info in infos]


def non_public_reason(address: IpAddress) -> str | None:
    """Why `address` must not be connected to, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address inside an IPv6 one reaches that IPv4 address (mapped, NAT64, 6to4,
        # Teredo's client): judge what it carries. Python 3.11 calls ::ffff:127.0.0.1 "private"
        # and 64:ff9b::7f00:1 "global", so the wrapper alone decides wrongly both ways.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            reason = non_public_reason(embedded)
            return reason and f"{reason} (inside {address})"
    for reason, matches in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    ):
        if matches:
            return f"{address} is a {reason} address"
    return None


@dataclass(frozen=True, slots=True)
class Target:
    """A URL and the checked address to send it to."""

    url: str
    host: str
    address: IpAddress

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address (port, path and query kept)."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        return parts._replace(netloc=netloc).geturl()

    @property
    def host_header(self) -> str:
        parts = urlsplit(self.url)
        return parts.netloc.rpartition("@")[2]


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Which URLs may be requested: `https` only unless `allow_http`; public addresses only
    unless `allow_private` (a development or test rig whose receiver runs on this machine)."""

    allow_http: bool
    allow_private: bool

    def check_form(self, url: str) -> SplitResult:
        """The URL's syntax and scheme; raises `TargetRefused`. No network is used."""
        if len(url) > MAX_URL_CHARS:
            raise TargetRefused(f"must be at most {MAX_URL_CHARS} characters")
        if any(c.isspace() or ord(c) < 32 for c in url):
            raise TargetRefused("must not contain spaces or control characters")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (raises ValueError for a bad port)
        except ValueError:
            raise TargetRefused("is not a valid URL") from None
        schemes = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme not in schemes:
            raise TargetRefused(
                "must be an https URL" if not self.allow_http else "must be an http or https URL"
            )
        if not parts.hostname:
            raise TargetRefused("must name a host")
        if parts.username is not None or parts.password is not None:
            raise TargetRefused("must not carry credentials; use the signing secret instead")
        if parts.fragment:
            raise TargetRefused("must not have a fragment")
        return parts

    async def resolve(self, url: str, resolver: Resolver) -> Target:
        """The address to send `url` to, once every address of its host passed the check."""
        parts = self.check_form(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses: Sequence[IpAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = await resolver.resolve(host, port)
        if not addresses:
            raise TargetRefused(f"its host {host!r} does not resolve")
        if not self.allow_private:
            # Every answer is checked, not only the first: a name that answers one public and one
            # private address would otherwise reach the private one on the next resolution.
            for address in addresses:
                reason = non_public_reason(address)
                if reason is not None:
                    raise TargetRefused(f"resolves to a non-public address: {reason}")
        return Target(url, host, addresses[0])


class TargetGuard:
    """A policy and the resolver it asks, shared by registration and delivery. The resolver is
    an attribute so a test rig can answer as DNS would (a rebinding name) with no mock."""

    def __init__(self, policy: TargetPolicy, resolver: Resolver | None = None) -> None:
        self.policy = policy
        self.resolver: Resolver = resolver or SystemResolver()

    async def check(self, url: str) -> Target:
        return await self.policy.resolve(url, self.resolver)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes  # at most the `max_body_bytes` asked for; the rest is never read


def outbound_client(timeout_seconds: float) -> httpx.AsyncClient:
    """A client for `send_pinned`: no redirects followed, no proxy from the environment, and no
    kept connections: pinned URLs name an IP, and a connection opened for one host name (its
    SNI and certificate) must never carry a request for another name at the same address."""
    return httpx.AsyncClient(
        timeout=timeout_seconds,
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


async def send_pinned(
    client: httpx.AsyncClient,
    target: Target,
    *,
    content: bytes,
    headers: dict[str, str],
    timeout_seconds: float,
    max_body_bytes: int,
) -> Reply:
    """POST `content` to the checked address of `target`. The whole exchange, reading included,
    ends within `timeout_seconds` (httpx's own timeouts are per read, so a trickling receiver
    could otherwise hold a worker for ever). Raises httpx's errors and TimeoutError."""
    request = client.build_request(
        "POST",
        target.pinned_url,
        content=content,
        headers={**headers, "Host": target.host_header},
        extensions={"sni_hostname": target.host},
    )
    async with asyncio.timeout(timeout_seconds):
        response = await client.send(request, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) >= max_body_bytes:
                    break
            return Reply(response.status_code, bytes(body[:max_body_bytes]))
        finally:
            await response.aclose()
