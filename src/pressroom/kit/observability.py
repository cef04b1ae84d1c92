"""Structured JSON logs and Prometheus metrics, shared by every layer."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, MutableMapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import orjson
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from pressroom.kit.errors import AppError, Forbidden

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[int | None] = ContextVar("user_id", default=None)

# Field names whose values are never written to a log line, whoever passes them.
_SECRET_KEYS = {
    "password",
    "newpassword",
    "currentpassword",
    "password_hash",
    "token",
    "accesstoken",
    "refreshtoken",
    "access_token",
    "refresh_token",
    "authorization",
    "cookie",
    "secret",
}


def _add_request_context(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    request_id = request_id_var.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    user_id = user_id_var.get()
    if user_id is not None:
        event.setdefault("user_id", user_id)
    return event


def _redact_secrets(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower().replace("-", "_") in _SECRET_KEYS or key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
    return event


_LINE_BREAKS_JSON_ALLOWS = (("\x85", "\\u0085"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def _json_line(event: Any, **_options: Any) -> str:
    # orjson: several times cheaper than the standard library's encoder, for a line a request.
    # It escapes control characters as JSON requires; the three other characters that readers
    # such as Python's `splitlines` take for a line end are escaped here, so no input can start
    # a forged line.
    line = orjson.dumps(event, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()
    for character, escaped in _LINE_BREAKS_JSON_ALLOWS:
        if character in line:
            line = line.replace(character, escaped)
    return line


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stdout, ours and every library's (uvicorn, alembic, SQLAlchemy).

    Values are JSON-encoded, so a newline or other control character in an input is written
    as an escape and cannot start a forged line.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request_context,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_secrets,
    ]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(serializer=_json_line),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Our own request line replaces uvicorn's access log, which would write raw query strings.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error", "alembic"):
        library_logger = logging.getLogger(name)
        library_logger.handlers = []
        library_logger.propagate = True
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_json_line),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


_security_log = get_logger("pressroom.security")


def record_refusal(error: AppError) -> None:
    """The security event for a refused action (403); every front door calls it."""
    if isinstance(error, Forbidden):
        _security_log.warning("forbidden", reason=error.message)


# Route templates and statuses are few; methods are whatever clients send, so the cache is bounded.
MAX_KEPT_REQUEST_SERIES = 1024


# Where worker processes write their numbers for one scrape to read them all. prometheus_client
# reads it when first imported, so it must be in the environment before a worker starts.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(workers: int) -> Path | None:
    """Sets up `PROMETHEUS_MULTIPROC_DIR` for a server about to start its workers.

    An operator's directory is emptied (files left by an earlier run would be counted again).
    Without one, several workers get a fresh private directory, removed when this process
    exits, and returned; one worker needs none.
    """
    chosen = os.environ.get(MULTIPROCESS_DIR)
    if chosen:
        for leftover in Path(chosen).glob("*.db"):
            leftover.unlink(missing_ok=True)
        return None
    if workers == 1:
        return None
    private = Path(tempfile.mkdtemp(prefix="pressroom-metrics-"))
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    os.environ[MULTIPROCESS_DIR] = str(private)
    return private


class Metrics:
    """One registry per app, so tests and several apps in a process never collide.

    Under `pressroom serve --workers N` (or with `PROMETHEUS_MULTIPROC_DIR` set) every worker
    writes its numbers to files in that directory, and `registry`, which /metrics renders,
    reads all of them: whichever worker answers a scrape reports the whole server.
    """

    def __init__(self) -> None:
        own = CollectorRegistry()
        self.directory = os.environ.get(MULTIPROCESS_DIR) or None
        self.registry = own
        if self.directory is not None:
            self.registry = CollectorRegistry()
            self.registry.register(_EveryWorker(self.directory))
        self.requests = Counter(
            "pressroom_http_requests",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=own,
        )
        self.latency = Histogram(
            "pressroom_http_request_duration_seconds",
            "HTTP request latency by route template and method",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=own,
        )
        self.events = Counter(
            "pressroom_events",
            "Business and security events (sign_up, login, login_failed, post_published, ...)",
            ["event"],
            registry=own,
        )
        # Webhooks (docs/webhooks.md): each attempt by how it ended, how long the receiver took,
        # and endpoints the server switched off (410 Gone, or failing for five days).
        self.webhook_deliveries = Counter(
            "pressroom_webhook_deliveries",
            "Webhook delivery attempts by outcome (succeeded, retrying, failed)",
            ["outcome"],
            registry=own,
        )
        self.webhook_latency = Histogram(
            "pressroom_webhook_delivery_duration_seconds",
            "Time from sending a webhook to its receiver's answer (or the failure)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=own,
        )
        self.webhook_endpoints_disabled = Counter(
            "pressroom_webhook_endpoints_disabled",
            "Webhook endpoints disabled by the server, by reason (gone, failing)",
            ["reason"],
            registry=own,
        )

        # Label look-ups take a lock and build a key each time; a request's pair is kept.
        self._request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def count(self, event: str) -> None:
        self.events.labels(event=event).inc()

    def webhook_attempt(self, outcome: str, seconds: float) -> None:
        self.webhook_deliveries.labels(outcome=outcome).inc()
        self.webhook_latency.observe(seconds)

    def webhook_disabled(self, reason: str) -> None:
        self.webhook_endpoints_disabled.labels(reason=reason).inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        series = self._request_series.get(key)
        if series is None:
            series = (
                self.requests.labels(method=method, route=route, status=str(status)),
                self.latency.labels(method=method, route=route),
            )
            if len(self._request_series) < MAX_KEPT_REQUEST_SERIES:
                self._request_series[key] = series
        series[0].inc()
        series[1].observe(seconds)

    def watch_pool(self, engine: AsyncEngine) -> None:
        """Database pool gauges: read from the pool at each scrape in a single process; with
        several workers, each worker's pool written as it changes and summed over the workers
        still running."""
        pool = engine.sync_engine.pool
        if not isinstance(pool, QueuePool):
            return
        if self.directory is None:
            self.registry.register(_PoolCollector(pool))
        else:
            _PoolGauges(pool).watch()


_POOL_GAUGES = (
    ("size", "Connections the pool keeps open"),
    ("checked_out", "Connections in use by requests"),
    ("checked_in", "Idle connections in the pool"),
    ("overflow", "Connections opened beyond the pool size"),
)


def _pool_figures(pool: QueuePool, returning: int = 0) -> tuple[int, ...]:
    """The figures of `_POOL_GAUGES`, with `returning` connections counted as given back."""
    return (
        pool.size(),
        pool.checkedout() - returning,
        pool.checkedin() + returning,
        max(0, pool.overflow()),
    )


class _PoolCollector(Collector):
    def __init__(self, pool: QueuePool) -> None:
        self.pool = pool

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for (name, documentation), value in zip(
            _POOL_GAUGES, _pool_figures(self.pool), strict=True
        ):
            yield GaugeMetricFamily(f"pressroom_db_pool_{name}", documentation, value=value)


class _PoolGauges:
    """One worker's pool in multiprocess gauges: `livesum` adds up the workers still running.

    The gauges (and so this process's file) appear at the first connection: `serve` builds an
    app in its own process only to check the settings, and that pool, never used, must not
    count while the server runs.
    """

    def __init__(self, pool: QueuePool) -> None:
        self.pool = pool
        self.gauges: list[Gauge] = []
        self.published: list[int | None] = [None] * len(_POOL_GAUGES)

    def watch(self) -> None:
        for name in ("connect", "checkout", "close"):
            event.listen(self.pool, name, lambda *_: self.publish())
        # A checkin is announced before the connection is back in the pool.
        event.listen(self.pool, "checkin", lambda *_: self.publish(returning=1))

    def publish(self, returning: int = 0) -> None:
        if not self.gauges:
            self.gauges = [
                Gauge(f"pressroom_db_pool_{name}", doc, multiprocess_mode="livesum", registry=None)
                for name, doc in _POOL_GAUGES
            ]
        # Two events a request: only what changed is written (each write takes a lock).
        for index, value in enumerate(_pool_figures(self.pool, returning)):
            if self.published[index] != value:
                self.gauges[index].set(value)
                self.published[index] = value


class _EveryWorker(Collector):
    """Every worker's numbers from the multiprocess directory.

    A worker that has exited (stopped, crashed, replaced) is marked dead first, so its live
    gauges (pool connections it no longer holds) stop counting; its counters keep counting,
    as the requests it served did happen.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.files: Collector = multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            None, path=directory
        )

    def collect(self) -> Iterator[Metric]:
        for path in Path(self.directory).glob("gauge_live*_*.db"):
            pid = int(path.stem.rsplit("_", 1)[1])
            if not _running(pid):
                multiprocess.mark_process_dead(pid, self.directory)  # type: ignore[no-untyped-call]
        yield from self.files.collect()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
