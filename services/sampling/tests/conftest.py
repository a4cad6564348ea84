"""Sampling test helpers: sampling's database (the stack's, or a fresh one migrated for a test
that needs an empty read model), the registry served for real on the port the stack gives it
(sampling reaches it over HTTP, as in production), and builders of the registry's and
planning's events as their outboxes record them."""

import asyncio
import importlib
import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest
from stdnum.cn import uscc as stdnum_uscc

from shuangsui.contracts.events.planning_batches import BatchCancelled, BatchPublished
from shuangsui.contracts.events.registry_inspectors import (
    InspectorConflictDeclared,
    InspectorUpserted,
)
from shuangsui.contracts.events.registry_orgs import OrgUpserted
from shuangsui.contracts.events.registry_subjects import (
    RiskClassChanged,
    RiskClassChangedV2,
    SubjectTags,
    SubjectUpserted,
    TagsChanged,
)
from shuangsui.devstack.pytest_plugin import environment
from shuangsui.devstack.serving import serving
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.kernel.migrations import upgrade
from shuangsui.kernel.settings import load_settings
from shuangsui.messaging.envelope import Outgoing
from shuangsui.messaging.platform import new_unit_of_work
from shuangsui.sampling.adapters import subjects as subjects_repo
from shuangsui.sampling.domain.subjects import SUBJECTS
from shuangsui.sampling.settings import Settings


def make_uscc(number: int, region: str = "330106") -> str:
    """A valid USCC whose body encodes `number` (the check character is the standard's)."""
    body = f"91{region}{number:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


_BATCH_CODES: set[str] = set()


def fresh_batch_code(region: str = "330106") -> str:
    """A batch code no other test takes: draw codes derive from it and are unique in the shared
    database, which may hold earlier sessions' draws too, so the date part is drawn as well as
    the sequence (some 270 million codes per region)."""
    import random
    from datetime import date, timedelta

    while True:
        day = date(2026, 1, 1) + timedelta(days=random.randrange(27_000))
        code = f"{region}{day:%Y%m%d}{random.randrange(1, 10_000):04d}"
        if code not in _BATCH_CODES:
            _BATCH_CODES.add(code)
            return code


@pytest.fixture
def batch_code():
    """`batch_code()`: a fresh public batch code (see `fresh_batch_code`)."""
    return fresh_batch_code


@pytest.fixture
def uscc():
    return make_uscc


@pytest.fixture
async def registry_serving(stack, service_env):
    with environment(service_env("registry")):
        app = importlib.import_module("shuangsui.registry.main").create_app()
    async with serving(app, port=stack.settings.port_of("registry")) as url:
        yield url


@pytest.fixture
async def sampling(service_client):
    return await service_client("sampling")


@pytest.fixture
async def sampling_database(stack):
    url = stack.database_url("sampling").replace("postgresql://", "postgresql+asyncpg://", 1)
    database = Database(url, pool_size=2)
    yield database
    await database.stop()


@pytest.fixture
def new_uow(sampling_database):
    return lambda: UnitOfWork(sampling_database)


def rows_fetcher(dsn):
    async def fetch(query, *args):
        conn = await asyncpg.connect(dsn)
        try:
            return [dict(r) for r in await conn.fetch(query, *args)]
        finally:
            await conn.close()

    return fetch


@pytest.fixture
def sampling_rows(stack):
    """`await sampling_rows("SELECT …", *args)`: what sampling's database holds."""
    return rows_fetcher(stack.database_url("sampling"))


@pytest.fixture
async def fresh_sampling(fresh_database):
    """A sampling database of its own, migrated and empty: a read model never loaded."""
    await asyncio.to_thread(upgrade, "shuangsui.sampling", fresh_database)
    return fresh_database


@pytest.fixture
def sampling_settings(service_env):
    """`sampling_settings(DATABASE_URL=…, NATS_URL=…)`: sampling's settings on the stack, with
    what the test changes."""

    def settings(**overrides: str) -> Settings:
        with environment({**service_env("sampling"), **overrides}):
            return load_settings(Settings, "sampling")

    return settings


class SubjectEvents:
    """Builders of the registry's subject events, as `Outgoing` for `consumer_feed`'s
    `publish`."""

    @staticmethod
    def upserted(uscc, version=1, classification=1, item_ids=(), tags=None, **changes):
        subject = SubjectUpserted(
            **{
                "subject_id": uuid.uuid5(uuid.NAMESPACE_OID, uscc), "uscc": uscc,
                "name": f"{uscc} 第{version}版", "subject_type": "enterprise",
                "status": "active", "region_code": "330106", "unit_code": "330106-XH01",
                "industry_code": "H6210", "registered_address": "西湖区文三路1号",
                "business_address": None, "registered_on": "2019-04-02",
                "tags": tags if tags is not None else {"format": ["餐饮服务"]},
                "applicable_item_ids": list(item_ids), "classification": classification,
                "version": version, "source": "zj-aic",
                "source_updated_at": datetime(2025, 3, version, tzinfo=UTC), **changes,
            }
        )  # fmt: skip
        return Outgoing(subject, subject=str(subject.subject_id), actor="zj-aic")

    @staticmethod
    def risk_class(uscc, new_class, as_of, domain="general", v1=False):
        fields = {
            "subject_id": uuid.uuid5(uuid.NAMESPACE_OID, uscc), "uscc": uscc, "domain": domain,
            "old_class": None, "new_class": new_class, "source": "zj-credit", "as_of": as_of,
        }  # fmt: skip
        if v1:
            change = RiskClassChanged(**fields)
        else:
            change = RiskClassChangedV2(**fields, region_code="330106", unit_code="330106-XH01")
        return Outgoing(change, subject=str(fields["subject_id"]), actor="zj-credit")

    @staticmethod
    def tags_changed(classification, *subjects):
        """`subjects`: (uscc, tags, item_ids) each."""
        changed = TagsChanged(
            classification=classification,
            rules_version=classification,
            changes=[
                SubjectTags(
                    subject_id=uuid.uuid5(uuid.NAMESPACE_OID, code),
                    uscc=code,
                    tags=tags,
                    applicable_item_ids=list(items),
                )
                for code, tags, items in subjects
            ],
        )
        return Outgoing(changed, subject=f"classification-{classification}", actor="system")


