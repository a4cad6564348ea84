"""Automatic tags, the item → subject index and the population counts, on real PostgreSQL.

The registry database is shared by the whole session, so these tests use a county of their own
(330881) and compare the kept counts with a recount of the whole directory, which holds whatever
other tests have pushed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from typing import Any

import asyncpg
import pytest

from shuangsui.devstack.pytest_plugin import environment
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.settings import load_settings
from shuangsui.registry.service import classification
from shuangsui.registry.service.classification import (
    current_classifier,
    fold_counts,
    recount_population,
    run_pass_step,
)
from shuangsui.registry.settings import SERVICE, Settings
from shuangsui.registry.worker import Chores

BASE = "/api/v1/registry"
COUNTY = "330881"
NDJSON = {"content-type": "application/x-ndjson"}


@pytest.fixture
def pusher(mint_token):
    token = mint_token(
        roles=["integrator"], region="330000", sub="zj-aic",
        scopes=["registry:subjects:push", "registry:risk-classes:push"],
    )  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


def ndjson(*rows: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def county_subject(uscc, number: int, **fields: Any) -> dict[str, Any]:
    return {
        "uscc": uscc(number, COUNTY), "name": f"江山测试{number}有限公司",
        "subject_type": "enterprise", "status": "active", "region_code": COUNTY,
        "industry_code": "F5123", "source": "zj-aic",
        "source_updated_at": "2025-03-01T08:00:00+08:00", **fields,
    }  # fmt: skip


async def count(registry, auth, **params: Any) -> dict[str, Any]:
    answer = await registry.get(f"{BASE}/population:count", params=params, headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


RECOUNT = """
WITH s AS (
  SELECT uscc, region_code, tags, unnest(item_keys) AS item_key FROM subjects
  WHERE status = 'active'
)
SELECT item_key, region_code, tags, '*' AS domain, '*' AS risk_class, count(*) AS n
FROM s GROUP BY 1, 2, 3
UNION ALL
SELECT s.item_key, s.region_code, s.tags, rc.domain, rc.risk_class, count(*)
FROM s JOIN subject_risk_classes rc USING (uscc) GROUP BY 1, 2, 3, 4, 5
"""
KEPT_TOTALS = """
SELECT item_key, region_code, domain, risk_class, sum(n)::bigint AS n FROM (
  SELECT item_key, region_code, domain, risk_class, n FROM population_totals
  UNION ALL
  SELECT item_key, region_code, domain, risk_class, n FROM population_deltas
) kept GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
"""
KEPT = """
SELECT item_key, region_code, tags, domain, risk_class, sum(n) AS n FROM (
  SELECT item_key, region_code, tags, domain, risk_class, n FROM population_counts
  UNION ALL
  SELECT item_key, region_code, tags, domain, risk_class, n FROM population_deltas
) kept GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
"""


async def assert_counts_match_a_recount(stack) -> None:
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        recount = {_hashable(r) for r in await conn.fetch(RECOUNT)}
        kept = {_hashable(r) for r in await conn.fetch(KEPT)}
        totals = {tuple(r.values()) for r in await conn.fetch(KEPT_TOTALS)}
    finally:
        await conn.close()
    assert kept == recount
    summed: Counter = Counter()
    for item_key, region, _tags, domain, risk_class, n in recount:
        summed[item_key, region, domain, risk_class] += n
    assert totals == {(*key, n) for key, n in summed.items()}


def _hashable(row: asyncpg.Record) -> tuple[Any, ...]:
    item_key, region, tags, domain, risk_class, n = row.values()
    return item_key, region, tuple(tags), domain, risk_class, int(n)


async def test_rules_need_an_admin_if_match_and_sound_conditions(registry, admin, mint_token):
    current = await registry.get(f"{BASE}/tag-rules", headers=admin)
    assert current.status_code == 200
    rules = {
        "rules": [{"dimension": "carrier", "value": "网络", "when": {"has_online_shop": True}}]
    }

    missing = await registry.put(f"{BASE}/tag-rules", json=rules, headers=admin)
    assert missing.status_code == 428
    stale = await registry.put(
        f"{BASE}/tag-rules", json=rules, headers={**admin, "If-Match": '"999"'}
    )
    assert stale.status_code == 412

    bad = {
        "rules": [
            {"dimension": "format", "value": "餐饮", "when": {}},
            {"dimension": "scale", "value": "a:b", "when": {"capital_wan_min": "100", "capital_wan_max": "50"}},
        ]
    }  # fmt: skip
    refused = await registry.put(
        f"{BASE}/tag-rules", json=bad, headers={**admin, "If-Match": current.headers["etag"]}
    )
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert {"rules[0].when", "rules[1].value", "rules[1].when.capital_wan_max"} <= fields
    unknown = await registry.put(
        f"{BASE}/tag-rules",
        json={"rules": [{"dimension": "colour", "value": "红", "when": {"has_online_shop": True}}]},
        headers={**admin, "If-Match": current.headers["etag"]},
    )
    assert unknown.status_code == 422

    station = {"Authorization": f"Bearer {mint_token(roles=['station_staff'], region='330881')}"}
    assert (await registry.get(f"{BASE}/tag-rules", headers=station)).status_code == 200
    forbidden = await registry.put(
        f"{BASE}/tag-rules", json=rules, headers={**station, "If-Match": current.headers["etag"]}
    )
    assert forbidden.status_code == 403
    jiangsu = {"Authorization": f"Bearer {mint_token(roles=['provincial_admin'], region='320000')}"}
    assert (await registry.get(f"{BASE}/tag-rules", headers=jiangsu)).status_code == 403
    after = await registry.get(f"{BASE}/tag-rules", headers=admin)
    assert after.headers["etag"] == current.headers["etag"], "nothing refused was saved"


async def test_pushed_subjects_are_tagged_indexed_and_counted(
    announced, catalogue, registry, admin, national, pusher, uscc, new_uow, stack, mint_token
):
    marker = uuid.uuid4().hex[:6]
    restaurant = f"餐饮{marker}"
    await catalogue.replace_rules([
        {"dimension": "format", "value": restaurant, "when": {"industry_code_prefixes": ["H62"]}},
        {"dimension": "carrier", "value": "网络", "when": {"has_online_shop": True}},
        {"dimension": "carrier", "value": "实体", "when": {"has_online_shop": False}},
    ])  # fmt: skip
    item_id = await catalogue.publish_national_item(subject_types=["enterprise", "individual"],
        subject_tags=[f"format:{restaurant}"],
    )  # fmt: skip
    await catalogue.settle()

    base = 7_100_000 + int(marker, 16) % 100_000 * 10
    rows = [
        county_subject(uscc, base + 1, industry_code="H6210"),
        county_subject(uscc, base + 2, industry_code="H6220", online_shops=["https://s.cn/2"]),
        county_subject(uscc, base + 3, industry_code="H6210", subject_type="individual"),
        county_subject(uscc, base + 4, industry_code="H6210", status="cancelled"),
        county_subject(uscc, base + 5, industry_code="H6210", subject_type="cooperative"),
        county_subject(uscc, base + 6),  # not a restaurant
    ]
    pushed = await registry.post(
        f"{BASE}/subjects:bulk", content=ndjson(*rows), headers={**pusher, **NDJSON}
    )
    assert pushed.status_code == 200, pushed.text

    one = (await registry.get(f"{BASE}/subjects/{rows[1]['uscc']}", headers=admin)).json()
    assert one["tags"]["format"] == [restaurant]
    assert one["tags"]["carrier"] == ["网络"]
    assert item_id in one["applicable_item_ids"]
    other = (await registry.get(f"{BASE}/subjects/{rows[5]['uscc']}", headers=admin)).json()
    assert other["tags"]["carrier"] == ["实体"]
    assert item_id not in other["applicable_item_ids"]
    [event] = [
        e for e in await announced("registry.subject.upserted.v1") if e["uscc"] == rows[1]["uscc"]
    ]
    assert event["tags"]["format"] == [restaurant]
    assert item_id in event["applicable_item_ids"]

    # In scope: active, enterprise or individual, a restaurant → rows 0, 1, 2.
    found = await count(registry, admin, item_id=item_id, region_code=COUNTY)
    assert (found["method"], found["total"]) == ("index", 3)
    assert found["by_risk_class"]["unclassified"] == 3
    online = await count(registry, admin, item_id=item_id, region_code=COUNTY, tag="carrier:网络")
    assert online["total"] == 1
    listed = await registry.get(
        f"{BASE}/subjects",
        params={"item_id": item_id, "region_code": COUNTY, "status": "active"},
        headers=admin,
    )
    assert {s["uscc"] for s in listed.json()["items"]} == {r["uscc"] for r in rows[:3]}

    classes = [
        {"uscc": rows[0]["uscc"], "risk_class": "D", "domain": "general", "source": "zj-credit", "as_of": "2025-04-01T00:00:00+08:00"},
        {"uscc": rows[1]["uscc"], "risk_class": "A", "domain": "general", "source": "zj-credit", "as_of": "2025-04-01T00:00:00+08:00"},
        {"uscc": rows[1]["uscc"], "risk_class": "B", "domain": "food", "source": "zj-credit", "as_of": "2025-04-01T00:00:00+08:00"},
    ]  # fmt: skip
    answer = await registry.post(
        f"{BASE}/risk-classes:bulk", content=ndjson(*classes), headers={**pusher, **NDJSON}
    )
    assert answer.status_code == 200, answer.text
    general = await count(registry, admin, item_id=item_id, region_code=COUNTY)
    assert general["by_risk_class"] == {"A": 1, "B": 0, "C": 0, "D": 1, "unclassified": 1}
    food = await count(registry, admin, item_id=item_id, region_code=COUNTY, domain="food")
    assert food["by_risk_class"] == {"A": 0, "B": 1, "C": 0, "D": 0, "unclassified": 2}

    # The D-class restaurant closes; the online one moves to another county.
    moved = [
        {**rows[0], "status": "cancelled", "source_updated_at": "2025-05-01T08:00:00+08:00"},
        {**rows[1], "region_code": "330802", "source_updated_at": "2025-05-01T08:00:00+08:00"},
    ]
    pushed = await registry.post(
        f"{BASE}/subjects:bulk", content=ndjson(*moved), headers={**pusher, **NDJSON}
    )
    assert pushed.json()["updated"] == 2
    after = await count(registry, admin, item_id=item_id, region_code=COUNTY)
    assert after["by_risk_class"] == {"A": 0, "B": 0, "C": 0, "D": 0, "unclassified": 1}
    city = await count(registry, admin, item_id=item_id, region_code="330800")
    assert city["by_risk_class"]["A"] == 1
    assert city["total"] == 2
    scan = await count(
        registry, admin, item_id=item_id, region_code="330800", subject_type="enterprise"
    )
    assert (scan["method"], scan["total"]) == ("scan", 1)

    await assert_counts_match_a_recount(stack)
    await fold_counts(new_uow())
    await assert_counts_match_a_recount(stack)
    assert (await count(registry, admin, item_id=item_id, region_code="330800")) == city

    county = {"Authorization": f"Bearer {mint_token(roles=['station_staff'], region=COUNTY)}"}
    own = await count(registry, county, item_id=item_id)
    assert own["total"] == after["total"], "a county counts its own subjects only"
    elsewhere = await count(registry, county, item_id=item_id, region_code="330802")
    assert elsewhere["total"] == 0, "and none of another county's"


async def test_a_rule_change_retags_in_the_background_with_progress(
    announced, catalogue, registry, admin, pusher, uscc, new_uow, stack, monkeypatch
):
    await catalogue.settle()
    base = 7_900_000 + uuid.uuid4().int % 90_000 * 10
    rows = [
        county_subject(uscc, base + n, registered_capital_wan=str(n * 100)) for n in range(1, 8)
    ]
    pushed = await registry.post(
        f"{BASE}/subjects:bulk", content=ndjson(*rows), headers={**pusher, **NDJSON}
    )
    assert pushed.status_code == 200, pushed.text
    label = f"大型{uuid.uuid4().hex[:6]}"

    started = await catalogue.replace_rules([
        {"dimension": "scale", "value": label, "when": {"capital_wan_min": "500"}},
    ])  # fmt: skip
    assert started["status"] == "pending"
    assert started["percent"] == 0
    version = started["version"]
    progress = await registry.get(f"{BASE}/classifications/{version}", headers=admin)
    assert progress.json()["total"] >= len(rows)

    monkeypatch.setattr(classification, "PASS_BATCH", max(1, progress.json()["total"] // 3))
    monkeypatch.setattr(classification, "CHANGES_PER_EVENT", 2)
    assert await run_pass_step(new_uow())
    midway = (await registry.get(f"{BASE}/classifications/{version}", headers=admin)).json()
    assert midway["status"] == "running"
    assert 0 < midway["percent"] < 100
    await catalogue.settle()
    done = (await registry.get(f"{BASE}/classifications/{version}", headers=admin)).json()
    assert (done["status"], done["percent"], done["done"]) == ("done", 100.0, done["total"])

    tagged = [
        (await registry.get(f"{BASE}/subjects/{r['uscc']}", headers=admin)).json() for r in rows
    ]
    assert [s["tags"]["scale"] == [label] for s in tagged] == [n >= 5 for n in range(1, 8)]
    assert {s["classification"] for s in tagged} == {version}
    announced = [
        e
        for e in await announced("registry.subject.tags_changed.v1")
        if e["classification"] == version
    ]
    assert max(len(e["changes"]) for e in announced) <= 2, "events stay small"
    changed = [change for e in announced for change in e["changes"]]
    assert {c["uscc"] for c in changed} >= {r["uscc"] for r in rows[4:]}
    listed = await registry.get(f"{BASE}/classifications", headers=admin)
    assert listed.json()["items"][0]["version"] == version
    await assert_counts_match_a_recount(stack)


async def test_two_workers_share_a_pass_without_doing_anything_twice(
    catalogue, registry, admin, new_uow, stack, monkeypatch
):
    started = await catalogue.replace_rules([
        {"dimension": "carrier", "value": "网络", "when": {"has_online_shop": True}},
    ])  # fmt: skip
    monkeypatch.setattr(classification, "PASS_BATCH", 50)
    # A step that fails midway leaves nothing behind: its transaction never commits.
    with pytest.raises(RuntimeError):
        await killed_midway(new_uow())

    async def worker() -> None:
        while await run_pass_step(new_uow()):
            await asyncio.sleep(0)

    await asyncio.gather(worker(), worker())
    await catalogue.settle()
    done = (
        await registry.get(f"{BASE}/classifications/{started['version']}", headers=admin)
    ).json()
    assert done["status"] == "done"
    assert done["done"] == done["total"]
    await assert_counts_match_a_recount(stack)


async def killed_midway(uow: UnitOfWork) -> None:
    async with uow:
        await current_classifier(uow)
        raise RuntimeError("worker killed")


async def test_a_rule_change_waits_for_pushes_then_answers_409(
    registry, admin, new_uow, monkeypatch
):
    monkeypatch.setattr(classification, "LOCK_WAIT_MS", 200)
    before = await registry.get(f"{BASE}/tag-rules", headers=admin)
    body = {"rules": [{"dimension": "carrier", "value": "网络", "when": {"has_online_shop": True}}]}
    async with new_uow() as pushing:
        await current_classifier(pushing)  # a push holding the current rules
        busy = await registry.put(
            f"{BASE}/tag-rules", json=body, headers={**admin, "If-Match": before.headers["etag"]}
        )
    assert busy.status_code == 409
    assert busy.json()["type"] == "/problems/classification-busy"
    again = await registry.put(
        f"{BASE}/tag-rules", json=body, headers={**admin, "If-Match": before.headers["etag"]}
    )
    assert again.status_code == 202


async def test_counting_refuses_bad_tags_unknown_items_and_other_provinces(
    registry, admin, mint_token
):
    bad = await registry.get(f"{BASE}/population:count", params={"tag": "colour:红"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "tag[0]"
    unknown = await registry.get(
        f"{BASE}/population:count", params={"item_id": str(uuid.uuid4())}, headers=admin
    )
    assert unknown.status_code == 404
    jiangsu = {"Authorization": f"Bearer {mint_token(roles=['provincial_admin'], region='320000')}"}
    assert (await registry.get(f"{BASE}/population:count", headers=jiangsu)).status_code == 403
    assert (await registry.get(f"{BASE}/classifications", headers=jiangsu)).status_code == 403


async def test_the_worker_follows_a_newly_published_list_and_reclassifies(
    catalogue, registry, national, admin, service_env, new_uow
):
    with environment(service_env("registry")):
        settings = load_settings(Settings, SERVICE)
    chores = Chores(settings, new_uow)
    await catalogue.settle()
    item_id = await catalogue.publish_national_item(subject_types=["cooperative"])
    unknown = await registry.get(
        f"{BASE}/population:count", params={"item_id": item_id}, headers=admin
    )
    assert unknown.status_code == 404, "not indexed until the worker follows the new list"

    while await chores.round():
        pass
    await chores.round()  # closes the pass
    newest = (await registry.get(f"{BASE}/classifications", headers=admin)).json()["items"][0]
    assert newest["reason"] == "items in force changed"
    assert newest["status"] == "done"
    found = await count(registry, admin, item_id=item_id)
    assert found["method"] == "index"
    assert found["classification"] == newest["version"]


async def test_a_recount_finds_counts_that_drifted_and_replaces_them(
    catalogue, registry, national, pusher, uscc, new_uow, stack, service_env
):
    item_id = await catalogue.publish_national_item(subject_types=["enterprise"])
    await catalogue.settle()
    base = 7_500_000 + uuid.uuid4().int % 90_000 * 10
    rows = [county_subject(uscc, base + n) for n in range(3)]
    pushed = await registry.post(
        f"{BASE}/subjects:bulk", content=ndjson(*rows), headers={**pusher, **NDJSON}
    )
    assert pushed.status_code == 200, pushed.text
    assert await recount_population(new_uow(), replace=False) == 0

    conn = await asyncpg.connect(stack.database_url("registry"))
    try:  # drift: a count row someone edited by hand
        await conn.execute(
            "INSERT INTO population_deltas (item_key, region_code, tags, domain, risk_class, n) "
            "SELECT item_key, $1, '{}', '*', '*', 5 FROM index_items WHERE item_id = $2",
            COUNTY,
            uuid.UUID(item_id),
        )
    finally:
        await conn.close()
    assert await recount_population(new_uow(), replace=False) == 1
    assert await recount_population(new_uow(), replace=True) == 1
    assert await recount_population(new_uow(), replace=False) == 0
    await assert_counts_match_a_recount(stack)

    # What an operator runs (a process of its own, settings from the environment).
    checked = subprocess.run(
        [sys.executable, "-m", "shuangsui.registry.recount"],
        env={**os.environ, **service_env("registry")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, "agree" in checked.stdout) == (0, True), checked.stderr


async def test_saving_the_same_rules_again_starts_nothing(catalogue, registry, admin, mint_token):
    rules = [{"dimension": "carrier", "value": f"网络{uuid.uuid4().hex[:4]}", "when": {"has_online_shop": True}}]  # fmt: skip
    first = await catalogue.replace_rules(rules)
    again = await catalogue.replace_rules(rules)
    assert again["version"] == first["version"], "a retried change re-tags nothing"
    assert (await registry.get(f"{BASE}/tag-rules", headers=admin)).headers["etag"] == (
        f'"{first["rules_version"]}"'
    )
    missing = await registry.get(f"{BASE}/classifications/999999", headers=admin)
    assert missing.status_code == 404
    jiangsu = {"Authorization": f"Bearer {mint_token(roles=['provincial_admin'], region='320000')}"}
    body = {"rules": rules}
    refused = await registry.put(
        f"{BASE}/tag-rules", json=body, headers={**jiangsu, "If-Match": '"1"'}
    )
    assert refused.status_code == 403
