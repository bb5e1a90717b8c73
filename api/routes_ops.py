"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import State
from api.metrics import REGISTRY

router = APIRouter(tags=["operations"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
def ready(state: State) -> JSONResponse:
    ok, reason = state.is_ready()
    if ok:
        return JSONResponse({"status": "ready", "artifact": state.recommender().artifact.name})
    return JSONResponse(
        {"error": {"code": "not_ready", "message": reason, "details": None}},
        status_code=503,
        headers={"Retry-After": "5"},
    )


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
