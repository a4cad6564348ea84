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


# ---- annual plans: orgs seeded straight into the catalogue read model ------------------------


@pytest.fixture
def catalogue_org(stack):
    """`org_id = await catalogue_org("county", "330106", parent=city_id)`: a row of
    `catalogue_orgs` as the catalogue consumer would write it (its own tests cover that)."""
    import uuid
    from datetime import UTC, datetime

    import asyncpg

    async def seed(
        level, region, *, parent=None, department_type="market_supervision", status="active"
    ):
        org_id = uuid.uuid4()
        conn = await asyncpg.connect(stack.database_url("planning"))
        try:
            await conn.execute(
                "INSERT INTO catalogue_orgs (org_id, code, name, level, region_code, "
                "parent_org_id, parent_code, department_type, is_hq, status, version, changed_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, false, $8, 1, $9)",
                org_id, f"{region}-{org_id.hex[:6]}", f"{region} {level} bureau", level, region,
                parent, department_type, status, datetime.now(UTC),
            )  # fmt: skip
        finally:
            await conn.close()
        return org_id

    return seed


@pytest.fixture
def planning_rows(stack):
    """`await planning_rows("SELECT …", *args)`: what planning's database holds."""
    import asyncpg

    async def fetch(query, *args):
        conn = await asyncpg.connect(stack.database_url("planning"))
        try:
            return [dict(r) for r in await conn.fetch(query, *args)]
        finally:
            await conn.close()

    return fetch
