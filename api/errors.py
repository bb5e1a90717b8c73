"""One JSON error shape, `{"error": {code, message, details}}`, built by `error_body` alone.

kgrec's errors carry their own HTTP status and code (graph/errors.py); framework errors
(validation, 404/405 routing, body limits) are mapped here to the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kgrec.graph.errors import KgrecError

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "5"
HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The only place an error body is built, for routes, handlers and middleware alike."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(status: int, code: str, message: str, details: Any = None, **headers: str) -> JSONResponse:
    if status == 503:
        headers.setdefault("Retry-After", RETRY_AFTER_SECONDS)
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _kgrec_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KgrecError)
    if exc.http_status >= 500 and exc.http_status != 503:
        log.error("unhandled kgrec error: %s", exc)
        return error_response(exc.http_status, exc.code, "internal error")
    return error_response(exc.http_status, exc.code, str(exc), exc.details)


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
    headers = dict(exc.headers or {})
    return error_response(
        exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail), **headers
    )


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal", "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(KgrecError, _kgrec_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
