"""The HTTP exchange itself, against a real receiver: at most 64 KiB of an answer is read, and a
receiver that does not answer in time is given up on."""

from __future__ import annotations

import pytest

from pressroom.kit.outbound_http import TargetPolicy, outbound_client, send_pinned
from pressroom.webhooks.delivery import MAX_RESPONSE_BYTES
from tests.webhooks.receiver import Receiver, running

POLICY = TargetPolicy(allow_http=True, allow_private=True)


class NoDns:
    async def resolve(self, host: str, port: int) -> list[object]:
        raise AssertionError("an address literal needs no resolution")


async def test_an_answer_is_read_up_to_64_kib() -> None:
    with running(Receiver(default=200, body=b"x" * (4 * 1024 * 1024))) as receiver:
        target = await POLICY.resolve(receiver.url, NoDns())  # type: ignore[arg-type]
        async with outbound_client(10) as client:
            reply = await send_pinned(
                client,
                target,
                content=b"{}",
                headers={},
                timeout_seconds=10,
                max_body_bytes=MAX_RESPONSE_BYTES,
            )
    assert reply.status == 200
    assert len(reply.body) == MAX_RESPONSE_BYTES


async def test_a_slow_receiver_is_given_up_on() -> None:
    with running(Receiver(delay_seconds=3)) as receiver:
        target = await POLICY.resolve(receiver.url, NoDns())  # type: ignore[arg-type]
        async with outbound_client(10) as client:
            with pytest.raises(TimeoutError):
                await send_pinned(
                    client,
                    target,
                    content=b"{}",
                    headers={},
                    timeout_seconds=0.5,
                    max_body_bytes=MAX_RESPONSE_BYTES,
                )
    assert len(receiver.arrivals) == 1
