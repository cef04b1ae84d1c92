"""`make bench`: Pressroom next to R (bench/reference.py) and L (bench/lean.py), in one run.

Creates a throwaway PostgreSQL database, fills it with `pressroom seed-demo` (1,000 users,
10,000 posts, 50 tags), signs in a demo user, then runs each scenario with wrk and prints one
table; the last line is `list ratio vs reference: 0.NN`. Results go to bench/results/ (JSON and
a PNG). Everything it starts it stops, and the database is dropped at the end.

Where a scenario compares Pressroom with R and L, they are measured in alternating slices
(P, R, P anonymous, L, then the reverse, ...) so that load from elsewhere on a shared machine
falls on all alike: P/R on the signed-in request R serves, P/L on the anonymous one L serves.
The list and one post are compared at BENCH_WORKERS workers (2) and again at one worker.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx

import redis_round_trips  # bench/ is on the path: this file runs as a script
from webhook_deliveries import Receiver

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
LUA = BENCH_DIR / "scenario.lua"
BIN = Path(sys.executable).parent
POSTGRES_ADMIN_DSN = os.environ.get(
    "PRESSROOM_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DEMO_PASSWORD = "DemoPassw0rd!"  # pressroom.demo.DEMO_PASSWORD
DEMO_EMAIL = "user{}@demo.pressroom.test"
SLICE_SECONDS = float(os.environ.get("BENCH_SLICE_SECONDS", "4"))
SLICES = int(os.environ.get("BENCH_SLICES", "2"))
SOLO_SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
WARMUP_SECONDS = 2.0
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# While changing the hot path: only the side-by-side scenarios (a), (b) and (c), in a minute.
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
CONNECTIONS = 64
WRK_THREADS = 2
LOGINS_PER_SECOND = 20.0
QUANTILE_STEPS = 200  # the Lua script reports the latency at every 0.5th percentile
P_PORT, R_PORT, SQLITE_PORT, L_PORT, CACHED_PORT = 18100, 18101, 18102, 18103, 18104
WRITES_PER_SECOND = 20.0
SIGN_UP_CONNECTIONS = 8
# (a) to (i) measure the uncached path: their Pressroom runs with the hot-read cache off.
# (j) to (l) run another Pressroom with its default settings, the cache on.
UNCACHED = {"HOT_READ_CACHE_SECONDS": "0"}
LIST_PATH = "/api/v1/posts?limit=20"
ME_PATH = "/api/v1/users/me"
# The same data as (a): 20 published posts with author profile and tags, and the total.
GRAPHQL_LIST_QUERY = os.environ.get(
    "BENCH_GRAPHQL_QUERY",
    "{ posts(first: 20) { totalCount edges { node { id title content published publishedAt "
    "createdAt updatedAt author { id profile { firstName lastName avatarUrl bio } } "
    "tags { id name slug } } } } }",
)


# -- Measurements -----------------------------------------------------------------------
@dataclass
class Run:
    """One or more wrk runs of the same target, merged."""

    requests: int = 0
    duration_s: float = 0.0
    quantiles_us: list[tuple[float, float]] = field(default_factory=list)  # (latency, weight)
    connect_errors: int = 0
    read_errors: int = 0
    write_errors: int = 0
    non_2xx: int = 0
    timeouts: int = 0
    cpu_s: float = 0.0  # CPU time of the server's processes while wrk ran

    def add(self, report: dict[str, Any]) -> None:
        self.requests += report["requests"]
        self.duration_s += report["duration_us"] / 1e6
        weight = report["requests"] / QUANTILE_STEPS
        self.quantiles_us.extend((q, weight) for q in report["quantiles_us"])
        for key in ("connect_errors", "read_errors", "write_errors", "non_2xx", "timeouts"):
            setattr(self, key, getattr(self, key) + report[key])

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def percentile_ms(self, p: float) -> float:
        """The p-th percentile of the merged slices (each slice's quantiles, weighted)."""
        points = sorted(self.quantiles_us)
        total = sum(w for _, w in points)
        if not total:
            return 0.0
        running = 0.0
        for latency, weight in points:
            running += weight
            if running >= total * p / 100:
                return latency / 1000
        return points[-1][0] / 1000

    @property
    def errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.duration_s, 2),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile_ms(50), 2),
            "p99_ms": round(self.percentile_ms(99), 2),
            "socket_errors": self.connect_errors + self.read_errors + self.write_errors,
            "timeouts": self.timeouts,
            "non_2xx": self.non_2xx,
            "server_cpu_ms_per_request": round(self.cpu_s * 1000 / self.requests, 2)
            if self.requests
            else None,
        }


