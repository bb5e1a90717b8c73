"""Prometheus metrics: request counts, latency per route, recommendation stage timings.

With PROMETHEUS_MULTIPROC_DIR set (`kgrec serve --workers N` sets it), every worker writes its
samples there and `/metrics` on any worker reports the sum over all of them."""

from __future__ import annotations

import os
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class MetricsMiddleware:
    """Counts and times every HTTP request and names the worker in `X-Kgrec-Worker`. Plain ASGI,
    not `BaseHTTPMiddleware`: that one runs each request through an extra task and memory stream,
    a cost every cold request paid (docs/benchmarks.md, issue 14)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.worker = str(os.getpid()).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_worker(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-kgrec-worker", self.worker)]
            await send(message)

        await self.app(scope, receive, send_with_worker)
        # The router writes the matched route into the shared scope.
        path = getattr(scope.get("route"), "path", "unmatched")
        LATENCY.labels(path, scope["method"]).observe(time.perf_counter() - started)
        REQUESTS.labels(path, scope["method"], str(status)).inc()


def exposition() -> bytes:
    """The Prometheus text: this process's registry, or all workers' samples in multiprocess mode."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
