"""Planning test helpers: planning in process, and the registry it calls served for real on
the port the stack gives it (planning reaches it over HTTP, as in production)."""

import importlib

import pytest

from shuangsui.devstack.pytest_plugin import environment
from shuangsui.devstack.serving import serving


@pytest.fixture
async def registry_serving(stack, service_env):
    with environment(service_env("registry")):
        app = importlib.import_module("shuangsui.registry.main").create_app()
    async with serving(app, port=stack.settings.port_of("registry")) as url:
        yield url


@pytest.fixture
async def planning(service_client, registry_serving):
    return await service_client("planning")
