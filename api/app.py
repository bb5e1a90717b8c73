"""The FastAPI application: settings in, driver and artifacts opened once in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import torch
from fastapi import FastAPI

from kgrec.api import routes_admin, routes_catalogue, routes_events, routes_ops, routes_recommend, routes_ui
from kgrec.api.body_limit import BodyLimitMiddleware
from kgrec.api.errors import install_error_handlers
from kgrec.api.metrics import MetricsMiddleware
from kgrec.api.schemas import error_responses
from kgrec.api.settings import Settings
from kgrec.api.state import AppState
from kgrec.api.wiring import limit_blas_threads, open_driver, open_store, text_encoder
from kgrec.api.worker_sync import WorkerSync
from kgrec.embeddings.batching_encoder import BatchingEncoder
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.graph.errors import KgrecError

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, encoder: TextEncoder | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One torch thread per request and `cpu_workers` requests at once: 2 cores, no thrashing.
        torch.set_num_threads(1)
        limit_blas_threads()
        driver = open_driver(settings)
        # Concurrent requests' queries share forward passes (embeddings/batching_encoder.py). One
        # thread for ONNX Runtime too: its idle pool threads spin, and two requests already run at
        # once (cold c=8: 6.4 vs 10.2 ms of server CPU a request, docs/benchmarks.md).
        batching = BatchingEncoder(encoder or text_encoder(settings, threads=1))
        state = AppState(
            settings,
            driver,
            open_store(settings, driver),
            batching,
            encoder_factory=None if encoder else lambda: BatchingEncoder(text_encoder(settings, threads=1)),
        )
        app.state.kgrec = state
        try:
            state.recommender()
        except KgrecError as exc:
            log.warning("not ready yet: %s", exc)
        # Other workers' events and reloads reach this one (api/worker_sync.py).
        sync = WorkerSync(state, settings.sync_interval_ms / 1000)
        sync.start()
        yield
        sync.stop()
        driver.close()

    app = FastAPI(
        title="kgrec",
        version="0.1.0",
        description="Knowledge-graph e-commerce recommendations with diversity over graph regions.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        upload_prefix="/v1/admin/load",
    )
    for module in (routes_recommend, routes_catalogue, routes_events, routes_admin, routes_ops):
        app.include_router(module.router, responses=error_responses(400, 413, 422, 503))
    app.include_router(routes_ui.router)
    return app
