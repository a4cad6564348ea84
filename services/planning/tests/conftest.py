"""Planning test helpers: planning in process, and the registry it calls served for real on
the port the stack gives it (planning reaches it over HTTP, as in production)."""

import importlib
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shuangsui.contracts.events.registry_items import ItemListPublished, ItemUpsertedV2
from shuangsui.contracts.events.registry_orgs import OrgUpserted
from shuangsui.devstack.pytest_plugin import environment
from shuangsui.devstack.serving import serving
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.messaging.envelope import Outgoing


@pytest.fixture
async def registry_serving(stack, service_env):
    with environment(service_env("registry")):
        app = importlib.import_module("shuangsui.registry.main").create_app()
    async with serving(app, port=stack.settings.port_of("registry")) as url:
        yield url


@pytest.fixture
async def planning(service_client, registry_serving):
    return await service_client("planning")


# --- Catalogue: registry events as the registry records them, and planning's database ---------


class CatalogueEvents:
    """Builders of the registry's org and item-list events (the v2 item event's example payload
    with what a test changes), as `Outgoing` for `consumer_feed`'s `publish`."""

    @staticmethod
    def item_list(level, province, effective_from, item_ids, version=1, adopted=None):
        published = ItemListPublished(
            list_id=uuid.uuid4(), level=level, province=province, version=version,
            effective_from=effective_from, item_ids=list(item_ids), adopted_list_id=adopted,
            based_on_list_id=None, published_at=datetime.now(UTC),
        )  # fmt: skip
        return Outgoing(published, subject=str(published.list_id), actor="system:registry")

    @staticmethod
    def item(listed, item_id, code, **changes):
        """Item `item_id` of the list event `listed` (an `Outgoing` of `item_list`)."""
        lst = listed.payload
        example = ItemUpsertedV2.model_config["json_schema_extra"]["examples"][0]
        origin = "provincial" if lst.level == "provincial" else "national"
        item = ItemUpsertedV2.model_validate(
            {
                **example, "item_id": item_id, "list_id": lst.list_id, "list_level": lst.level,
                "list_version": lst.version, "province": lst.province,
                "effective_from": lst.effective_from, "origin": origin, "code": code,
                **changes,
            }
        )  # fmt: skip
        return Outgoing(item, subject=str(item_id), actor="system:registry")

    @staticmethod
    def org(org_id, code, level, region, version=1, parent=None, **changes):
        upserted = OrgUpserted(
            **{
                "org_id": org_id, "code": code, "name": f"{code} 市场监督管理局", "level": level,
                "region_code": region, "parent_org_id": parent.org_id if parent else None,
                "parent_code": parent.code if parent else None,
                "department_type": "market_supervision", "is_hq": level != "station",
                "status": "active", "version": version, "changed_at": datetime.now(UTC),
                **changes,
            }
        )  # fmt: skip
        return Outgoing(upserted, subject=str(org_id), actor="system:registry")


@pytest.fixture
def catalogue_events() -> CatalogueEvents:
    return CatalogueEvents()


@pytest.fixture
async def planning_database(stack):
    """Planning's database, for its use cases called directly (as other planning code does)."""
    url = stack.database_url("planning").replace("postgresql://", "postgresql+asyncpg://", 1)
    database = Database(url, pool_size=2)
    yield database
    await database.stop()


@pytest.fixture
def new_uow(planning_database):
    return lambda: UnitOfWork(planning_database)


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


# ---- batches: a catalogue of items in force for the plan tests' years -------------------------

sys.path.insert(0, str(Path(__file__).parent))  # for `planning_testkit`


@pytest.fixture(scope="session")
async def test_catalogue(stack):
    """The items of `planning_testkit`, in force from 2000-01-01 in provinces 33 and 44, written
    once per run as the catalogue consumer would write them (its own tests cover that)."""
    import json
    from datetime import date

    import asyncpg
    import planning_testkit as kit

    conn = await asyncpg.connect(stack.database_url("planning"))
    try:
        for province in kit.PROVINCES:
            list_id = kit.list_id_of(province)
            await conn.execute(
                "INSERT INTO catalogue_lists (list_id, level, province, version, effective_from, "
                "item_ids, adopted_list_id, based_on_list_id, published_at) "
                "VALUES ($1, 'provincial', $2, 1, $3, $4, NULL, NULL, now()) "
                "ON CONFLICT DO NOTHING",
                list_id, province, date(2000, 1, 1), [i["item_id"] for i in kit.ITEMS],
            )  # fmt: skip
            for item in kit.ITEMS:
                await conn.execute(
                    "INSERT INTO catalogue_items (list_id, item_id, list_level, list_version, "
                    "province, effective_from, origin, code, name, business_line, item_category, "
                    "allowed_methods, subject_criteria, required_qualification, min_ratio, "
                    "lead_department, partner_departments, joint, inspection_level, status, "
                    "version) VALUES ($1, $2, 'provincial', 1, $3, $4, 'provincial', $5, $6, "
                    "'综合', $7, $8, $9, $10, $11, '市场监管部门', $12, $13, NULL, 'active', 1) "
                    "ON CONFLICT DO NOTHING",
                    list_id, item["item_id"], province, date(2000, 1, 1), item["code"],
                    item["name"], item["item_category"], item["allowed_methods"],
                    json.dumps({"subject_types": item["subject_types"], "subject_tags": []}),
                    item["required_qualification"], item["min_ratio"],
                    item["partner_departments"], item["joint"],
                )  # fmt: skip
    finally:
        await conn.close()
    return kit


@pytest.fixture
async def batch_world(catalogue_org, bearer):
    """A city bureau, its county bureau (the owner of the plans), a sibling county, two
    emergency-management bureaus (one to invite, one a stranger), and the tokens of each."""
    city = await catalogue_org("city", "330100")
    county = await catalogue_org("county", "330106", parent=city)
    sibling = await catalogue_org("county", "330105", parent=city)
    partner = await catalogue_org("county", "330106", department_type="emergency_management")
    stranger = await catalogue_org("county", "330106", department_type="emergency_management")

    def admin(org, region, role="department_admin"):
        return bearer(role, region=region, org=str(org), sub=f"{role}-{org}")

    return {
        "county": county, "sibling_org": sibling, "partner": partner,
        "owner": admin(county, "330106"), "superior": admin(city, "330100"),
        "sibling": admin(sibling, "330105"),
        "inspector": admin(county, "330106", "inspector"),
        "partner_admin": admin(partner, "330106", "partner_admin"),
        "partner_inspector": admin(partner, "330106", "inspector"),
        "stranger_admin": admin(stranger, "330106", "partner_admin"),
        "other_province": bearer("department_admin", region="440106", org=str(county)),
        "anonymous": {},
    }  # fmt: skip
