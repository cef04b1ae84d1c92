"""Operational endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from pressroom.auth.dependencies import ServicesDep
from pressroom.kit.errors import ServiceUnavailable
from pressroom.kit.openapi import error_responses
from pressroom.kit.responses import JsonResponse
from pressroom.kit.shared_state import REDIS_FAILURES

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(Health):
    # "database", and "redis" when REDIS_URL is set: each "ok" (a failing check is the 503).
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, operation_id="getHealth")
async def healthz() -> Response:
    return JsonResponse({"status": "ok"})


@router.get(
    "/readyz",
    response_model=Readiness,
    responses=error_responses(503),
    operation_id="getReadiness",
)
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
    operation_id="getMetrics",
)
async def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
