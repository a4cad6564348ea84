"""Turn every error into a problem+json answer; nothing returns a bare 500 for bad input."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shuangsui.kernel import problems as p
from shuangsui.kernel.db import refused_value
from shuangsui.kernel.observability import current_request_id
from shuangsui.kernel.service_client import ServiceCallError, ServiceUnreachable

REFUSED_VALUE_DETAIL = (
    "a value of the request cannot be stored or compared (too long, out of range, or "
    "characters text cannot hold)"
)
_BY_STATUS = {
    401: p.UNAUTHENTICATED,
    403: p.FORBIDDEN,
    404: p.NOT_FOUND,
    405: p.METHOD_NOT_ALLOWED,
    413: p.PAYLOAD_TOO_LARGE,
    415: p.UNSUPPORTED_MEDIA_TYPE,
    503: p.SERVICE_UNAVAILABLE,
}


def problem_response(problem: p.Problem, request: Request | None = None) -> JSONResponse:
    body = problem.body(instance=request.url.path if request is not None else None)
    request_id = current_request_id.get()
    if request_id:
        body.setdefault("request_id", request_id)
    return JSONResponse(
        body,
        status_code=problem.kind.status,
        media_type=p.PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """`('body', 'items', 0, 'uscc')` → `items[0].uscc`; the `body`/`query` prefix is dropped."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        source = parts.pop(0)
        if not parts:
            return str(source)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validation_problem(errors: list[dict[str, Any]] | Any) -> p.Problem:
    field_errors = [p.FieldError(_field_of(e), str(e.get("msg", ""))) for e in errors]
    return p.Problem(p.VALIDATION, f"{len(field_errors)} field(s) invalid", errors=field_errors)


def _field_of(error: dict[str, Any]) -> str:
    # A body that is not JSON at all is located at a character offset (`('body', 11)`), which
    # would read like the index of a list item; the error concerns the body as a whole.
    if error.get("type") == "json_invalid":
        return "body"
    return field_path(error.get("loc", ()))


class _UnexpectedErrors:
    """Answers an unexpected exception with the internal-error problem INSIDE the request
    context, so the answer carries the request id and trace headers the caller can quote.
    (Starlette runs the app's `Exception` handler outermost, after that context is gone.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger("errors")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            request = Request(scope)
            problem = p.Problem(p.INTERNAL)
            if refused_value(exc):
                # The request carried a value the database cannot take: the caller's to fix.
                # Logged as an error all the same, since a check at the edge is missing.
                problem = p.Problem(p.VALIDATION, REFUSED_VALUE_DETAIL)
                self.log.error("database refused a value", path=request.url.path, exc_info=exc)
            else:
                self.log.exception("unhandled error", path=request.url.path)
            await problem_response(problem, request)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Call before `install_request_context`, so unexpected errors are answered inside it."""
    log = structlog.get_logger("errors")
    app.add_middleware(_UnexpectedErrors)

    @app.exception_handler(p.Problem)
    async def on_problem(request: Request, exc: p.Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc.errors()), request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = _BY_STATUS.get(exc.status_code) or p.ProblemType(
            f"http-{exc.status_code}", exc.status_code, str(exc.detail), str(exc.detail)
        )
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != kind.title else None
        return problem_response(p.Problem(kind, detail, headers=dict(exc.headers or {})), request)

    @app.exception_handler(ServiceCallError)
    async def on_service_call(request: Request, exc: ServiceCallError) -> JSONResponse:
        """A call the use case did not handle itself: the callee down is 503 (retry later), a
        refusal is 502 naming what the callee said; both are logged for operators."""
        log.warning("service call failed", service=exc.service, operation=exc.operation,
                    status=exc.status, type=exc.problem.type)  # fmt: skip
        kind = (
            p.SERVICE_UNAVAILABLE if isinstance(exc, ServiceUnreachable) else p.SERVICE_CALL_FAILED
        )
        detail = f"{exc.operation} on the {exc.service} service: {exc.problem.status} {exc.problem.title}"
        if exc.problem.detail:
            detail += f" ({exc.problem.detail})"
        return problem_response(p.Problem(kind, detail), request)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return problem_response(p.Problem(p.INTERNAL), request)