@pytest.fixture
def subject_events():
    return SubjectEvents()


class DirectoryEvents:
    """The registry's directory events (officers, conflicts, orgs), as `Outgoing` for `consumer_feed`'s `publish`."""

    @staticmethod
    def inspector(inspector_id, version=1, **changes):
        upserted = InspectorUpserted(
            **{
                "inspector_id": inspector_id, "name": "张三", "org_code": "330106-AMR",
                "region_code": "330106", "station_code": "330106-01",
                "department_type": "market_supervision", "qualifications": ["food_safety"],
                "specialties": ["catering"], "cert_valid_until": date(2027, 12, 31),
                "status": "active", "version": version, "changed_at": datetime.now(UTC),
                **changes,
            }
        )  # fmt: skip
        return Outgoing(upserted, subject=str(inspector_id), actor="system:registry")

    @staticmethod
    def org(org_id, code, version=1, **changes):
        upserted = OrgUpserted(
            **{
                "org_id": org_id, "code": code, "name": "测试市场监督管理局", "level": "county",
                "region_code": "330106", "parent_org_id": None, "parent_code": None,
                "department_type": "market_supervision", "is_hq": True, "status": "active",
                "version": version, "changed_at": datetime.now(UTC), **changes,
            }
        )  # fmt: skip
        return Outgoing(upserted, subject=str(org_id), actor="system:registry")

    @staticmethod
    def conflict(conflict_id, inspector_id, uscc, inspector_version, withdrawn=False):
        declared = InspectorConflictDeclared(
            conflict_id=conflict_id, inspector_id=inspector_id, subject_uscc=uscc,
            since=date(2025, 1, 1), source="directory", withdrawn=withdrawn,
            inspector_version=inspector_version, changed_at=datetime.now(UTC),
        )  # fmt: skip
        return Outgoing(declared, subject=str(inspector_id), actor="system:registry")


class BatchEvents:
    """Planning's batch events (the published event's example payload with what a test
    changes), as `Outgoing` for `consumer_feed`'s `publish`."""

    @staticmethod
    def published(batch_id=None, **changes):
        example = BatchPublished.model_config["json_schema_extra"]["examples"][0]
        batch = BatchPublished.model_validate(
            {**example, "batch_id": batch_id or uuid.uuid4(), **changes}
        )
        return Outgoing(batch, subject=str(batch.batch_id), actor="system:planning")

    @staticmethod
    def cancelled(published, reason="计划调整：并入第二批", cancelled_from="published"):
        batch = published.payload
        cancelled = BatchCancelled(
            batch_id=batch.batch_id, batch_code=batch.batch_code, plan_id=batch.plan_id,
            reason=reason, cancelled_from=cancelled_from, cancelled_at=datetime.now(UTC),
        )  # fmt: skip
        return Outgoing(cancelled, subject=str(batch.batch_id), actor="system:planning")


@pytest.fixture
def directory_events() -> DirectoryEvents:
    return DirectoryEvents()


@pytest.fixture
def batch_events() -> BatchEvents:
    return BatchEvents()


@pytest.fixture
def messaging_uow(sampling_database):
    """Units of work that write sampling's outbox, as the worker's and the API's do."""
    return lambda: new_unit_of_work(sampling_database, "p33", "sampling")


@pytest.fixture
def model_current_to(new_uow):
    """`await model_current_to(at)`: the subjects read model as loaded, and current to `at`
    (what the worker records)."""

    async def mark(at):
        header = {"type": "header", "format": "shuangsui.registry.export.v1",
                  "snapshot": "10:12:11", "taken_at": at.isoformat(),
                  "covers": ["registry.subject."]}  # fmt: skip
        async with new_uow() as uow:
            await subjects_repo.save_loaded(uow.session, SUBJECTS, header, 0, at)
            await subjects_repo.save_checked(uow.session, SUBJECTS, at, 0, at)
            await uow.commit()

    return mark


@pytest.fixture
async def current_model(model_current_to, sampling_rows):
    """The subjects read model current to now, so a draw may be prepared."""
    await model_current_to(datetime.now(UTC))
    yield
    await sampling_rows("DELETE FROM read_models WHERE model = $1 RETURNING model", SUBJECTS)
