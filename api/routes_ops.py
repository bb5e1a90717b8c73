"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from kgrec.api.deps import State
from kgrec.api.errors import error_response
from kgrec.api.metrics import exposition

router = APIRouter(tags=["operations"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
def ready(state: State) -> JSONResponse:
    ok, reason = state.is_ready()
    if ok:
        return JSONResponse({"status": "ready", "artifact": state.recommender().artifact.name})
    return error_response(503, "not_ready", reason)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text"}
    },
)
def metrics() -> Response:
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