def wrk(
    url: str,
    seconds: float,
    *,
    token: str | None,
    connections: int = CONNECTIONS,
    method: str = "GET",
    body: str | None = None,
    delay_ms: float = 0.0,
    if_none_match: str | None = None,
) -> dict[str, Any]:
    env = {**os.environ, "BENCH_TOKEN": token or "", "BENCH_METHOD": method}
    if if_none_match is not None:
        env["BENCH_IF_NONE_MATCH"] = if_none_match
    if body is not None:
        env["BENCH_BODY"] = body
    if delay_ms:
        env["BENCH_DELAY_MS"] = f"{delay_ms:.3f}"
    command = [
        "wrk",
        f"-t{min(WRK_THREADS, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(LUA),
        url,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            report: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return report
    raise RuntimeError(f"wrk printed no report:\n{done.stdout}\n{done.stderr}")


def measure(url: str, seconds: float, server: Server | None = None, **options: Any) -> Run:
    run = Run()
    measured_into(run, server, url, seconds, **options)
    return run


def measured_into(
    run: Run, server: Server | None, url: str, seconds: float, **options: Any
) -> None:
    """One wrk run added to `run`, with the CPU the server spent meanwhile: unlike requests/s,
    CPU per request hardly moves when other work on a shared machine takes cores away."""
    before = server.cpu_seconds() if server else 0.0
    run.add(wrk(url, seconds, **options))
    if server:
        run.cpu_s += server.cpu_seconds() - before


def side_by_side(path: str, *targets: tuple[Any, ...]) -> list[Run]:
    """Each (server, token[, wrk options]) in alternating slices, after a warm-up of each; a run
    per target."""
    plans = [(t[0], t[1], t[2] if len(t) == 3 else {}) for t in targets]
    for server, token, options in plans:
        wrk(server.base + path, WARMUP_SECONDS, token=token, **options)
    runs = [Run() for _ in plans]
    for index in range(SLICES):
        order = list(zip(plans, runs, strict=True))
        for (server, token, options), run in order if index % 2 == 0 else reversed(order):
            measured_into(run, server, server.base + path, SLICE_SECONDS, token=token, **options)
    return runs


# -- Processes ----------------------------------------------------------------------------
class Server:
    """A server process group this run started; stopped by its own process id."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.port = port
        self.log_path = Path(tempfile.gettempdir()) / f"pressroom-bench-{name}-{port}.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            # Not yet in anyone's list to stop: a server that failed to come up must not live
            # on holding its port (its workers restarting against a dropped database).
            self.stop()
            raise

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def cpu_seconds(self) -> float:
        """User and system CPU of every process in the server's session (it leads one)."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[3]) == self.process.pid:  # field 6: session id
                    total += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def pressroom(name: str, env: dict[str, str], port: int, workers: int) -> Server:
    command = [str(BIN / "pressroom"), "serve", "--port", str(port), "--workers", str(workers)]
    return Server(name, command, env, port)


def reference(env: dict[str, str], port: int, workers: int, module: str = "reference") -> Server:
    command = [
        str(BIN / "uvicorn"),
        f"bench.{module}:app",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--no-server-header",
        "--log-level",
        "warning",
    ]
    return Server(module, command, env, port)


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(BIN / "pressroom"), *args],
        env={**os.environ, **env},
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    name = f"pressroom_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(sql: str, dsn: str = POSTGRES_ADMIN_DSN) -> Any:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


# -- HTTP helpers -------------------------------------------------------------------------
def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def sign_in(base: str, user_number: int = 1) -> str:
    status, body = http(
        "POST",
        f"{base}/api/v1/auth/login",
        {"email": DEMO_EMAIL.format(user_number), "password": DEMO_PASSWORD},
    )
    if status != 200:
        raise RuntimeError(f"sign-in failed with {status}: {body[:300]!r}")
    token: str = json.loads(body)["accessToken"]
    return token


def same_answer(p_base: str, other_base: str, path: str, token: str | None) -> bool:
    """R and L must serve Pressroom's bytes, or the comparison means nothing."""
    p_status, p_body = http("GET", p_base + path, token=token)
    other_status, other_body = http("GET", other_base + path, token=token)
    return p_status == other_status == 200 and p_body == other_body


class OpenLoop:
    """Open-loop requests at a fixed rate from a thread: one starts every 1/rate seconds
    whatever the previous ones are doing, so slow answers do not lower the offered load.
    Subclasses say what one request is (`_send`)."""

    def __init__(self, base: str, per_second: float) -> None:
        self.base, self.per_second = base, per_second
        self.statuses: list[int] = []
        self.latencies_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> OpenLoop:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(60)

    async def _run(self) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            tasks: list[asyncio.Task[None]] = []
            started = time.monotonic()
            n = 0
            while not self._stop.is_set():
                n += 1
                tasks.append(asyncio.create_task(self._timed(client, n)))
                await asyncio.sleep(max(0.0, started + n / self.per_second - time.monotonic()))
            await asyncio.gather(*tasks)

    async def _timed(self, client: httpx.AsyncClient, n: int) -> None:
        began = time.monotonic()
        try:
            self.statuses.append((await self._send(client, n)).status_code)
        except httpx.HTTPError:
            self.statuses.append(0)
        self.latencies_ms.append((time.monotonic() - began) * 1000)

    async def _send(self, client: httpx.AsyncClient, n: int) -> httpx.Response:
        raise NotImplementedError


class LoginLoad(OpenLoop):
    """Sign-ins of demo users 2 and up, in turn."""

    def __init__(self, base: str, per_second: float, users: int) -> None:
        super().__init__(base, per_second)
        self.users = users

    async def _send(self, client: httpx.AsyncClient, n: int) -> httpx.Response:
        user_number = 2 + n % (self.users - 1)
        return await client.post(
            "/api/v1/auth/login",
            json={"email": DEMO_EMAIL.format(user_number), "password": DEMO_PASSWORD},
        )


