"""Prometheus metrics: request counts, latency per route, recommendation stage timings.

With PROMETHEUS_MULTIPROC_DIR set (`kgrec serve --workers N` sets it), every worker writes its
samples there and `/metrics` on any worker reports the sum over all of them."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "kgrec_http_requests_total", "HTTP requests", ["route", "method", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "kgrec_http_request_seconds",
    "HTTP request latency",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.2, 0.5, 1, 2, 5),
    registry=REGISTRY,
)
STAGES = Histogram(
    "kgrec_recommendation_stage_seconds",
    "Time per recommendation stage",
    ["stage"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5),
    registry=REGISTRY,
)


def observe_stages(timings_ms: dict[str, float]) -> None:
    for stage, ms in timings_ms.items():
        STAGES.labels(stage).observe(ms / 1000)


async def metrics_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    response.headers["X-Kgrec-Worker"] = str(os.getpid())
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")
    LATENCY.labels(path, request.method).observe(time.perf_counter() - started)
    REQUESTS.labels(path, request.method, str(response.status_code)).inc()
    return response


def exposition() -> bytes:
    """The Prometheus text: this process's registry, or all workers' samples in multiprocess mode."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
