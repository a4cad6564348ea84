"""Fixtures for kernel tests: a development issuer in a temporary directory, tiny service apps
built with `create_service_app`, and (integration) databases on the session's real PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from shuangsui.devstack.issuer import DevIssuer
from shuangsui.kernel.app import Component, create_service_app
from shuangsui.kernel.db import Database
from shuangsui.kernel.settings import BaseServiceSettings


@pytest.fixture(scope="session")
def dev_issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    issuer = DevIssuer(tmp_path_factory.mktemp("kernel-issuer"))
    issuer.ensure_keys()
    return issuer


@pytest.fixture(scope="session")
def settings_for(dev_issuer: DevIssuer) -> Callable[..., BaseServiceSettings]:
    """Settings of a deployment (province 33 unless told otherwise) trusting `dev_issuer`."""

    def make(province: str = "33") -> BaseServiceSettings:
        return BaseServiceSettings(
            province=province,
            auth_issuer=dev_issuer.issuer,
            auth_audience=dev_issuer.audience,
            auth_jwks_path=str(dev_issuer.jwks_path),
        )

    return make


@pytest.fixture(scope="session")
def token(dev_issuer: DevIssuer) -> Callable[..., str]:
    """`token(roles=[...], region="330000", scopes=[...], exp=..., iss=..., aud=...)`."""

    return dev_issuer.token_for


@pytest.fixture
def build_app(settings_for: Callable[..., BaseServiceSettings]) -> Callable[..., FastAPI]:
    """`build_app(router, components=[...], province="33")`: a service app with test routes."""

    def build(
        *routers: APIRouter, components: Sequence[Component] = (), province: str = "33"
    ) -> FastAPI:
        return create_service_app(
            service="kerneltest",
            title="Kernel test service",
            description="A service that exists only for the kernel's tests",
            settings=settings_for(province),
            routers=routers,
            components=components,
        )

    return build


@pytest.fixture
async def client_of() -> AsyncIterator[Callable[[FastAPI], Awaitable[httpx.AsyncClient]]]:
    """`client = await client_of(app)`: httpx in-process; app errors become answers, not raises."""
    async with contextlib.AsyncExitStack() as opened:

        async def open_client(app: FastAPI) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            client = httpx.AsyncClient(transport=transport, base_url="http://kerneltest")
            return await opened.enter_async_context(client)

        yield open_client


def asyncpg_url(dsn: str) -> str:
    return "postgresql+asyncpg://" + dsn.split("://", 1)[1]


@pytest.fixture
async def database(fresh_database: str) -> AsyncIterator[Database]:
    """The kernel's `Database` on a new empty PostgreSQL database of this test's own."""
    db = Database(asyncpg_url(fresh_database), pool_size=2)
    yield db
    await db.stop()
