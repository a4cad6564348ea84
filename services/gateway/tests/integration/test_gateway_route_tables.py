"""The gateway learns which operations need a token from the services' own documents, and
learns again when a service comes back."""

from __future__ import annotations

import asyncio

from shuangsui.devstack.ports import free_port
from shuangsui.gateway.routes import RouteTables
from shuangsui.gateway.upstreams import Upstreams

PUSH = "/api/v1/registry/subjects:bulk"
PUBLIC = "/api/v1/registry/item-lists"


async def test_a_service_that_comes_back_is_asked_again_for_its_routes(registry_on_port):
    port = free_port()
    upstreams = Upstreams({"registry": f"http://127.0.0.1:{port}"}, timeout=5)
    tables = RouteTables(upstreams, max_age=60, retry_after=0.2)
    try:
        assert await tables.requires_token("registry", "POST", PUSH) is None, "down: unknown"
        with registry_on_port(port):
            await asyncio.sleep(0.3)
            assert await tables.requires_token("registry", "POST", PUSH) is True
            assert await tables.requires_token("registry", "GET", PUBLIC) is False
        await asyncio.sleep(0.3)
        # Down again: what it said is kept, so the edge stays as strict as the service was.
        assert await tables.requires_token("registry", "POST", PUSH) is True
    finally:
        await upstreams.stop()


async def test_a_service_the_gateway_does_not_route_to_has_no_table():
    upstreams = Upstreams({"registry": f"http://127.0.0.1:{free_port()}"}, timeout=5)
    try:
        tables = RouteTables(upstreams, max_age=60)
        assert await tables.requires_token("elsewhere", "POST", PUSH) is None
    finally:
        await upstreams.stop()
