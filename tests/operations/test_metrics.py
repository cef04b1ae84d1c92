"""`/metrics`: requests by full route template and status, pool gauges, business counters."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import Person


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"refresh_reuse_grace_seconds": 0}


def sample(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    raise AssertionError(f"no {name}{{{wanted}}} in /metrics")


async def test_requests_are_counted_by_full_route_template_and_status(
    anon: httpx.AsyncClient, author: Person
) -> None:
    created = await author.post("/posts", json={"title": "T", "content": "C", "published": True})
    post_id = created.json()["id"]
    assert (await anon.get(f"/posts/{post_id}")).status_code == 200
    assert (await anon.get("/posts/999999")).status_code == 404
    metrics = (await anon.get("http://testserver/metrics")).text
    route = "/api/v1/posts/{post_id}"
    assert sample(metrics, "pressroom_http_requests_total", method="GET", route=route, status="200")
    assert sample(metrics, "pressroom_http_requests_total", method="GET", route=route, status="404")
    assert sample(
        metrics, "pressroom_http_request_duration_seconds_count", method="GET", route=route
    )


async def test_business_counters_and_pool_gauges(anon: httpx.AsyncClient, author: Person) -> None:
    await author.post("/posts", json={"title": "T", "content": "C", "published": True})
    await anon.post("/auth/login", json={"email": author.email, "password": "Wrong-Horse-1"})
    await anon.post("/auth/refresh", json={"refreshToken": author.refresh_token})
    await anon.post("/auth/refresh", json={"refreshToken": author.refresh_token})
    metrics = (await anon.get("http://testserver/metrics")).text
    for event in ("sign_up", "login", "login_failed", "post_published", "refresh_reuse_detected"):
        assert sample(metrics, "pressroom_events_total", event=event) >= 1, event
    assert sample(metrics, "pressroom_db_pool_size") >= 1
    for gauge in ("checked_out", "checked_in", "overflow"):
        assert sample(metrics, f"pressroom_db_pool_{gauge}") >= 0
