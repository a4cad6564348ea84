"""The registry arranged for batch previews, shared by the preview's service and API tests: two
national items in force in Zhejiang and a handful of subjects, pushed, classified and counted
as the registry's worker would leave them.

The registry database is shared by the session: the subjects live in two counties no other
planning test pushes to (义乌 330782, 东阳 330783), under items published here. What the
registry then holds per item (the unclassified drawn as B):

- `food` (enterprises and individuals): A 2, B 3, C 1, D 1 — 义乌 5, 东阳 2;
- `all` (every subject type): A 2, B 5, C 1, D 1 — `food`'s and the cooperatives.

Imported by test modules as `batch_preview_testkit` (conftest.py puts this folder on the path).
"""

from __future__ import annotations

import importlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from stdnum.cn import uscc as stdnum_uscc

from shuangsui.contracts.workdays import shanghai_date
from shuangsui.devstack.ports import free_port
from shuangsui.devstack.pytest_plugin import environment
from shuangsui.devstack.serving import serving
from shuangsui.kernel.db import Database
from shuangsui.messaging.platform import new_unit_of_work

BASE = "/api/v1/registry"
YIWU, DONGYANG = "330782", "330783"
NDJSON = {"content-type": "application/x-ndjson"}
AGENCY_CODE = "11330000002482150A1"

# (county, subject type, industry, status, general risk class or None): what the registry holds.
SUBJECTS = [
    (YIWU, "enterprise", "H6210", "active", "A"),
    (YIWU, "enterprise", "H6210", "active", "A"),
    (YIWU, "enterprise", "F5221", "active", "C"),
    (YIWU, "individual", "H6220", "active", "B"),
    (YIWU, "individual", "H6220", "active", None),
    (YIWU, "cooperative", "H6210", "active", None),
    (YIWU, "enterprise", "H6210", "cancelled", "A"),  # not in business: never counted
    (DONGYANG, "enterprise", "F5221", "active", "D"),
    (DONGYANG, "enterprise", "H6210", "active", None),
    (DONGYANG, "cooperative", "F5221", "active", "B"),
]


async def seed_registry(stack, service_env, mint_token) -> dict[str, uuid.UUID]:
    """Publish the items `food` and `all`, push SUBJECTS and their classes, settle; the items'
    ids by name. The registry is served on a port of its own while it is arranged."""
    with environment(service_env("registry")):
        app = importlib.import_module("shuangsui.registry.main").create_app()
    national = _auth(mint_token(roles=["national_admin"], region="100000"))
    admin = _auth(mint_token(roles=["provincial_admin"], region="330000"))
    async with (
        serving(app, port=free_port()) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as registry,
    ):
        ids = await _publish_items(
            registry, national, admin, {"food": ["enterprise", "individual"],
            "all": ["enterprise", "individual", "cooperative", "other"]},
        )  # fmt: skip
        await _settle(stack)
        await _push(registry, mint_token)
        await _settle(stack)
    return ids