class EditLoad(OpenLoop):
    """Edits of one published post (a new title each time): each one a change that empties
    the hot-read cache of every list it is in."""

    def __init__(self, base: str, per_second: float, token: str, post_path: str) -> None:
        super().__init__(base, per_second)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.post_path = post_path

    async def _send(self, client: httpx.AsyncClient, n: int) -> httpx.Response:
        return await client.patch(
            self.post_path, json={"title": f"Edited {n}"}, headers=self.headers
        )


# -- The table ----------------------------------------------------------------------------
@dataclass
class Row:
    key: str
    title: str
    pressroom: dict[str, Any] | None
    reference: dict[str, Any] | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


def ratio_of(p: Run, r: Run) -> float:
    return p.rps / r.rps if r.rps else 0.0


def format_table(rows: list[Row]) -> str:
    def num(value: Any, digits: int = 0) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    header = (
        f"{'scenario':<40} {'P req/s':>8} {'P p50':>7} {'P p99':>7} "
        f"{'ref r/s':>8} {'ref p50':>7} {'ref p99':>7} {'P/ref':>6}  {'target':<22} met  note"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        p, r = row.pressroom or {}, row.reference or {}
        met = {True: "yes", False: "NO", None: "-"}[row.met]
        lines.append(
            f"{row.key + ' ' + row.title:<40} {num(p.get('rps')):>8} "
            f"{num(p.get('p50_ms'), 1):>7} {num(p.get('p99_ms'), 1):>7} "
            f"{num(r.get('rps')):>8} {num(r.get('p50_ms'), 1):>7} {num(r.get('p99_ms'), 1):>7} "
            f"{num(row.ratio, 2):>6}  {row.target:<22} {met:<4} {row.note}"
        )
    lines.append(
        "latencies in ms; P = Pressroom; ref = R (bench/reference.py), or L (bench/lean.py) in the "
        "rows marked L, where both P and L are asked anonymously; 1w = one worker each"
    )
    return "\n".join(lines)


def plot(rows: list[Row], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [row for row in rows if row.pressroom and row.key.startswith("(")]
    labels = [f"{row.key}\n{row.title[:22]}" for row in shown]
    xs = range(len(shown))
    width = 0.4
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(12, 8))
    for axis, metric, label in ((top, "rps", "requests/s"), (bottom, "p99_ms", "p99 (ms)")):
        p_values = [(row.pressroom or {}).get(metric, 0) for row in shown]
        r_values = [(row.reference or {}).get(metric, 0) for row in shown]
        axis.bar([x - width / 2 for x in xs], p_values, width, label="Pressroom")
        axis.bar([x + width / 2 for x in xs], r_values, width, label="reference (R, or L)")
        axis.set_ylabel(label)
        axis.set_xticks(list(xs), labels, fontsize=8)
        axis.legend()
    top.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


# -- Scenarios ----------------------------------------------------------------------------
def new_post_body() -> str:
    return json.dumps(
        {
            "title": "Bench post {n}",
            "content": "Written by the benchmark. " * 20,
            "published": True,
            "tags": ["Topic 1", "Bench"],
        }
    )


def graphql_body(query: str) -> str:
    return json.dumps({"query": query})


def run_all() -> dict[str, Any]:
    began = time.monotonic()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (make bench installs it with apt-get)")
    rows: list[Row] = []
    secret = secrets.token_urlsafe(48)
    base_env = {
        "JWT_SECRET": secret,
        # The benchmark is one client address hammering one account: the default limits
        # (docs/api.md) would answer 429 within a second. Their own cost is measured elsewhere.
        "RATE_LIMITS_ENABLED": "false",
        "PRESSROOM_ENV": "development",
    }
    load_before = os.getloadavg()
    with throwaway_postgres() as database_url:
        env = {**base_env, "DATABASE_URL": database_url}
        step("migrate and seed-demo (1,000 users, 10,000 posts, 50 tags)")
        cli(env, "migrate")
        cli(env, "seed-demo", "--users", "1000", "--posts", "10000", "--tags", "50")
        # What autovacuum does on its own a little later on a real server: fresh statistics and
        # a visibility map, so plans and index-only scans are those of a settled database.
        asyncio.run(_admin("VACUUM ANALYZE", database_url))

        with three_servers(env, WORKERS) as (p, r, lean):
            rows.extend(postgres_scenarios(p, r, lean, env))
        if WORKERS != 1:  # the anonymous reads again at one worker, where no worker idles
            with three_servers(env, 1) as (p, r, lean):
                rows.extend(compared_rows(p, r, lean, [c for c in COMPARED if c.lean], " 1w")[0])
        rows.extend(webhook_pass(env))

        if QUICK:
            return _result(rows, began, load_before)
        step("one worker, 256 connections")
        single = pressroom("pressroom-1w", {**env, **UNCACHED}, P_PORT, 1)
        try:
            token = sign_in(single.base)
            run = measure(
                single.base + LIST_PATH, SOLO_SECONDS, single, token=token, connections=256
            )
            s = run.summary()
            bad = run.errors + run.non_2xx
            rows.append(
                Row(
                    "(i)",
                    "list, 1 worker, 256 connections",
                    s,
                    target="0 errors/timeouts",
                    met=bad == 0,
                    note=f"socket errors {s['socket_errors']}, timeouts {s['timeouts']}, "
                    f"non-2xx {s['non_2xx']}",
                )
            )
        finally:
            single.stop()
        rows.extend([*sqlite_mode_rows(base_env, env), fresh_postgres_row(base_env, env)])

    rows.append(sqlite_writers(base_env))
    return _result(rows, began, load_before)


def redis_figures() -> dict[str, float] | None:
    step("Redis round trips per request (private redis-server, rate limits on)")
    try:
        return redis_round_trips.measure()
    except (RuntimeError, OSError, subprocess.CalledProcessError, httpx.HTTPError) as error:
        step(f"Redis round trips not measured: {error}")
        return None


def _result(
    rows: list[Row], began: float, load_before: tuple[float, float, float]
) -> dict[str, Any]:
    elapsed = time.monotonic() - began
    list_row = next(row for row in rows if row.key == "(a)")
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(elapsed, 1),
        "machine": machine(load_before),
        "settings": {
            "workers": WORKERS,
            "connections": CONNECTIONS,
            "wrk_threads": WRK_THREADS,
            "slice_seconds": SLICE_SECONDS,
            "slices": SLICES,
            "solo_seconds": SOLO_SECONDS,
        },
        "rows": [asdict(row) for row in rows],
        "list_ratio": list_row.ratio,
        "list_ratio_lean": next(row.ratio for row in rows if row.key == "(a) L"),
        "redis_round_trips_per_request": redis_figures(),
    }
    return result


