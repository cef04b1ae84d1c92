"""Who the client is: `X-Forwarded-For` is believed only from `TRUSTED_PROXIES` (docs/api.md)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pressroom.kit.client_address import TrustedProxies
from tests.operations.processes import PRESSROOM, free_port, server_env


def client(proxies: list[str], peer: str, forwarded: str | None = None) -> str | None:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    scope = {"type": "http", "client": (peer, 50000), "headers": headers}
    return TrustedProxies(proxies).client_of(scope)


def test_by_default_no_proxy_is_trusted_not_even_loopback() -> None:
    assert client([], "127.0.0.1", "203.0.113.9") == "127.0.0.1"


def test_a_trusted_proxy_names_the_client() -> None:
    assert client(["10.0.0.0/8"], "10.1.2.3", "203.0.113.9") == "203.0.113.9"


def test_an_untrusted_peer_cannot_choose_its_address() -> None:
    assert client(["10.0.0.0/8"], "198.51.100.4", "203.0.113.9") == "198.51.100.4"


def test_hops_are_read_from_the_right_and_only_trusted_hops_are_skipped() -> None:
    # The client wrote "1.2.3.4" itself; the first untrusted hop from the right is the client.
    chain = "1.2.3.4, 203.0.113.9, 10.0.0.7"
    assert client(["10.0.0.0/8"], "10.0.0.1", chain) == "203.0.113.9"


def test_several_headers_count_as_one_list() -> None:
    scope = {
        "type": "http",
        "client": ("10.0.0.1", 1),
        "headers": [(b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-for", b"10.0.0.2")],
    }
    assert TrustedProxies(["10.0.0.0/8"]).client_of(scope) == "203.0.113.9"


@pytest.mark.parametrize("garbage", ["not-an-ip", "203.0.113.9:443", "", " , "])
def test_garbage_stops_at_the_last_trusted_hop(garbage: str) -> None:
    assert client(["10.0.0.0/8"], "10.0.0.1", f"{garbage}") == "10.0.0.1"


def test_ipv6_and_ipv4_mapped_peers() -> None:
    assert client(["::1/128"], "::1", "2001:db8::5") == "2001:db8::5"
    assert client(["127.0.0.1"], "::ffff:127.0.0.1", "203.0.113.9") == "203.0.113.9"


def test_a_bad_proxy_entry_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        TrustedProxies(["10.0.0.0/33"])


def test_serve_refuses_a_bad_trusted_proxies_entry_and_says_which(tmp_path: Path) -> None:
    env = server_env(DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}", TRUSTED_PROXIES="10.0.0.0/33")
    result = subprocess.run(
        [PRESSROOM, "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "TRUSTED_PROXIES" in result.stderr
    assert "10.0.0.0/33" in result.stderr