# ---- the registry, arranged through its API and its worker's steps ---------------------------


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ndjson(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


async def _publish_items(
    registry: httpx.AsyncClient,
    national: dict[str, str],
    admin: dict[str, str],
    types: dict[str, list[str]],
) -> dict[str, uuid.UUID]:
    """A new national list version with one item per entry of `types`, then (when Zhejiang has
    a list of its own) a provincial version adopting it (R1)."""
    list_id = await _new_version(registry, "national", national)
    ids = {}
    for name, subject_types in types.items():
        body = {
            "code": f"PV-{uuid.uuid4().hex[:8]}", "name": f"预览测试检查（{name}）",
            "business_line": "市场监管", "item_category": "general",
            "responsible_department": "市场监管部门", "legal_basis": ["《市场监督管理行政执法责任制规定》"],
            "allowed_methods": ["on_site"], "iplus_item_code": "11330000000001",
            "implementation_codes": [AGENCY_CODE], "subject_types": subject_types,
        }  # fmt: skip
        added = await registry.post(
            f"{BASE}/item-lists/{list_id}/items", json=body, headers=national
        )
        assert added.status_code == 201, added.text
        ids[name] = uuid.UUID(added.json()["item_id"])
    await _publish(registry, list_id, national)
    if await _versions(registry, "provincial", admin):
        await _publish(registry, await _new_version(registry, "provincial", admin), admin)
    return ids


async def _versions(registry, level, auth) -> list[dict[str, Any]]:
    answer = await registry.get(
        f"{BASE}/item-lists", params={"level": level, "limit": 500}, headers=auth
    )
    return list(answer.json()["items"])


async def _new_version(registry, level, auth) -> str:
    versions = await _versions(registry, level, auth)
    for pending in [v for v in versions if v["status"] == "draft"]:
        await _publish(registry, pending["list_id"], auth)
    latest = max((date.fromisoformat(v["effective_from"]) for v in versions), default=None)
    effective = latest + timedelta(days=1) if latest else date(2020, 1, 1)
    answer = await registry.post(
        f"{BASE}/item-lists", json={"level": level, "effective_from": str(effective)}, headers=auth
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["list_id"])


async def _publish(registry, list_id, auth) -> None:
    path = f"{BASE}/item-lists/{list_id}"
    etag = (await registry.get(path, headers=auth)).headers["etag"]
    done = await registry.post(f"{path}:publish", headers={**auth, "If-Match": etag})
    assert done.status_code == 200, done.text


async def _push(registry: httpx.AsyncClient, mint_token) -> None:
    pusher = _auth(
        mint_token(roles=["integrator"], region="330000", scopes=["registry:subjects:push"],
                   sub="zj-aic")
    )  # fmt: skip
    classifier = _auth(
        mint_token(roles=["integrator"], region="330000", scopes=["registry:risk-classes:push"])
    )
    rows, classes = [], []
    for number, (county, kind, industry, status, risk) in enumerate(SUBJECTS, start=1):
        body = f"91{county}{880_000_000 + number:09d}"
        uscc = body + stdnum_uscc.calc_check_digit(body)
        rows.append({
            "uscc": uscc, "name": f"预览测试{number}有限公司", "subject_type": kind,
            "status": status, "region_code": county, "legal_representative": "张三",
            "industry_code": industry, "source": "zj-aic",
            "source_updated_at": "2025-03-01T08:00:00+08:00",
        })  # fmt: skip
        if risk is not None:
            classes.append({
                "uscc": uscc, "risk_class": risk, "domain": "general", "source": "zj-credit",
                "as_of": "2025-01-01T00:00:00Z",
            })  # fmt: skip
    pushed = await registry.post(
        f"{BASE}/subjects:bulk", content=_ndjson(rows), headers={**pusher, **NDJSON}
    )
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["rejected"] == 0, pushed.text
    classified = await registry.post(
        f"{BASE}/risk-classes:bulk", content=_ndjson(classes), headers={**classifier, **NDJSON}
    )
    assert classified.status_code == 200, classified.text


async def _settle(stack) -> None:
    """What the registry's worker does: follow the items in force, finish the pass, fold the
    counts (its own tests cover each step)."""
    steps = importlib.import_module("shuangsui.registry.service.classification")
    today = shanghai_date(datetime.now(UTC))
    url = stack.database_url("registry").replace("postgresql://", "postgresql+asyncpg://", 1)
    database = Database(url, pool_size=2)
    try:

        def new_uow():
            return new_unit_of_work(database, "p33", "registry")

        await steps.follow_items_in_force(new_uow(), steps.families_of("33"), today)
        while await steps.run_pass_step(new_uow()):
            pass
        await steps.run_pass_step(new_uow())  # the closing step marks the pass done
        await steps.fold_counts(new_uow())
    finally:
        await database.stop()