@dataclass
class Compared:
    key: str
    title: str
    path: str  # "{post}" stands for a published post's path
    wanted: float
    target: str
    lean: bool  # L serves it too (the anonymous reads)


COMPARED = [
    Compared("(a)", "GET /posts?limit=20", LIST_PATH, 0.85, ">= 0.85 R (floor .75)", True),
    Compared("(b)", "GET /posts/{id}", "{post}", 0.8, ">= 0.8 R", True),
    Compared("(c)", "GET /users/me", ME_PATH, 0.8, ">= 0.8 R", False),
]


@contextmanager
def three_servers(env: dict[str, str], workers: int) -> Iterator[tuple[Server, Server, Server]]:
    step(f"starting Pressroom, R and L, {workers} worker(s) each")
    started: list[Server] = []
    try:
        started.append(pressroom("pressroom", {**env, **UNCACHED}, P_PORT, workers))
        started.append(reference(env, R_PORT, workers))
        started.append(reference(env, L_PORT, workers, "lean"))
        yield started[0], started[1], started[2]
    finally:
        for server in started:
            server.stop()


def cpu_note(p_run: Run, other: Run, name: str) -> str:
    p_ms = p_run.summary()["server_cpu_ms_per_request"]
    other_ms = other.summary()["server_cpu_ms_per_request"]
    return f"CPU/request P {p_ms} ms, {name} {other_ms} ms"


def compared_rows(
    p: Server, r: Server, lean: Server, scenarios: list[Compared], workers: str = ""
) -> tuple[list[Row], dict[str, Run], str]:
    """P/R (signed in, as R checks the token) and P/L (anonymous, as L serves) for each scenario,
    after checking that R and L answer with Pressroom's bytes. `workers` marks the rows of a
    pass at another worker count; those carry no target."""
    token = sign_in(p.base)
    _, body = http("GET", p.base + LIST_PATH)
    one_post = f"/api/v1/posts/{json.loads(body)['data'][0]['id']}"
    for c in scenarios:
        path = c.path.replace("{post}", one_post)
        if not same_answer(p.base, r.base, path, token):
            raise RuntimeError(f"R and Pressroom answer {path} differently; fix R first")
        if c.lean and not same_answer(p.base, lean.base, path, None):
            raise RuntimeError(f"L and Pressroom answer {path} differently; fix L first")

    rows: list[Row] = []
    runs: dict[str, Run] = {}
    for c in scenarios:
        key = f"{c.key}{workers}"
        path = c.path.replace("{post}", one_post)
        step(f"{key} {c.title}" + (" vs R and L" if c.lean else " vs R"))
        targets = [(p, token), (r, token)] + ([(p, None), (lean, None)] if c.lean else [])
        p_run, r_run, *anonymous = side_by_side(path, *targets)
        runs[key] = p_run
        ratio = ratio_of(p_run, r_run)
        target, met = (c.target, ratio >= c.wanted) if not workers else ("", None)
        note = cpu_note(p_run, r_run, "R")
        title = f"{c.title}, auth" if c.lean else c.title
        rows.append(Row(key, title, p_run.summary(), r_run.summary(), ratio, target, met, note))
        if anonymous:
            pa_run, l_run = anonymous
            runs[f"{key} anon"] = pa_run
            rows.append(
                Row(
                    f"{c.key} L{workers}",
                    f"{c.title}, anon",
                    pa_run.summary(),
                    l_run.summary(),
                    ratio_of(pa_run, l_run),
                    note=cpu_note(pa_run, l_run, "L"),
                )
            )
    return rows, runs, token


