"""A POST made at most once per Idempotency-Key: the door's half (kit/idempotency.py has the
mechanics, pressroom.idempotency the rules and storage).

`once` claims the key, runs the change with a receipt that records the reply in the change's own
transaction, and answers; a replay answers the first reply again, byte for byte.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request, Response

from pressroom.db.units import UnitOfWork
from pressroom.idempotency.service import Claim, ClaimReceipt
from pressroom.kit.idempotency import (
    REPLAYED_HEADER,
    RecordedReply,
    caller_scope,
    idempotency_key,
    request_fingerprint,
)
from pressroom.kit.responses import JsonResponse
from pressroom.services import Services

T = TypeVar("T")


async def once(
    request: Request,
    services: Services,
    uow: UnitOfWork,
    user_id: int | None,
    change: Callable[[ClaimReceipt[T] | None], Awaitable[T]],
    reply: Callable[[T], RecordedReply],
) -> Response:
    """The reply to `change`, made once per key: `user_id` None scopes the key to itself alone
    (an anonymous sign-up)."""
    key = idempotency_key(request.headers)
    if key is None:
        return _response(reply(await change(None)))
    fingerprint = request_fingerprint(
        services.idempotency_secret, request.method, request.url.path, await request.body()
    )
    begun = await services.idempotency.begin(uow, caller_scope(user_id), key, fingerprint)
    if isinstance(begun, RecordedReply):
        response = _response(begun)
        response.headers[REPLAYED_HEADER] = "true"
        return response
    claim: Claim = begun
    try:
        result = await change(claim.receipt(reply))
    except BaseException:
        await services.idempotency.abandon(uow, claim)
        raise
    return _response(claim.recorded or reply(result))


def _response(recorded: RecordedReply) -> Response:
    headers = {"Location": recorded.location} if recorded.location else None
    return Response(
        recorded.body,
        status_code=recorded.status,
        headers=headers,
        media_type=JsonResponse.media_type if recorded.body else None,
    )
