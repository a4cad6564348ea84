"""`create_service_app`: the conventions every service starts from, in one place."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from shuangsui.kernel.auth import OPTIONAL_BEARER, TokenVerifier, internal_audience
from shuangsui.kernel.docs import install_docs
from shuangsui.kernel.errors import install_error_handlers
from shuangsui.kernel.observability import (
    HttpMetrics,
    configure_logging,
    configure_tracing,
    install_request_context,
)
from shuangsui.kernel.problems import CATALOGUE, FORBIDDEN, UNAUTHENTICATED, VALIDATION
from shuangsui.kernel.responses import problem_responses
from shuangsui.kernel.settings import BaseServiceSettings
from shuangsui.kernel.storable import refuse_unstorable_text


class Component(Protocol):
    """Something the app starts, stops, and reports in `/readyz` (database, broker link…)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ready(self) -> tuple[bool, str]: ...


# Any operation may answer these (no token, not allowed, a malformed request).
COMMON_RESPONSES = problem_responses(UNAUTHENTICATED, FORBIDDEN, VALIDATION)


# Young objects are collected after this many allocations (CPython's default is 700). A bulk
# push allocates a few dozen objects per row and frees them per chunk; collecting every 700
# allocations spent a tenth of its CPU walking objects that were about to go anyway.
YOUNG_COLLECTION_THRESHOLD = 50_000


def settle_garbage_collector() -> None:
    """Once started, move everything the service built so far (modules, routes, schemas, the
    region index) out of the collector's sight, and collect young objects less often. Once per
    process: an app started again in the same process (tests) finds it done."""
    if gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD:
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)


def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    settings: BaseServiceSettings,
    routers: Sequence[APIRouter] = (),
    components: Sequence[Component] = (),
    version: str = "0.1.0",
    serve_openapi: bool = True,
    accepts_service_calls: bool = True,
) -> FastAPI:
    """`serve_openapi=False` lets an app (the gateway) serve its own /openapi.json and /docs;
    `accepts_service_calls=False` (the gateway, the platform's edge) refuses service tokens."""
    configure_logging(settings.log_level, settings.log_format)
    metrics = HttpMetrics(service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for component in components:
            await component.start()
        settle_garbage_collector()
        try:
            yield
        finally:
            for component in reversed(components):
                await component.stop()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        openapi_url="/openapi.json" if serve_openapi else None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.state.province = settings.province
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier(
        settings.auth_issuer,
        settings.auth_audience,
        jwks_path=settings.auth_jwks_path,
        jwks_url=settings.auth_jwks_url,
        service_audience=(
            internal_audience(settings.auth_audience, service) if accepts_service_calls else None
        ),
    )
    app.state.components = list(components)
    for component in components:
        setattr(app.state, component.name, component)
    install_error_handlers(app)
    install_request_context(app, service, metrics)
    configure_tracing(app, service, settings.otel_exporter_otlp_endpoint)
    _add_operational_routes(app, service, metrics, components)
    for router in routers:
        # First of every operation's dependencies: text PostgreSQL cannot hold is a 422.
        guards = [Depends(refuse_unstorable_text)]
        app.include_router(router, responses=COMMON_RESPONSES, dependencies=guards)
    _document_problems(app)
    if serve_openapi:
        install_docs(app)
    return app


def _add_operational_routes(
    app: FastAPI, service: str, metrics: HttpMetrics, components: Sequence[Component]
) -> None:
    ops = APIRouter(tags=["operations · 运维"])

    @ops.get("/healthz", operation_id=f"{service}_health_get", summary="Alive · 存活检查")
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": service}

    @ops.get(
        "/readyz",
        operation_id=f"{service}_readiness_get",
        summary="Ready: database and broker reachable · 就绪检查",
        responses={503: {"description": "A dependency is not reachable"}},
    )
    async def readyz() -> JSONResponse:
        checks = {}
        for component in components:
            ok, detail = await component.ready()
            checks[component.name] = {"ready": ok, "detail": detail}
        ready = all(c["ready"] for c in checks.values())
        body = {"service": service, "ready": ready, "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    @ops.get(
        "/metrics",
        operation_id=f"{service}_metrics_get",
        summary="Prometheus metrics · 指标",
        response_class=PlainTextResponse,
        responses={200: {"description": "Prometheus text exposition format"}},
    )
    async def prometheus() -> Response:
        return metrics.render()

    @ops.get(
        "/problems",
        operation_id=f"{service}_problems_list",
        summary="Problem types this service answers with · 错误类型",
    )
    async def problems() -> list[dict[str, Any]]:
        return problem_catalogue()

    app.include_router(ops)


def _document_problems(app: FastAPI) -> None:
    """Add the Problem schema to the OpenAPI components so every error response refers to it."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = {
            "type": "object",
            "title": "Problem",
            "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string", "example": "/problems/validation-error"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "request_id": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
            },
        }
        _document_optional_tokens(schema)
        _document_kernel_problems(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_optional_tokens(schema: dict[str, Any]) -> None:
    """An operation on the optional bearer takes no token or the usual one: OpenAPI says that
    with an empty requirement beside the bearer's (FastAPI would document a mandatory token)."""
    schemes = schema.get("components", {}).get("securitySchemes", {})
    if schemes.pop(OPTIONAL_BEARER, None) is None:
        return
    schemes.setdefault("HTTPBearer", {"type": "http", "scheme": "bearer"})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            security = operation.get("security") if isinstance(operation, dict) else None
            if security and {OPTIONAL_BEARER: []} in security:
                operation["security"] = [{}, {"HTTPBearer": []}]


def _document_kernel_problems(schema: dict[str, Any]) -> None:
    """The statuses the kernel itself answers with, on every operation that can meet them: a
    body that cannot be read (400), a page cursor this list did not produce (400), a resource
    named by a path or an id that is not there or not in your region (404), a retry while the
    first request runs (409, Idempotency-Key), a stale or missing If-Match (412, 428). An
    operation's own documentation of a status wins."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            given = {(p.get("in"), p.get("name")) for p in operation.get("parameters", [])}
            names_a_resource = any(
                p.get("in") == "path" or _is_uuid(p.get("schema", {}))
                for p in operation.get("parameters", [])
            )
            statuses = {
                400: "requestBody" in operation or ("query", "cursor") in given,
                404: names_a_resource,
                409: ("header", "Idempotency-Key") in given,
                412: ("header", "If-Match") in given,
                428: ("header", "If-Match") in given,
            }
            responses = operation.setdefault("responses", {})
            for status, applies in statuses.items():
                if applies:
                    documented = problem_responses(descriptions={status: _KERNEL_PROBLEMS[status]})
                    responses.setdefault(str(status), documented[status])


def _is_uuid(schema: dict[str, Any]) -> bool:
    """`{"format": "uuid"}`, or an optional one (`anyOf` with null)."""
    return any(s.get("format") == "uuid" for s in [schema, *schema.get("anyOf", [])])


_KERNEL_PROBLEMS = {
    400: "Body not readable, or page cursor not this list's · 请求体无法解析或分页游标无效",
    404: "No such resource in your region · 未找到",
    409: "The same request is still running, or its answer was lost · 相同请求处理中",
    412: "If-Match is stale · 版本已变",
    428: "If-Match missing · 缺少 If-Match",
}


def problem_catalogue() -> list[dict[str, Any]]:
    return [
        {"type": t.uri, "status": t.status, "title": t.title, "description": t.description}
        for t in sorted(CATALOGUE.values(), key=lambda t: t.name)
    ]
