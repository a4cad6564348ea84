"""A batch's preview asks the real registry (served over HTTP, called with planning's service
credentials) and its numbers are the subjects seeded there: per stratum, the unclassified in B,
from the kept counts for plain batches and by scanning for directed ones; several items give a
range; the registry's refusals are the batch's field errors.

The registry database is shared by the session: the subjects live in two counties no other
planning test pushes to (义乌 330782, 东阳 330783), under items published here.
"""

import importlib
import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from stdnum.cn import uscc as stdnum_uscc

from shuangsui.contracts.workdays import shanghai_date
from shuangsui.devstack.ports import free_port
from shuangsui.devstack.pytest_plugin import environment
from shuangsui.devstack.serving import serving
from shuangsui.kernel.db import Database
from shuangsui.kernel.problems import VALIDATION, Problem
from shuangsui.kernel.service_client import ServiceClient, ServiceUnreachable
from shuangsui.kernel.settings import load_settings
from shuangsui.messaging.platform import new_unit_of_work
from shuangsui.planning.domain.batches import (
    BatchDraft,
    DrawMode,
    Method,
    Scope,
    SelectionMode,
)
from shuangsui.planning.service.batches_preview import BATCH_PREVIEW_TOO_BROAD, preview_batch
from shuangsui.planning.settings import SERVICE, Settings

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


def draft(*items: uuid.UUID, **changes: Any) -> BatchDraft:
    base = BatchDraft(
        name="2026年餐饮服务单位双随机抽查",
        item_ids=items,
        scope=Scope(region_codes=(YIWU, DONGYANG)),
        quantity={"A": "10%", "B": "50%", "C": 1, "D": "100%"},
        window_start=date(2026, 4, 1),
        window_end=date(2026, 6, 30),
        methods=(Method.on_site,),
        selection_mode=SelectionMode.bureau_wide,
    )
    return replace(base, **changes)


def populations(preview) -> dict[str, tuple[int, int]]:
    return {s.stratum: (s.population_min, s.population_max) for s in preview.strata}


@pytest.fixture(scope="module")
async def items(stack, service_env, mint_token) -> dict[str, uuid.UUID]:
    """Two national items in force in Zhejiang — `food` for enterprises and individuals, `all`
    for every subject type — and SUBJECTS pushed, classified and counted, as the registry's
    worker would leave them."""
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


@pytest.fixture
async def registry(service_env, registry_serving):
    """Planning's client of the registry, as planning's app makes it."""
    with environment(service_env("planning")):
        settings = load_settings(Settings, SERVICE)
    client = ServiceClient.from_settings(settings, SERVICE, "registry", registry_serving)
    await client.start()
    yield client
    await client.stop()


async def test_one_item_is_counted_exactly_per_stratum_from_the_kept_counts(registry, items):
    preview = await preview_batch(registry, draft(items["food"]))

    # Enterprises and individuals in business: 义乌 A A C B and one unclassified, 东阳 D and one
    # unclassified; the unclassified are drawn as B.
    assert preview.exact
    assert populations(preview) == {"A": (2, 2), "B": (3, 3), "C": (1, 1), "D": (1, 1)}
    # ceil(10% × 2) = 1, ceil(50% × 3) = 2, a count of 1, ceil(100% × 1) = 1.
    assert [s.expected_sample_max for s in preview.strata] == [1, 2, 1, 1]
    assert (preview.population_max, preview.expected_sample_max) == (7, 5)
    assert preview.method == "index"
    assert [(c.query.region_code, c.total) for c in preview.counts] == [(YIWU, 5), (DONGYANG, 2)]
    assert len(preview.classifications) == 1
    assert preview.classification >= 1, "the items' classification pass has run"
    assert not preview.reclassifying


async def test_the_unclassified_are_counted_where_the_province_draws_them(registry, items):
    preview = await preview_batch(registry, draft(items["food"]), unclassified_drawn_as="C")

    assert populations(preview) == {"A": (2, 2), "B": (1, 1), "C": (3, 3), "D": (1, 1)}


async def test_a_directed_batch_by_type_and_industry_is_counted_by_scanning(registry, items):
    directed = draft(
        items["all"], draw_mode=DrawMode.directed,
        scope=Scope((YIWU, DONGYANG), subject_types=("enterprise",), industry_codes=("H62",)),
    )  # fmt: skip

    preview = await preview_batch(registry, directed)

    # Restaurant enterprises in business: 义乌 A A, 东阳 one unclassified.
    assert populations(preview) == {"A": (2, 2), "B": (1, 1), "C": (0, 0), "D": (0, 0)}
    assert preview.method == "scan"
    assert {(c.query.subject_type, c.query.industry_code) for c in preview.counts} == {
        ("enterprise", "H62")
    }


async def test_two_items_give_each_stratum_between_the_larger_and_the_sum(registry, items):
    preview = await preview_batch(registry, draft(items["food"], items["all"]))

    # `all` holds `food`'s subjects and the cooperatives (义乌 one unclassified, 东阳 one B).
    assert not preview.exact
    assert populations(preview) == {"A": (2, 4), "B": (5, 8), "C": (1, 2), "D": (1, 2)}
    assert (preview.population_min, preview.population_max) == (9, 16)
    assert len(preview.counts) == 4


async def test_an_item_the_registry_does_not_hold_is_the_batchs_field_error(registry, items):
    unknown = uuid.uuid4()

    with pytest.raises(Problem) as refused:
        await preview_batch(registry, draft(items["food"], unknown))

    assert refused.value.kind is VALIDATION
    assert str(unknown) in (refused.value.detail or "")
    assert [e.field for e in refused.value.errors] == ["item_ids[1]"]


async def test_a_batch_too_broad_to_preview_is_refused_naming_the_product(registry, items):
    counties = ("330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112")
    broad = draft(
        items["food"], items["all"], draw_mode=DrawMode.directed,
        scope=Scope(counties, subject_types=("enterprise", "individual"),
                    industry_codes=("H62", "F52", "C14")),
    )  # fmt: skip

    with pytest.raises(Problem) as refused:
        await preview_batch(registry, broad)

    assert refused.value.kind is BATCH_PREVIEW_TOO_BROAD
    assert "2 items × 8 regions × 2 subject types × 3 industries = 96" in str(refused.value.detail)


async def test_an_absent_registry_is_unreachable_not_a_planners_error(service_env, items):
    with environment(service_env("planning")):
        settings = load_settings(Settings, SERVICE)
    gone = ServiceClient.from_settings(
        settings, SERVICE, "registry", f"http://127.0.0.1:{free_port()}"
    )
    try:
        with pytest.raises(ServiceUnreachable):
            await preview_batch(gone, draft(items["food"]))
    finally:
        await gone.stop()


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
