"""One JSON error shape, `{"error": {code, message, details}}`, mapped from kgrec's errors."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph.errors import (
    ArtifactError,
    GraphUnavailableError,
    InputFileError,
    InvalidArgumentError,
    KgrecError,
    MissingToolError,
    NotFoundError,
)

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "5"


def error_response(status: int, code: str, message: str, details: Any = None, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details}}, status_code=status, headers=headers
    )


def _kgrec_error(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, GraphUnavailableError):
        return error_response(503, "graph_unavailable", str(exc), **{"Retry-After": RETRY_AFTER_SECONDS})
    if isinstance(exc, NotFoundError):
        return error_response(404, "not_found", str(exc))
    if isinstance(exc, InvalidArgumentError):
        return error_response(422, "invalid_argument", str(exc), {"field": exc.field})
    if isinstance(exc, InputFileError):
        return error_response(422, "invalid_file", str(exc), {"line": exc.line, "problem": exc.problem})
    if isinstance(exc, (ArtifactError, MissingToolError)):
        return error_response(503, "not_ready", str(exc), **{"Retry-After": RETRY_AFTER_SECONDS})
    log.error("unhandled kgrec error: %s", exc)
    return error_response(500, "internal", "internal error")


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
        for e in exc.errors()
    ]
    fields = ", ".join(d["field"] or "body" for d in details)
    return error_response(422, "validation_error", f"invalid request: {fields}", details)


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
    }
    return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal", "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(KgrecError, _kgrec_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