def postgres_scenarios(p: Server, r: Server, lean: Server, env: dict[str, str]) -> list[Row]:
    rows, runs, token = compared_rows(p, r, lean, COMPARED)
    rows.extend(cached_scenarios(env, r, lean, token, runs["(a) anon"]))
    if QUICK:
        return rows
    pa = runs["(a)"]

    rows.append(graphql_scenario(p, token, pa))

    step("(e) POST /posts")
    pe = measure(
        p.base + "/api/v1/posts", SOLO_SECONDS, p, token=token, method="POST", body=new_post_body()
    )
    e = pe.summary()
    rows.append(
        Row(
            "(e)",
            "POST /posts",
            e,
            note=f"non-2xx {e['non_2xx']}, socket errors {e['socket_errors']}",
        )
    )

    rows.append(signups_scenario(p, env))

    step("(f) post list while 20 logins/s run")
    with LoginLoad(p.base, LOGINS_PER_SECOND, users=1000) as logins:
        pf = measure(p.base + LIST_PATH, SOLO_SECONDS, p, token=token)
    rise = pf.percentile_ms(99) / pa.percentile_ms(99) if pa.percentile_ms(99) else 0.0
    ok = sum(1 for s in logins.statuses if s == 200)
    login_rate = len(logins.statuses) / SOLO_SECONDS
    rows.append(
        Row(
            "(f)",
            "(a) + 20 logins/s",
            pf.summary(),
            ratio=rise,
            target="p99 <= 2x (a)",
            met=rise <= 2.0,
            note=f"ratio = p99 / (a) p99; logins {login_rate:.1f}/s, {ok} ok of "
            f"{len(logins.statuses)}, login p50 {percentile(logins.latencies_ms, 50):.0f} ms",
        )
    )

    step("(h) half of the maximum throughput, 64 connections")
    target_rps = pa.rps / 2
    # Closed loop with think time: each of the 64 connections pauses a random (exponential)
    # time with mean 64/target between requests, so the offered rate is about half the maximum.
    delay_ms = CONNECTIONS / target_rps * 1000
    ph = measure(p.base + LIST_PATH, SOLO_SECONDS, p, token=token, delay_ms=delay_ms)
    h = ph.summary()
    rows.append(
        Row(
            "(h)",
            "list at ~half max rate, 64 conns",
            h,
            target="p99 <= 20 ms",
            met=h["p99_ms"] <= 20,
            note=f"paced by wrk delay(); achieved {h['rps'] / pa.rps:.0%} of (a)'s max",
        )
    )
    return rows


def cached_scenarios(
    env: dict[str, str], r: Server, lean: Server, token: str, uncached_anonymous: Run
) -> list[Row]:
    """(j) the anonymous list from a warm hot-read cache, (k) the same revalidated (304s), both
    against R (the signed-in list from the database: no cache) and L (the anonymous one), and
    (l) the cached list's p99 while 20 edits a second empty the cache, against the uncached
    anonymous list's p99 of (a)."""
    rows: list[Row] = []
    step(f"starting Pressroom with its hot-read cache, {WORKERS} worker(s)")
    cached = pressroom("pressroom-cached", env, CACHED_PORT, WORKERS)
    try:
        if not same_answer(cached.base, lean.base, LIST_PATH, None):
            raise RuntimeError("the cached list and L answer differently; fix that first")
        step("(j) anonymous list, warm cache, vs R and L")
        cj, rj, lj = side_by_side(LIST_PATH, (cached, None), (r, token), (lean, None))
        ratio = ratio_of(cj, rj)
        rows.append(
            Row(
                "(j)",
                "list, anon, warm cache",
                cj.summary(),
                rj.summary(),
                ratio,
                target=">= 3 R",
                met=ratio >= 3,
                note=f"vs L {ratio_of(cj, lj):.2f}; {cpu_note(cj, rj, 'R')}",
            )
        )

        step("(k) anonymous list revalidated with If-None-Match (304s), vs R and L")
        with urllib.request.urlopen(cached.base + LIST_PATH, timeout=30) as reply:
            tag = reply.headers["ETag"]
        revalidate = {"if_none_match": tag}
        ck, rk, lk = side_by_side(LIST_PATH, (cached, None, revalidate), (r, token), (lean, None))
        ratio = ratio_of(ck, rk)
        rows.append(
            Row(
                "(k)",
                "list, anon, If-None-Match: 304",
                ck.summary(),
                rk.summary(),
                ratio,
                target=">= 5 R",
                met=ratio >= 5,
                note=f"vs L {ratio_of(ck, lk):.2f}; {cpu_note(ck, rk, 'R')}",
            )
        )

        step("(l) anonymous list while 20 edits/s invalidate the cache")
        status, body = http(
            "POST",
            cached.base + "/api/v1/posts",
            {"title": "Edited 0", "content": "Benchmark edits", "published": True},
            token,
        )
        if status != 201:
            raise RuntimeError(f"creating the post to edit failed with {status}: {body[:300]!r}")
        post_path = f"/api/v1/posts/{json.loads(body)['id']}"
        with EditLoad(cached.base, WRITES_PER_SECOND, token, post_path) as edits:
            cl = measure(cached.base + LIST_PATH, SOLO_SECONDS, cached, token=None)
        base_p99 = uncached_anonymous.percentile_ms(99)
        rise = cl.percentile_ms(99) / base_p99 if base_p99 else 0.0
        ok = sum(1 for s in edits.statuses if s == 200)
        rows.append(
            Row(
                "(l)",
                "list, anon, cache + 20 edits/s",
                cl.summary(),
                ratio=rise,
                target="p99 <= 2x uncached",
                met=rise <= 2.0,
                note=f"ratio = p99 / (a) L's Pressroom p99 (uncached, anon); edits "
                f"{len(edits.statuses) / SOLO_SECONDS:.1f}/s, {ok} ok of {len(edits.statuses)}, "
                f"edit p50 {percentile(edits.latencies_ms, 50):.0f} ms",
            )
        )
    finally:
        cached.stop()
    return rows


