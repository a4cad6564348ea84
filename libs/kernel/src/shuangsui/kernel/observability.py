"""JSON logs with request id and W3C trace context, Prometheus metrics, optional OpenTelemetry."""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar

import structlog
from fastapi import FastAPI, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# W3C Trace Context: an all-zero trace id or parent id is invalid, and so is the whole header.
_TRACEPARENT = re.compile(r"^00-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-([0-9a-f]{2})$")
current_traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def new_traceparent(parent: str | None = None) -> str:
    """Continue the caller's trace with a new span id, or start a new sampled trace."""
    match = _TRACEPARENT.match(parent or "")
    trace_id = match.group(1) if match else secrets.token_hex(16)
    flags = match.group(3) if match else "01"
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def is_valid_traceparent(value: str | None) -> bool:
    return bool(value and _TRACEPARENT.match(value))


class HttpMetrics:
    """One registry per app, so several apps can live in one test process."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests by route and status",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["service", "method", "route"],
            registry=self.registry,
        )
        self.service = service

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def install_request_context(app: FastAPI, service: str, metrics: HttpMetrics) -> None:
    app.add_middleware(_RequestContext, service=service, metrics=metrics)


class _RequestContext:
    """Request id, trace context, metrics and one log line per request.

    Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs every
    request in an extra task and re-streams the response, a cost paid on every call."""

    def __init__(self, app: ASGIApp, service: str, metrics: HttpMetrics) -> None:
        self.app = app
        self.service = service
        self.metrics = metrics
        self.log = structlog.get_logger(service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = headers.get("x-request-id") or secrets.token_hex(8)
        incoming = headers.get("traceparent")
        traceparent = new_traceparent(incoming if is_valid_traceparent(incoming) else None)
        rid_token = current_request_id.set(request_id)
        tp_token = current_traceparent.set(traceparent)
        structlog.contextvars.bind_contextvars(
            request_id=request_id, trace_id=traceparent.split("-")[1], service=self.service
        )
        started = time.perf_counter()
        status = 500

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                answer = MutableHeaders(scope=message)
                answer["x-request-id"] = request_id
                answer["traceparent"] = traceparent
            await send(message)

        try:
            await self.app(scope, receive, send_with_context)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            structlog.contextvars.clear_contextvars()
            current_request_id.reset(rid_token)
            current_traceparent.reset(tp_token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        # The router writes the matched route into the scope it was handed: this one.
        template = getattr(scope.get("route"), "path", "unmatched")
        method = scope["method"]
        self.metrics.requests.labels(self.service, method, template, str(status)).inc()
        self.metrics.latency.labels(self.service, method, template).observe(elapsed)
        if not template.startswith(("/healthz", "/readyz", "/metrics")):
            self.log.info(
                "request", method=method, path=scope["path"], status=status,
                ms=round(elapsed * 1000, 1),
            )  # fmt: skip


def configure_tracing(app: FastAPI, service: str, endpoint: str | None) -> None:
    """OpenTelemetry is off unless an OTLP endpoint is configured."""
    if not endpoint:
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": f"shuangsui-{service}"}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"))
    )
    trace.set_tracer_provider(provider)
