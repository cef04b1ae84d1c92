"""Operational endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from pressroom.api.dependencies import ServicesDep, UnitDep
from pressroom.db.migrate import schema_state
from pressroom.kit.errors import ServiceUnavailable
from pressroom.kit.openapi import error_responses
from pressroom.kit.responses import JsonResponse
from pressroom.kit.shared_state import REDIS_FAILURES

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"]


class SchemaRevision(BaseModel):
    current: str | None
    expected: str


class Readiness(Health):
    # "database", and "redis" when REDIS_URL is set: each "ok" (a failing check is the 503).
    checks: dict[str, str]
    schema_: SchemaRevision = Field(alias="schema")


@router.get("/healthz", response_model=Health, operation_id="getHealth")
async def healthz() -> Response:
    return JsonResponse({"status": "ok"})


@router.get(
    "/readyz",
    response_model=Readiness,
    responses=error_responses(503),
    operation_id="getReadiness",
)
async def readyz(services: ServicesDep, uow: UnitDep) -> Response:
    """Ready when the database answers with the schema this release expects, and Redis (when
    configured) answers. A 503 says which check failed, in `details`."""
    failed: dict[str, list[str]] = {}
    checks: dict[str, str] = {}
    schema: dict[str, str | None] = {}
    try:
        async with uow.read() as conn:
            state = await schema_state(conn)
    except Exception:  # whatever the driver raises, the answer is the same: not ready
        failed["database"] = ["unreachable"]
    else:
        checks["database"] = "ok"
        schema = {"current": state.current, "expected": state.expected}
        if not state.is_current:
            failed["schema"] = [state.describe() + "; run `pressroom migrate`"]
    if services.shared.uses_redis:
        try:
            await services.shared.ping()
        except REDIS_FAILURES:
            failed["redis"] = ["unreachable"]
        else:
            checks["redis"] = "ok"
    if failed:
        raise ServiceUnavailable(
            "Not ready: " + ", ".join(_NOT_READY[name] for name in failed), details=failed
        )
    return JsonResponse({"status": "ok", "checks": checks, "schema": schema})


_NOT_READY = {
    "database": "the database is unreachable",
    "schema": "the database schema is not the one this release expects",
    "redis": "Redis is unreachable",
}


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
    operation_id="getMetrics",
)
async def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
