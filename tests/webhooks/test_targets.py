"""SSRF guard: webhook URLs that reach non-public addresses are refused, at registration and
again at delivery against the address actually connected to (DNS rebinding)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from pressroom.jobs.worker import Worker
from pressroom.kit.outbound_http import IpAddress, TargetPolicy, TargetRefused, non_public_reason
from pressroom.services import Services
from tests.conftest import Person, assert_error
from tests.webhooks.receiver import Receiver

PUBLIC = "93.184.215.14"
REFUSED = {
    "IPv4 loopback": "127.0.0.1",
    "IPv4 loopback, not .1": "127.10.0.3",
    "IPv4 private 10/8": "10.1.2.3",
    "IPv4 private 172.16/12": "172.20.0.1",
    "IPv4 private 192.168/16": "192.168.1.10",
    "IPv4 link-local (cloud metadata)": "169.254.169.254",
    "IPv4 unspecified": "0.0.0.0",
    "IPv4 this network": "0.1.2.3",
    "IPv4 shared address space (CGNAT)": "100.64.0.1",
    "IPv4 multicast": "224.0.0.1",
    "IPv4 global-scope multicast": "233.252.0.1",
    "IPv4 reserved": "240.0.0.1",
    "IPv4 broadcast": "255.255.255.255",
    "IPv4 documentation": "192.0.2.1",
    "IPv4 benchmarking": "198.18.0.1",
    "IPv6 loopback": "::1",
    "IPv6 unspecified": "::",
    "IPv6 unique local": "fd00::1",
    "IPv6 link-local": "fe80::1",
    "IPv6 multicast": "ff02::1",
    "IPv6 global-scope multicast": "ff0e::1",
    "IPv6 documentation": "2001:db8::1",
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "IPv4-mapped private": "::ffff:10.0.0.1",
    "IPv4-mapped metadata": "::ffff:169.254.169.254",
    "NAT64 loopback": "64:ff9b::7f00:1",
    "6to4 of loopback": "2002:7f00:1::1",
    "6to4 of private": "2002:c0a8:101::1",
}


class StaticResolver:
    """Answers as a DNS server would, from a table the test changes as it goes."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IpAddress]:
        self.asked.append(host)
        return [ipaddress.ip_address(a) for a in self.answers.get(host, [])]


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_non_public_addresses_are_named(address: str) -> None:
    assert non_public_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_pass(address: str) -> None:
    assert non_public_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
async def test_a_name_resolving_to_a_refused_address_is_refused(address: str) -> None:
    policy = TargetPolicy(allow_http=False, allow_private=False)
    resolver = StaticResolver({"hooks.example.com": [PUBLIC, address]})
    with pytest.raises(TargetRefused, match="non-public"):
        await policy.resolve("https://hooks.example.com/in", resolver)


@pytest.mark.parametrize("address", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "10.0.0.1"])
async def test_an_address_literal_is_checked_without_dns(address: str) -> None:
    policy = TargetPolicy(allow_http=False, allow_private=False)
    resolver = StaticResolver({})
    with pytest.raises(TargetRefused, match="non-public"):
        await policy.resolve(f"https://{address}/in", resolver)
    assert resolver.asked == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/in", "https"),
        ("ftp://hooks.example.com/in", "https"),
        ("https:///in", "host"),
        ("https://user:pw@hooks.example.com/in", "credentials"),
        ("https://hooks.example.com:99999/in", "valid URL"),
        ("https://hooks.example.com/in#part", "fragment"),
        ("https://nowhere.example.com/in", "does not resolve"),
    ],
)
async def test_malformed_or_plain_http_urls_are_refused_in_production(
    url: str, message: str
) -> None:
    policy = TargetPolicy(allow_http=False, allow_private=False)
    resolver = StaticResolver({"hooks.example.com": [PUBLIC]})
    with pytest.raises(TargetRefused, match=message):
        await policy.resolve(url, resolver)


async def test_the_allow_private_setting_lets_loopback_through() -> None:
    policy = TargetPolicy(allow_http=True, allow_private=True)
    target = await policy.resolve("http://127.0.0.1:8080/in?x=1", StaticResolver({}))
    assert target.pinned_url == "http://127.0.0.1:8080/in?x=1"


async def test_the_request_goes_to_the_checked_address_with_the_name_as_host() -> None:
    policy = TargetPolicy(allow_http=False, allow_private=False)
    resolver = StaticResolver({"hooks.example.com": ["2606:4700:4700::1111"]})
    target = await policy.resolve("https://hooks.example.com:8443/in?x=1", resolver)
    assert target.pinned_url == "https://[2606:4700:4700::1111]:8443/in?x=1"
    assert target.host_header == "hooks.example.com:8443"
    assert target.host == "hooks.example.com"


class TestRegistration:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"webhook_allow_private_targets": False}

    async def test_a_loopback_url_is_refused_at_registration(self, admin: Person) -> None:
        reply = await admin.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/in", "events": ["post.created"]}
        )
        error = assert_error(reply, 400, "VALIDATION_ERROR")
        assert "loopback" in error["details"]["url"][0]

    async def test_a_rebinding_name_is_refused_at_delivery_and_nothing_is_sent(
        self,
        services: Services,
        admin: Person,
        author: Person,
        receiver: Receiver,
        worker: Worker,
    ) -> None:
        # Public when registered; the receiver's loopback address when the delivery resolves it.
        resolver = StaticResolver({"rebind.example.com": [PUBLIC]})
        services.webhooks.guard.resolver = resolver
        assert services.deliverer.guard is services.webhooks.guard
        url = f"http://rebind.example.com:{receiver.port}/hooks"
        reply = await admin.post("/webhooks", json={"url": url, "events": ["post.created"]})
        assert reply.status_code == 201, reply.text
        resolver.answers["rebind.example.com"] = ["127.0.0.1"]

        await author.post("/posts", json={"title": "T", "content": "C", "published": True})
        await worker.drain()

        assert receiver.arrivals == []
        log = (await admin.get(f"/webhooks/{reply.json()['id']}/deliveries")).json()["data"]
        assert log[-1]["status"] == "failed"
        assert "loopback" in log[-1]["error"]
        assert log[-1]["responseStatus"] is None
