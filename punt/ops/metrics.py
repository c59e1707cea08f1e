"""Prometheus metrics: what the HTTP middleware, the real-time consumers and the event bus record.

With several web processes each one only sees its own counters, so when the environment sets
PROMETHEUS_MULTIPROC_DIR (before Python starts: prometheus-client reads it at import) every
process writes its samples to files in that directory and a scrape merges them
(MultiProcessCollector). Empty the directory whenever the service (re)starts. Without it the
default registry of this one process is exposed.

Label values must come from a bounded set (route patterns, event names, provider names):
never pass user input through.
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED_ROUTE = "(unmatched)"
# Anything else a client sends as a method is counted as "other", to keep the label bounded.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


HTTP_REQUESTS = Counter(
    "punt_http_requests",
    "HTTP requests handled, by method, URL pattern and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "punt_http_request_duration_seconds",
    "Time to produce an HTTP response, by method, URL pattern and status code.",
    ["method", "route", "status"],
)
# livesum: the open connections of every live process added up; a process's share leaves
# with it (see mark_process_dead below).
WEBSOCKET_CONNECTIONS = Gauge(
    "punt_websocket_connections",
    "Open WebSocket connections.",
    multiprocess_mode="livesum",
)
SSE_CONNECTIONS = Gauge(
    "punt_sse_connections",
    "Open server-sent event streams.",
    multiprocess_mode="livesum",
)
EVENTS_PUBLISHED = Counter(
    "punt_events_published",
    "Domain events published on the event bus, by event type.",
    ["event"],
)
EVENTS_DROPPED = Counter(
    "punt_events_dropped",
    "Domain events that reached no socket or stream, by reason (redis_down, send_failed, send_timeout).",
    ["reason"],
)
REDIS_OUTAGES = Counter(
    "punt_redis_outages",
    "Times this process found Redis unreachable after it had answered (see punt/redis_outage.py).",
)
REDIS_FALLBACKS = Counter(
    "punt_redis_fallbacks",
    "Operations served from this process's memory because Redis was unreachable, by part (cache, presence).",
    ["part"],
)
WEBHOOK_DELIVERIES = Counter(
    "punt_webhook_deliveries",
    "Webhook deliveries, by provider and outcome.",
    ["provider", "outcome"],
)

if multiprocess_dir():
    # Live gauges of a process that exits cleanly must not linger in the merged view.
    atexit.register(multiprocess.mark_process_dead, os.getpid())


# --- what other parts of PUNT call ----------------------------------------------------------------


def record_http_request(*, method: str, route: str, status: int, seconds: float) -> None:
    labels = {"method": method, "route": route, "status": str(status)}
    HTTP_REQUESTS.labels(**labels).inc()
    HTTP_LATENCY.labels(**labels).observe(seconds)


def ws_connected() -> None:
    WEBSOCKET_CONNECTIONS.inc()


def ws_disconnected() -> None:
    WEBSOCKET_CONNECTIONS.dec()


def sse_opened() -> None:
    SSE_CONNECTIONS.inc()


def sse_closed() -> None:
    SSE_CONNECTIONS.dec()


def record_event_published(event: str) -> None:
    """Count one published domain event, e.g. "board.card_moved"."""
    EVENTS_PUBLISHED.labels(event=event).inc()


def record_event_dropped(reason: str) -> None:
    """Count one event that could not be handed to the channel layer ("redis_down", "send_failed", ...)."""
    EVENTS_DROPPED.labels(reason=reason).inc()


def record_redis_outage() -> None:
    REDIS_OUTAGES.inc()


def record_redis_fallback(part: str) -> None:
    REDIS_FALLBACKS.labels(part=part).inc()


def record_webhook_delivery(provider: str, outcome: str) -> None:
    """Count one webhook delivery, e.g. ("github", "success") or ("outgoing", "failed")."""
    WEBHOOK_DELIVERIES.labels(provider=provider, outcome=outcome).inc()


# --- scraping ---------------------------------------------------------------------------------------


class _RegistryCollector:
    """Lets one scrape registry include the default registry's collectors."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


def scrape_registry(*, collectors: Iterable[Any] = ()) -> CollectorRegistry:
    """A registry for one scrape: this process's (or every process's) metrics plus `collectors`.

    The counts read from the apps' tables (punt.ops.site_counts) come in as a collector: this
    module is plumbing the event bus imports, so it imports no app.
    """
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_RegistryCollector(REGISTRY))
    for collector in collectors:
        registry.register(collector)
    return registry


def render(*, collectors: Iterable[Any] = ()) -> bytes:
    """The Prometheus text exposition (format 0.0.4)."""
    return generate_latest(scrape_registry(collectors=collectors))


class HttpMetricsMiddleware:
    """Counts and times every request by its URL pattern (bounded), not its raw path.

    Sync and async capable, so async views (SSE) are not pushed through a thread for it.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self._record(request, response, started)
        return response

    async def __acall__(self, request: Any) -> Any:
        started = time.perf_counter()
        response = await self.get_response(request)
        self._record(request, response, started)
        return response

    @staticmethod
    def _record(request: Any, response: Any, started: float) -> None:
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else UNMATCHED_ROUTE
        method = request.method if request.method in KNOWN_METHODS else "other"
        record_http_request(
            method=method,
            route=route,
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
