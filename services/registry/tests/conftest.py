"""Registry test helpers: valid USCCs on demand, pushed rows, tokens, and the catalogue (rules,
items in force, what the worker does) arranged through the API."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from stdnum.cn import uscc as stdnum_uscc

from shuangsui.contracts.workdays import shanghai_date
from shuangsui.kernel.db import Database, UnitOfWork
from shuangsui.messaging.outbox import outbox_writer
from shuangsui.registry.service.classification import (
    families_of,
    fold_counts,
    follow_items_in_force,
    run_pass_step,
)

BASE = "/api/v1/registry"
AGENCY_CODE = "11330000002482150A1"  # an implementing agency's USCC and digit (检查实施清单编码)


def make_uscc(number: int, region: str = "330106") -> str:
    """A valid USCC whose body encodes `number` (the check character is the standard's)."""
    body = f"91{region}{number:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


@pytest.fixture
def uscc() -> Callable[..., str]:
    return make_uscc


@pytest.fixture
def subject_row() -> Callable[..., dict[str, Any]]:
    def row(number: int, **fields: Any) -> dict[str, Any]:
        base = {
            "uscc": make_uscc(number),
            "name": f"杭州测试企业{number}有限公司",
            "subject_type": "enterprise",
            "status": "active",
            "region_code": "330106",
            "legal_representative": "张三",
            "industry_code": "C1419",
            "source": "zj-aic",
            "source_updated_at": "2025-03-01T08:00:00+08:00",
        }
        return {**base, **fields}

    return row


@pytest.fixture
async def registry(service_client):
    """The registry app in process (real PostgreSQL and NATS behind it)."""
    return await service_client("registry")


@pytest.fixture
def admin(mint_token) -> dict[str, str]:
    """Zhejiang's provincial administrator."""
    return {"Authorization": f"Bearer {mint_token(roles=['provincial_admin'], region='330000')}"}


@pytest.fixture
def national(mint_token) -> dict[str, str]:
    """A national administrator (SAMR), who keeps the national item list."""
    return {"Authorization": f"Bearer {mint_token(roles=['national_admin'], region='100000')}"}


@pytest.fixture
def pusher(mint_token) -> dict[str, str]:
    """Zhejiang's registration system, allowed to push subjects."""
    token = mint_token(
        roles=["integrator"], region="330000", scopes=["registry:subjects:push"], sub="zj-aic"
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def database(stack):
    """The registry's database for use cases called directly (what the worker does)."""
    url = stack.database_url("registry").replace("postgresql://", "postgresql+asyncpg://", 1)
    db = Database(url)
    yield db
    await db.stop()


@pytest.fixture
def new_uow(database) -> Callable[[], UnitOfWork]:
    return lambda: UnitOfWork(database, event_writer=outbox_writer("p33", "registry"))


@pytest.fixture
def announced(ledger) -> Callable[[str], Any]:
    """`await announced(event_type)`: the data of every such event in the outbox, in order."""
    return ledger("registry").announced_data


@dataclass
class Catalogue:
    """Zhejiang's tag rules and items in force, as tests arrange them through the API, and what
    the worker would do next. The database is shared by the session: rules and items other
    tests published are there too."""

    registry: Any
    admin: dict[str, str]
    national: dict[str, str]
    new_uow: Callable[[], UnitOfWork]

    async def replace_rules(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        etag = (await self.registry.get(f"{BASE}/tag-rules", headers=self.admin)).headers["etag"]
        answer = await self.registry.put(
            f"{BASE}/tag-rules",
            json={"rules": rules, "note": "test"},
            headers={**self.admin, "If-Match": etag},
        )
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    async def publish_national_item(self, **item: Any) -> str:
        """A new national list version holding one more item, in force in Zhejiang; returns
        the item's id."""
        draft = await self._draft("national", self.national, first="2020-01-01", reuse=True)
        body = {
            "code": f"IX-{uuid.uuid4().hex[:8]}", "name": "餐饮服务食品安全检查",
            "business_line": "食品安全", "item_category": "key",
            "responsible_department": "市场监管部门", "legal_basis": ["《中华人民共和国食品安全法》"],
            "allowed_methods": ["on_site"], "iplus_item_code": "11330000000001",
            "implementation_codes": [AGENCY_CODE], **item,
        }  # fmt: skip
        added = await self.registry.post(
            f"{BASE}/item-lists/{draft['list_id']}/items", json=body, headers=self.national
        )
        assert added.status_code == 201, added.text
        await self._publish(draft["list_id"], self.national)
        await self._adopt_in_zhejiang()
        return str(added.json()["item_id"])

    async def settle(self) -> None:
        """What the worker does: follow the items in force, finish every pass, fold the counts."""
        today = shanghai_date(datetime.now(UTC))
        await follow_items_in_force(self.new_uow(), families_of("33"), today)
        while await run_pass_step(self.new_uow()):
            pass
        await run_pass_step(self.new_uow())  # the closing step marks the pass done
        await fold_counts(self.new_uow())

    async def _adopt_in_zhejiang(self) -> None:
        """Once Zhejiang has a list of its own (other tests may have published one), national
        items apply there through a provincial version adopting the latest national one (R1)."""
        if not await self._versions("provincial", self.admin):
            return  # no provincial list yet: the national list applies as it is
        draft = await self._draft("provincial", self.admin, first="2021-01-01", reuse=False)
        await self._publish(draft["list_id"], self.admin)

    async def _versions(self, level: str, auth: dict[str, str]) -> list[dict[str, Any]]:
        answer = await self.registry.get(
            f"{BASE}/item-lists", params={"level": level, "limit": 500}, headers=auth
        )
        return list(answer.json()["items"])

    async def _draft(
        self, level: str, auth: dict[str, str], first: str, reuse: bool
    ) -> dict[str, Any]:
        """The draft to add to: one left open by another test, or (`reuse=False`: a provincial
        draft adopts the national version of the day it was opened) a fresh one after
        publishing it."""
        versions = await self._versions(level, auth)
        for pending in [v for v in versions if v["status"] == "draft"]:
            if reuse:
                return pending
            await self._publish(pending["list_id"], auth)
        latest = max((date.fromisoformat(v["effective_from"]) for v in versions), default=None)
        effective = latest + timedelta(days=1) if latest else date.fromisoformat(first)
        answer = await self.registry.post(
            f"{BASE}/item-lists", json={"level": level, "effective_from": str(effective)},
            headers=auth,
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    async def _publish(self, list_id: str, auth: dict[str, str]) -> None:
        path = f"{BASE}/item-lists/{list_id}"
        etag = (await self.registry.get(path, headers=auth)).headers["etag"]
        done = await self.registry.post(f"{path}:publish", headers={**auth, "If-Match": etag})
        assert done.status_code == 200, done.text


@pytest.fixture
def catalogue(registry, admin, national, new_uow) -> Catalogue:
    return Catalogue(registry, admin, national, new_uow)
