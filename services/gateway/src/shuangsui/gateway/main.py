"""The gateway: one API for the provincial platform (`uvicorn --factory shuangsui.gateway.main:create_app`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import StreamingResponse

from shuangsui.gateway.openapi import merge_openapi
from shuangsui.gateway.problems import problem_page
from shuangsui.gateway.proxy import forward
from shuangsui.gateway.settings import SERVICE, Settings
from shuangsui.gateway.upstreams import Upstreams
from shuangsui.kernel.app import create_service_app
from shuangsui.kernel.auth import TokenVerifier
from shuangsui.kernel.docs import install_docs
from shuangsui.kernel.settings import load_settings

_bearer = HTTPBearer(auto_error=False)
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
        routers=[_routes(upstreams)],
        components=[upstreams, *upstreams.services()],
        serve_openapi=False,
        accepts_service_calls=False,
    )
    _merge_openapi(app, upstreams)
    return app


def _routes(upstreams: Upstreams) -> APIRouter:
    router = APIRouter()

    async def verified_if_present(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> None:
        """Reject a bad token at the edge; a missing one is the service's call (public reads)."""
        if credentials is not None:
            verifier: TokenVerifier = request.app.state.token_verifier
            verifier.verify(credentials.credentials)

    @router.api_route(
        "/api/v1/{service}/{path:path}",
        methods=PROXIED_METHODS,
        include_in_schema=False,
        dependencies=[Depends(verified_if_present)],
    )
    async def proxy(request: Request, service: str, path: str) -> StreamingResponse:
        return await forward(request, upstreams.client, upstreams.urls, service)

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
