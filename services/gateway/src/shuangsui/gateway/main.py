"""The gateway: one API for the provincial platform (`uvicorn --factory shuangsui.gateway.main:create_app`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.responses import StreamingResponse

from shuangsui.gateway.openapi import merge_openapi
from shuangsui.gateway.problems import problem_page
from shuangsui.gateway.proxy import forward
from shuangsui.gateway.routes import RouteTables
from shuangsui.gateway.settings import SERVICE, Settings
from shuangsui.gateway.upstreams import Upstreams
from shuangsui.kernel.app import create_service_app
from shuangsui.kernel.auth import MISSING_CREDENTIALS, TokenVerifier, bearer_challenge
from shuangsui.kernel.docs import install_docs
from shuangsui.kernel.problems import Problem
from shuangsui.kernel.settings import load_settings

PROXIED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def create_app() -> FastAPI:
    settings = load_settings(Settings, SERVICE)
    upstreams = Upstreams(settings.upstreams(), settings.upstream_timeout_seconds)
    app = create_service_app(
        service=SERVICE,
        title="Shuangsui platform API · 双随机一公开监管平台",
        description="One API for the provincial platform: every service's routes under "
        "`/api/v1/<service>/`, forwarded unchanged with the caller's token and trace. "
        "Errors are RFC 9457 problem documents; their types are listed at `/problems`.",
        settings=settings,
        routers=[_routes(upstreams, RouteTables(upstreams, settings.route_table_max_age_seconds))],
        components=[upstreams, *upstreams.services()],
        serve_openapi=False,
        accepts_service_calls=False,
    )
    _merge_openapi(app, upstreams)
    return app


def _routes(upstreams: Upstreams, tables: RouteTables) -> APIRouter:
    router = APIRouter()

    async def authenticated_at_the_edge(request: Request, service: str) -> None:
        """401 at the edge (ADR 0006), before any of the body is forwarded: a token that is
        malformed, empty or does not verify; none, for an operation the service documents as
        needing one. Public reads, and operations the service does not document, go on."""
        headers = request.headers.getlist("authorization")
        if len(headers) > 1:
            raise bearer_challenge("send one Authorization header, `Bearer <access token>`")
        if headers:
            scheme, _, token = headers[0].partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise bearer_challenge("the Authorization header must be `Bearer <access token>`")
            verifier: TokenVerifier = request.app.state.token_verifier
            try:
                verifier.verify(token)
            except Problem as problem:
                raise bearer_challenge(problem.detail or "invalid token") from None
        elif await tables.requires_token(service, request.method, request.url.path):
            raise bearer_challenge(MISSING_CREDENTIALS)

    @router.api_route(
        "/api/v1/{service}/{path:path}",
        methods=PROXIED_METHODS,
        include_in_schema=False,
        dependencies=[Depends(authenticated_at_the_edge)],
    )
    async def proxy(request: Request, service: str, path: str) -> StreamingResponse:
        return await forward(request, upstreams, service)

    @router.get("/problems/{name}", include_in_schema=False)
    async def problem(name: str) -> HTMLResponse:
        return await problem_page(upstreams, name)

    @router.get("/problems.html", include_in_schema=False)
    async def all_problems() -> HTMLResponse:
        return await problem_page(upstreams, None)

    return router


def _merge_openapi(app: FastAPI, upstreams: Upstreams) -> None:
    own = app.openapi

    install_docs(app)

    @app.get("/openapi.json", include_in_schema=False)
    async def merged() -> JSONResponse:
        docs: dict[str, dict[str, Any]] = {}
        for service in upstreams.urls:
            try:
                docs[service] = await upstreams.fetch_json(service, "/openapi.json")
            except Exception:  # a service that is down is left out, not fatal to the document
                continue
        return JSONResponse(merge_openapi(own(), docs))
