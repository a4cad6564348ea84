"""What planning's integration tests share beyond fixtures: the items of the test catalogue and a
valid batch for a plan, so a test that only needs "a plan with a batch" gets one in one line.

Imported by test modules as `planning_testkit` (conftest.py puts this folder on the path)."""

from __future__ import annotations

import uuid
from typing import Any

PLANS = "/api/v1/planning/plans"
BATCHES = "/api/v1/planning/batches"
_NS = uuid.UUID("6f1c2a4e-9b7d-4e3f-8a21-5c0d7e9f1b32")

# Items of the test catalogue, in force from 2000 for provinces 33 and 44 (the years plan tests
# use; the catalogue's own tests work in years from 2301, which this list does not reach).
GENERAL = uuid.uuid5(_NS, "general")  # any method, enterprises and individuals
KEY_FOOD = uuid.uuid5(_NS, "key-food")  # key item, food_safety lead, 3% floor
JOINT = uuid.uuid5(_NS, "joint")  # led by market supervision, with emergency management
SPECIAL = uuid.uuid5(_NS, "special")  # special_equipment lead
SECOND = uuid.uuid5(_NS, "second")  # another general item, for internal joint batches
PROVINCES = ("330000", "440000")

ITEMS: list[dict[str, Any]] = [
    {"item_id": GENERAL, "code": "T-GEN-001", "name": "企业公示信息检查", "item_category": "general",
     "allowed_methods": ["on_site", "documentary", "online", "entrusted"],
     "subject_types": ["enterprise", "individual"], "required_qualification": None,
     "min_ratio": None, "partner_departments": [], "joint": False},
    {"item_id": KEY_FOOD, "code": "T-KEY-001", "name": "餐饮服务食品安全检查",
     "item_category": "key", "allowed_methods": ["on_site"], "subject_types": ["enterprise"],
     "required_qualification": "food_safety", "min_ratio": 0.03, "partner_departments": [],
     "joint": False},
    {"item_id": JOINT, "code": "T-JNT-001", "name": "危险化学品经营单位联合检查",
     "item_category": "general", "allowed_methods": ["on_site", "documentary"],
     "subject_types": ["enterprise"], "required_qualification": None, "min_ratio": None,
     "partner_departments": ["应急管理部门"], "joint": True},
    {"item_id": SPECIAL, "code": "T-SPE-001", "name": "电梯使用单位检查", "item_category": "general",
     "allowed_methods": ["on_site"], "subject_types": ["enterprise"],
     "required_qualification": "special_equipment", "min_ratio": None,
     "partner_departments": [], "joint": False},
    {"item_id": SECOND, "code": "T-GEN-002", "name": "产品质量检查", "item_category": "general",
     "allowed_methods": ["on_site", "documentary"], "subject_types": ["enterprise"],
     "required_qualification": None, "min_ratio": None, "partner_departments": [],
     "joint": False},
]  # fmt: skip


def list_id_of(province: str) -> uuid.UUID:
    return uuid.uuid5(_NS, f"list-{province}")


def batch_body(region_code: str, year: int, **changes: Any) -> dict[str, Any]:
    """A batch that keeps every rule for a plan of `year` in `region_code` (default policy)."""
    body: dict[str, Any] = {
        "name": f"{year}年度第一批双随机抽查",
        "item_ids": [str(GENERAL)],
        "scope": {"region_codes": [region_code]},
        "quantity": {"A": "3%", "B": "10%", "C": "30%", "D": "60%"},
        "window_start": f"{year}-04-01",
        "window_end": f"{year}-06-30",
        "methods": ["on_site"],
        "selection_mode": "bureau_wide",
        "team_size": 2,
    }
    body.update(changes)
    return body


async def add_batch(client: Any, plan: dict[str, Any], headers: dict[str, str], **changes: Any):
    """POST a valid batch into the plan version `plan` (a plan's JSON); the answer."""
    url = f"{PLANS}/{plan['plan_id']}/versions/{plan['version']}/batches"
    body = batch_body(plan["region_code"], plan["year"], **changes)
    return await client.post(url, json=body, headers=headers)


async def ensure_a_batch(client: Any, plan: dict[str, Any], headers: dict[str, str]) -> None:
    """Before a draft version is submitted: give it a batch unless it has one (its own, or
    one of an earlier version it carries on or cancels)."""
    if plan["status"] != "draft":
        return
    listed = await client.get(BATCHES, params={"plan_id": plan["plan_id"]}, headers=headers)
    assert listed.status_code == 200, listed.text
    held = [b for b in listed.json()["items"] if b["added_in_version"] <= plan["version"]]
    if not held:
        answer = await add_batch(client, plan, headers)
        # A caller who may not write the plan is refused here as at the submission it tries.
        assert answer.status_code in (201, 403, 404), answer.text


# ---- a department's year of batches: plan, steps, publication -----------------------------------


async def new_plan(client: Any, world: dict[str, Any], year: int) -> dict[str, Any]:
    """A draft plan of `year` for the world's county bureau (`batch_world`)."""
    created = await client.post(PLANS, json={"year": year, "title": "计划"}, headers=world["owner"])
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


async def plan_step(
    client: Any, world: dict[str, Any], plan_id: str, version: int, action: str, who: str,
    **kwargs: Any,
) -> Any:  # fmt: skip
    """`action` on the version, by `who` of the world, with the version's current ETag."""
    current = await client.get(f"{PLANS}/{plan_id}", params={"version": version},
                               headers=world[who])  # fmt: skip
    url = f"{PLANS}/{plan_id}/versions/{version}:{action}"
    return await client.post(
        url, headers={**world[who], "If-Match": current.headers["ETag"]}, **kwargs
    )


async def publish(client: Any, world: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """Submit (the owner), file (the superior), publish (the owner); the published version."""
    for action, who in (("submit", "owner"), ("file", "superior"), ("publish", "owner")):
        answer = await plan_step(client, world, plan["plan_id"], plan["version"], action, who)
        assert answer.status_code == 200, (action, answer.text)
    return answer.json()  # type: ignore[no-any-return]
