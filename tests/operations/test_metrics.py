"""`/metrics`: requests by full route template and status, pool gauges, business counters;
with several workers, every scrape reports every worker."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict

from pressroom.db.migrate import migrate
from tests.conftest import Person
from tests.operations.processes import Server, running_server


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


TAGS_ROUTE = "/api/v1/tags"


def workers_directory(server: Server) -> Path:
    for line in server.logs().splitlines():
        if '"metrics_shared_by_workers"' in line:
            return Path(json.loads(line)["directory"])
    raise AssertionError(f"serve did not set up a metrics directory:\n{server.logs()}")


def tags_requests_by_worker(directory: Path) -> dict[str, float]:
    """What each worker's own file holds for GET /api/v1/tags, keyed by its process id."""
    counts: dict[str, float] = {}
    for path in directory.glob("counter_*.db"):
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            if TAGS_ROUTE in key and "pressroom_http_requests" in key:
                counts[path.stem.removeprefix("counter_")] = value
    return counts


def started_workers(server: Server, count: int) -> None:
    """Until `count` workers have started (including any that have since gone)."""
    deadline = time.monotonic() + 30
    while server.logs().count("Application startup complete") < count:
        assert time.monotonic() < deadline, server.logs()
        time.sleep(0.1)


def spread_requests(server: Server, directory: Path, workers: int = 2) -> int:
    """GET /tags until every worker has served some; how many were made."""
    started_workers(server, workers)
    # Each request on a connection of its own, several at once: both workers take some.
    # Batches go on until both have, so that a scrape reading one worker has something to miss.
    made = 0
    with ThreadPoolExecutor(8) as pool:
        while made == 0 or len(tags_requests_by_worker(directory)) < workers:
            assert made < 400, "every request landed on one worker"
            replies = list(pool.map(lambda _: httpx.get(server.api + "/tags"), range(16)))
            assert all(r.status_code == 200 for r in replies)
            made += len(replies)
    return made


def scrapes(server: Server, metric: str, **labels: str) -> list[float]:
    """Six scrapes, each on a connection of its own (so they land on either worker)."""
    return [sample(httpx.get(f"{server.url}/metrics").text, metric, **labels) for _ in range(6)]


def tags_counted(server: Server, made: int) -> list[float]:
    """Six scrapes of the GET /tags counter, once a scrape has seen all `made` requests: a
    worker counts a request after its reply has gone, so the last few may land just after the
    client has its answers."""
    labels = {"method": "GET", "route": TAGS_ROUTE, "status": "200"}
    deadline = time.monotonic() + 10
    metric = "pressroom_http_requests_total"
    while sample(httpx.get(f"{server.url}/metrics").text, metric, **labels) < made:
        assert time.monotonic() < deadline, "a scrape never counted every request"
    return scrapes(server, metric, **labels)


def pool_of_three(tmp_path: Path) -> dict[str, str]:
    """Settings for a server on a fresh SQLite file, three connections a worker."""
    database = f"sqlite:///{tmp_path / 'metrics.db'}"
    migrate(database)
    # No in-process job worker: it would open each process's pool at start, and these tests
    # count pools by the requests that opened them.
    return {"DATABASE_URL": database, "DATABASE_POOL_SIZE": "3", "WORKER_IN_PROCESS": "false"}


def test_with_two_workers_every_scrape_counts_every_workers_requests(tmp_path: Path) -> None:
    with running_server(tmp_path, workers=2, **pool_of_three(tmp_path)) as server:
        directory = workers_directory(server)
        made = spread_requests(server, directory)
        assert tags_counted(server, made) == [made] * 6
        # Pool gauges add up the workers' pools: twice one worker's.
        assert scrapes(server, "pressroom_db_pool_size") == [2 * 3] * 6
    # The private directory goes with the server.
    assert not directory.exists()


def test_a_worker_that_died_keeps_its_requests_but_not_its_pool(tmp_path: Path) -> None:
    with running_server(tmp_path, workers=2, **pool_of_three(tmp_path)) as server:
        directory = workers_directory(server)
        made = spread_requests(server, directory)
        victim = int(next(iter(tags_requests_by_worker(directory))))
        os.kill(victim, signal.SIGKILL)
        # The server replaces the worker; the replacement has not touched the database yet.
        started_workers(server, 3)
        assert tags_counted(server, made) == [made] * 6
        # The killed worker's three connections are gone with it: only the living count. A
        # scrape reads the job queue's figures from the database, so the replacement's pool
        # counts from the first scrape it answers: 3 or 6, never the dead worker's 9.
        assert set(scrapes(server, "pressroom_db_pool_size")) <= {3, 6}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_metrics_directory_the_operator_chose_is_emptied_at_start(
    tmp_path: Path, workers: int
) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    settings = {**pool_of_three(tmp_path), "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    with running_server(tmp_path, workers=workers, **settings) as server:
        spread_requests(server, directory, workers)
    # The same directory again: the last run's requests are not counted a second time.
    with running_server(tmp_path, workers=workers, **settings) as server:
        made = spread_requests(server, directory, workers)
        assert tags_counted(server, made) == [made] * 6
        # Only the workers' pools count, not the one serve builds to check the settings.
        assert scrapes(server, "pressroom_db_pool_size") == [workers * 3] * 6
    assert directory.exists()