def signups_scenario(p: Server, env: dict[str, str]) -> Row:
    """(o) sign-ups a second, each a new account (an argon2id hash: ~23 ms of one thread's CPU)
    with its verification mail enqueued as a job in the sign-up's own transaction. One
    `pressroom worker` runs meanwhile, writing the mails as .eml files, so the note can say how
    many jobs were enqueued and whether one worker kept up (its CPU is taken from the server)."""
    step("(o) POST /users (sign-up, verification job enqueued), one job worker running")
    dsn = env["DATABASE_URL"]
    first_job = asyncio.run(_admin("SELECT coalesce(max(id), 0) + 1 FROM jobs", dsn))
    # Mail jobs only: a worker also queues periodic jobs of its own (due later) at start.
    mails = f"SELECT count(*) FROM jobs WHERE id >= {first_job} AND kind = 'mail'"
    pending = f"{mails} AND status <> 'succeeded'"
    prefix = f"signup-{uuid.uuid4().hex[:8]}-"
    body = json.dumps(
        {
            "email": f"{prefix}{{n}}@bench.example",
            "password": "BenchPassw0rd!x",
            "profile": {"firstName": "Bench", "lastName": "Sign-up"},
        }
    )
    with tempfile.TemporaryDirectory(prefix="pressroom-bench-mail-") as mail_dir:
        worker = subprocess.Popen(
            [str(BIN / "pressroom"), "worker"],
            env={**os.environ, **env, "MAIL_DIR": mail_dir},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            # Ready when its LISTEN connection is open: the worker starts without saying so.
            listening = (
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
            deadline = time.monotonic() + 60
            while not asyncio.run(_admin(listening, dsn)) and time.monotonic() < deadline:
                time.sleep(0.2)
            # Few connections: sign-ups queue for the hashing thread, and 64 would only lengthen
            # the queue (p50 in seconds), not add sign-ups.
            run = measure(
                p.base + "/api/v1/users",
                SOLO_SECONDS,
                p,
                method="POST",
                body=body,
                token=None,
                connections=SIGN_UP_CONNECTIONS,
            )
            left = asyncio.run(_admin(pending, dsn))
            drained_at = time.monotonic()
            while left and time.monotonic() - drained_at < 30:
                time.sleep(0.5)
                left = asyncio.run(_admin(pending, dsn))
            drain_s = time.monotonic() - drained_at
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        enqueued = asyncio.run(_admin(mails, dsn))
    # Sign-ups still under way when wrk stopped finish afterwards: compare with every account made.
    accounts = asyncio.run(_admin(f"SELECT count(*) FROM users WHERE email LIKE '{prefix}%'", dsn))
    s = run.summary()
    created = run.requests - run.non_2xx
    s["rps"] = round(created / run.duration_s, 1) if run.duration_s else 0.0
    kept_up = "one worker kept up" if drain_s < 1 else f"backlog drained in {drain_s:.0f} s"
    return Row(
        "(o)",
        "sign-ups/s, verification job enqueued",
        s,
        note=f"{SIGN_UP_CONNECTIONS} conns; req/s = 201s only ({created} of {run.requests}); "
        f"{enqueued} jobs enqueued for {accounts} accounts made; "
        f"{kept_up}"
        + (f", {left} still pending after 30 s" if left else "")
        + f"; non-2xx {s['non_2xx']}, timeouts {s['timeouts']}",
    )


def graphql_scenario(p: Server, token: str, list_run: Run) -> Row:
    title = "GraphQL posts(first: 20)"
    status, body = http("POST", p.base + "/graphql", {"query": GRAPHQL_LIST_QUERY}, token=token)
    if status == 404:
        return Row("(d)", title, None, note="no /graphql on this build")
    answer = json.loads(body) if status == 200 else {}
    edges = ((answer.get("data") or {}).get("posts") or {}).get("edges") or []
    if answer.get("errors") or len(edges) != 20:
        return Row("(d)", title, None, note=f"query refused ({status}): {body[:120]!r}")
    step("(d) GraphQL post list")
    request = {"token": token, "method": "POST", "body": graphql_body(GRAPHQL_LIST_QUERY)}
    wrk(p.base + "/graphql", WARMUP_SECONDS, **request)
    run = measure(p.base + "/graphql", SOLO_SECONDS, p, **request)
    ratio = run.rps / list_run.rps if list_run.rps else 0.0
    s = run.summary()
    return Row(
        "(d)",
        title,
        s,
        ratio=ratio,
        target=">= 0.3 (a)",
        met=ratio >= 0.3,
        note=f"ratio = req/s / (a) Pressroom req/s; timeouts {s['timeouts']}",
    )


def sqlite_writers(base_env: dict[str, str]) -> Row:
    step("(g) SQLite, 64 concurrent writers")
    with tempfile.TemporaryDirectory(prefix="pressroom-bench-") as folder:
        env = {**base_env, "DATABASE_URL": f"sqlite:///{folder}/bench.db"}
        cli(env, "migrate")
        cli(env, "seed-demo", "--users", "100", "--posts", "1000", "--tags", "50")
        server = pressroom("pressroom-sqlite", env, SQLITE_PORT, 1)
        try:
            token = sign_in(server.base)
            run = measure(
                server.base + "/api/v1/posts",
                SOLO_SECONDS,
                server,
                token=token,
                method="POST",
                body=new_post_body(),
            )
            locked = len(re.findall(r"database is locked", server.log_text()))
        finally:
            server.stop()
    s = run.summary()
    return Row(
        "(g)",
        "SQLite, 64 writers POST /posts",
        s,
        target='0 "database is locked"',
        met=locked == 0 and s["non_2xx"] == 0,
        note=f'"database is locked" {locked}, non-2xx {s["non_2xx"]}, '
        f"socket errors {s['socket_errors']}, timeouts {s['timeouts']}",
    )


# (m) and (n): one worker each, anonymous reads, alternating slices.
M_SQLITE_PORT, M_POSTGRES_PORT, N_FRESH_PORT = 18110, 18111, 18112


@contextmanager
def one_worker_each(*specs: tuple[str, dict[str, str], int]) -> Iterator[list[Server]]:
    """A one-worker Pressroom (hot-read cache off) per (name, env, port), all stopped after."""
    started: list[Server] = []
    try:
        for name, env, port in specs:
            started.append(pressroom(name, {**env, **UNCACHED}, port, 1))
        yield started
    finally:
        for server in started:
            server.stop()


def sqlite_mode_rows(base_env: dict[str, str], postgres_env: dict[str, str]) -> list[Row]:
    """(m) SQLite mode next to PostgreSQL mode on the same seed-demo data: the list and one post,
    the ratio SQLite / PostgreSQL (the embedded default should be within reach of PostgreSQL)."""
    step("(m) SQLite mode: migrate and seed-demo (1,000 users, 10,000 posts, 50 tags)")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="pressroom-bench-") as folder:
        sqlite_env = {**base_env, "DATABASE_URL": f"sqlite:///{folder}/bench.db"}
        cli(sqlite_env, "migrate")
        cli(sqlite_env, "seed-demo", "--users", "1000", "--posts", "10000", "--tags", "50")
        specs = [
            ("pressroom-sqlite-1w", sqlite_env, M_SQLITE_PORT),
            ("pressroom-postgres-1w", postgres_env, M_POSTGRES_PORT),
        ]
        with one_worker_each(*specs) as (lite, postgres):
            # From the SQLite file: the PostgreSQL database has gained posts from the rows
            # before (writes, the webhook pass) that the file does not have; seed-demo made
            # the same posts in both.
            _, body = http("GET", lite.base + LIST_PATH)
            one_post = f"/api/v1/posts/{json.loads(body)['data'][0]['id']}"
            for title, path in (("list", LIST_PATH), ("one post", one_post)):
                for server in (lite, postgres):
                    status, _ = http("GET", server.base + path)
                    if status != 200:
                        raise RuntimeError(f"{server.name} answered {path} with {status}")
                step(f"(m) SQLite vs PostgreSQL mode, {title}, one worker each")
                lite_run, postgres_run = side_by_side(path, (lite, None), (postgres, None))
                ratio = ratio_of(lite_run, postgres_run)
                rows.append(
                    Row(
                        "(m)",
                        f"SQLite mode {title}, anon, 1w",
                        lite_run.summary(),
                        postgres_run.summary(),
                        ratio,
                        target=">= 0.5 PG (aim 1.0)",
                        met=ratio >= 0.5,
                        note=f"ref = PostgreSQL mode; {cpu_note(lite_run, postgres_run, 'PG')}",
                    )
                )
    return rows


async def _bulk_load_without_analyse(database_url: str) -> None:
    """seed-demo's rows without its ANALYZE, autovacuum off on the tables: what a bulk import
    leaves on an installation that runs without autovacuum."""
    from pressroom.config import Settings
    from pressroom.demo import SEEDED_TABLES, seed

    for table in SEEDED_TABLES:
        await _admin(f"ALTER TABLE {table} SET (autovacuum_enabled = off)", database_url)
    settings = Settings(database_url=database_url)
    await seed(settings, users=1000, posts=10_000, tags=50, analyse=False)


def fresh_postgres_row(base_env: dict[str, str], analysed_env: dict[str, str]) -> Row:
    """(n) the list on a PostgreSQL database just bulk-loaded, never analysed, against the
    settled database of (a) (VACUUM ANALYZE): the hot statements must not depend on statistics."""
    step("(n) PostgreSQL just bulk-loaded, before ANALYZE: migrate and load")
    with throwaway_postgres() as fresh_url:
        fresh_env = {**base_env, "DATABASE_URL": fresh_url}
        cli(fresh_env, "migrate")
        asyncio.run(_bulk_load_without_analyse(fresh_url))
        analysed_tables = asyncio.run(
            _admin("SELECT count(*) FROM pg_stats WHERE tablename = 'posts'", fresh_url)
        )
        specs = [
            ("pressroom-fresh-1w", fresh_env, N_FRESH_PORT),
            ("pressroom-analysed-1w", analysed_env, M_POSTGRES_PORT),
        ]
        with one_worker_each(*specs) as (fresh, analysed):
            step("(n) list before ANALYZE vs analysed, one worker each")
            fresh_run, analysed_run = side_by_side(LIST_PATH, (fresh, None), (analysed, None))
    ratio = ratio_of(fresh_run, analysed_run)
    return Row(
        "(n)",
        "PG list before ANALYZE, anon, 1w",
        fresh_run.summary(),
        analysed_run.summary(),
        ratio,
        target=">= 0.8 analysed",
        met=ratio >= 0.8,
        note=f"ref = analysed; posts columns with statistics: {analysed_tables}; "
        f"{cpu_note(fresh_run, analysed_run, 'analysed')}",
    )


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    cpu = ""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": platform.platform(),
        "postgresql": asyncio.run(_admin("SHOW server_version")),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


# -- Webhooks: (a)-(c) with three endpoints on every event, and deliveries a second ---------
HOOK_ENDPOINTS = 3
HOOK_POSTS = int(os.environ.get("BENCH_WEBHOOK_POSTS", "200"))
EVERY_EVENT = [
    "user.created", "user.updated", "user.deleted", "post.created", "post.updated",
    "post.published", "post.unpublished", "post.deleted", "tag.updated", "tag.deleted",
    "webhook.disabled",
]  # fmt: skip


@contextmanager
def loopback_receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()


def webhook_pass(env: dict[str, str]) -> list[Row]:
    """(a)-(c) again, marked "3 hooks", with three endpoints subscribed to every event (compare
    with the rows above: reads record no events, so they should not fall), then (w): events
    delivered a second by one `pressroom worker` to a receiver on loopback."""
    hooks_env = {**env, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}
    email = f"bench-admin-{secrets.token_hex(4)}@example.com"
    cli(
        hooks_env,
        "users",
        "create",
        "--email",
        email,
        "--password",
        DEMO_PASSWORD,
        "--role",
        "admin",
    )
    with loopback_receiver() as url, three_servers(hooks_env, WORKERS) as (p, r, lean):
        step(f"subscribing {HOOK_ENDPOINTS} webhook endpoints to every event")
        status, body = http(
            "POST", f"{p.base}/api/v1/auth/login", {"email": email, "password": DEMO_PASSWORD}
        )
        admin = json.loads(body)["accessToken"]
        for _ in range(HOOK_ENDPOINTS):
            status, body = http(
                "POST", f"{p.base}/api/v1/webhooks", {"url": url, "events": EVERY_EVENT}, admin
            )
            if status != 201:
                raise RuntimeError(f"webhook not created ({status}): {body[:300]!r}")
        rows = compared_rows(p, r, lean, COMPARED, f" {HOOK_ENDPOINTS} hooks")[0]
        if not QUICK:
            rows.append(deliveries_per_second(p, hooks_env, admin))
    return rows


def deliveries_per_second(p: Server, env: dict[str, str], token: str) -> Row:
    step(f"(w) webhook deliveries: {HOOK_POSTS} published posts, then one `pressroom worker`")
    database_url = env["DATABASE_URL"]
    # Queued first, with no worker running (`serve` runs none on PostgreSQL): the worker then
    # has a backlog to get through, and the rate is from its first delivery to its last.
    asyncio.run(_admin("DELETE FROM jobs WHERE kind = 'webhook.deliver'", database_url))
    asyncio.run(_admin("DELETE FROM webhook_deliveries", database_url))
    for _ in range(HOOK_POSTS):
        status, body = http("POST", f"{p.base}/api/v1/posts", json.loads(new_post_body()), token)
        if status != 201:
            raise RuntimeError(f"post not created ({status}): {body[:300]!r}")
    pending_sql = "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"
    expected = asyncio.run(_admin(pending_sql, database_url))
    worker = subprocess.Popen(
        [str(BIN / "pressroom"), "worker"],
        env={**os.environ, **env, "LOG_LEVEL": "WARNING"},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600
        while asyncio.run(_admin(pending_sql, database_url)) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)  # it finishes the attempts under way, then exits
        worker.wait(60)
    span = asyncio.run(
        _admin(
            "SELECT extract(epoch FROM max(finished_at) - min(finished_at)) FROM jobs"
            " WHERE kind = 'webhook.deliver' AND status = 'succeeded'",
            database_url,
        )
    )
    delivered = asyncio.run(
        _admin("SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'", database_url)
    )
    seconds = float(span or 0)
    per_second = (delivered - 1) / seconds if seconds else 0.0
    concurrency = env.get("WORKER_CONCURRENCY", "4")
    return Row(
        "(w)",
        f"webhook deliveries/s, {HOOK_ENDPOINTS} endpoints",
        {"rps": round(per_second, 1), "delivered": delivered, "seconds": round(seconds, 2)},
        note=f"{delivered} of {expected} delivered in {seconds:.1f} s by 1 `pressroom worker` "
        f"(concurrency {concurrency}) to a receiver on loopback",
    )


def step(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main() -> None:
    result = run_all()
    rows = [Row(**row) for row in result["rows"]]
    m = result["machine"]
    if not QUICK:  # bench/results/ holds whole runs only: that is what the README quotes
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
        plot(
            rows,
            RESULTS_DIR / "latest.png",
            f"Pressroom vs reference, {m['cpus']} CPUs, {result['when']}",
        )
    print(format_table(rows))
    print(
        f"machine: {m['cpus']} x {m['cpu']}, PostgreSQL {m['postgresql']}, "
        f"load average before {m['load_average_before'][0]}, after {m['load_average_after'][0]}; "
        f"{result['seconds']:.0f} s"
    )
    if result["redis_round_trips_per_request"]:
        print(redis_round_trips.report_line(result["redis_round_trips_per_request"]))
    print(f"list ratio vs lean: {result['list_ratio_lean']:.2f}")
    print(f"list ratio vs reference: {result['list_ratio']:.2f}")


if __name__ == "__main__":
    main()
