"""Operational endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from pressroom.auth.dependencies import ServicesDep
from pressroom.kit.errors import ServiceUnavailable
from pressroom.kit.responses import JsonResponse
from pressroom.kit.shared_state import REDIS_FAILURES

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> Response:
    return JsonResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(services: ServicesDep) -> Response:
    """Ready when the database, and Redis when configured, answer."""
    try:
        async with services.db.read() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as error:
        raise ServiceUnavailable("The database is unreachable") from error
    checks = {"database": "ok"}
    if services.shared.uses_redis:
        try:
            await services.shared.ping()
        except REDIS_FAILURES as error:
            raise ServiceUnavailable("Redis is unreachable") from error
        checks["redis"] = "ok"
    return JsonResponse({"status": "ok", "checks": checks})


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
