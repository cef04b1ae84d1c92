"""Structured JSON logs and Prometheus metrics, shared by every layer."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextvars import ContextVar
from typing import Any

import orjson
import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
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


class Metrics:
    """One registry per app, so tests and several apps in a process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pressroom_http_requests",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pressroom_http_request_duration_seconds",
            "HTTP request latency by route template and method",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.events = Counter(
            "pressroom_events",
            "Business and security events (sign_up, login, login_failed, post_published, ...)",
            ["event"],
            registry=self.registry,
        )

        # Label look-ups take a lock and build a key each time; a request's pair is kept.
        self._request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def count(self, event: str) -> None:
        self.events.labels(event=event).inc()

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
        """Database pool gauges, read from the pool at each scrape."""
        self.registry.register(_PoolCollector(engine))


class _PoolCollector(Collector):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = self.engine.sync_engine.pool
        if not isinstance(pool, QueuePool):
            return
        for name, documentation, value in (
            ("size", "Connections the pool keeps open", pool.size()),
            ("checked_out", "Connections in use by requests", pool.checkedout()),
            ("checked_in", "Idle connections in the pool", pool.checkedin()),
            ("overflow", "Connections opened beyond the pool size", max(0, pool.overflow())),
        ):
            yield GaugeMetricFamily(f"pressroom_db_pool_{name}", documentation, value=value)
