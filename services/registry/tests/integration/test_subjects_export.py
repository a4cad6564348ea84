"""The population export (registry_subjects_export): what its lines carry, which subjects and
officers it holds for whom, and how it refuses. Real PostgreSQL, through HTTP (the app in
process: these exports are small; streaming and snapshots are test_export_snapshot_point.py's).

The subjects live in Wenzhou (温州 3303xx), where no other test pushes, so an export filtered to
it holds only what these tests put there.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from shuangsui.contracts.events.registry_inspectors import (
    InspectorConflictDeclared,
    InspectorUpserted,
)
from shuangsui.contracts.events.registry_subjects import SubjectUpserted
from shuangsui.devstack.issuer import authorization
from shuangsui.messaging.snapshots import SnapshotPoint
from shuangsui.messaging.testing import asyncpg_url
from shuangsui.registry.adapters.exports import subject_lines_query
from shuangsui.registry.adapters.subjects import subjects
from shuangsui.registry.service.exports import ExportGate

BASE = "/api/v1/registry"
EXPORT = f"{BASE}/subjects:export"
NDJSON = {"content-type": "application/x-ndjson"}
CITY, RUIAN, YUEQING = "330300", "330381", "330382"
BUREAU, STATION = "330381001", "330381-01"


def ndjson(*rows: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


@pytest.fixture
def wenzhou(subject_row, uscc) -> Any:
    """`wenzhou(county=…, **fields)`: a subject of Wenzhou no other test has pushed."""
    numbers = iter(range(uuid.uuid4().int % 10_000_000 * 10, 10**9))

    def row(county: str = RUIAN, **fields: Any) -> dict[str, Any]:
        number = next(numbers)
        return subject_row(
            number, uscc=uscc(number, county), region_code=county,
            name=f"温州测试{number}有限公司", **fields,
        )  # fmt: skip

    return row


async def push(registry, pusher, *rows: dict[str, Any]) -> None:
    answer = await registry.post(
        f"{BASE}/subjects:bulk", content=ndjson(*rows), headers={**pusher, **NDJSON}
    )
    assert answer.status_code == 200, answer.text


async def classify(registry, classifier, *classes: tuple[str, str, str]) -> None:
    """Push (uscc, risk class, domain) as the credit classification system does."""
    rows = [
        {"uscc": uscc, "risk_class": risk_class, "domain": domain, "source": "zj-credit",
         "as_of": "2025-01-01T00:00:00Z"}
        for uscc, risk_class, domain in classes
    ]  # fmt: skip
    answer = await registry.post(
        f"{BASE}/risk-classes:bulk", content=ndjson(*rows), headers={**classifier, **NDJSON}
    )
    assert answer.status_code == 200, answer.text


async def export(registry, auth, **params: Any) -> list[dict[str, Any]]:
    answer = await registry.get(EXPORT, params=params, headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in answer.text.splitlines()]


def subjects_of(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {x["data"]["uscc"]: x for x in lines if x["type"] == SubjectUpserted.event_type}


@pytest.fixture
def classifier(bearer) -> dict[str, str]:
    return bearer("integrator", scopes=["registry:risk-classes:push"])


async def test_a_subject_line_carries_the_latest_upserted_event_and_the_risk_classes(
    registry, pusher, classifier, admin, wenzhou, announced
):
    first, second = wenzhou(), wenzhou()
    await push(registry, pusher, first, second)
    changed = {
        **first,
        "name": "温州改名有限公司",
        "source_updated_at": "2025-04-01T08:00:00+08:00",
    }
    await push(registry, pusher, changed)
    await classify(
        registry, classifier, (first["uscc"], "B", "general"), (first["uscc"], "A", "food")
    )

    lines = subjects_of(await export(registry, admin, region_code=RUIAN))
    latest = {}
    for event in await announced(SubjectUpserted.event_type):
        latest[event["uscc"]] = event  # in outbox order: the last one stays
    for pushed in (first, second):
        line = lines[pushed["uscc"]]
        assert SubjectUpserted.model_validate(line["data"]) == SubjectUpserted.model_validate(
            latest[pushed["uscc"]]
        ), "a read model applies the line with the event's own code"
    assert lines[first["uscc"]]["data"]["version"] == 2
    assert lines[first["uscc"]]["data"]["name"] == "温州改名有限公司"
    assert lines[first["uscc"]]["risk_classes"] == {"general": "B", "food": "A"}
    assert lines[second["uscc"]]["risk_classes"] == {}


async def test_the_header_names_the_snapshot_and_the_trailer_counts_every_line(
    registry, pusher, admin, wenzhou, stack
):
    await push(registry, pusher, *(wenzhou() for _ in range(3)))
    lines = await export(registry, admin, region_code=RUIAN, status="active")
    header, body, trailer = lines[0], lines[1:-1], lines[-1]

    assert (header["type"], header["format"]) == ("header", "shuangsui.registry.export.v1")
    point = SnapshotPoint.from_header(header)
    assert point.event_types == ("registry.subject.",)
    assert header["includes"] == ["subjects"]
    assert header["filters"] == {"region_code": RUIAN, "status": "active"}
    assert header["region_scope"] == "33"
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        newest = await conn.fetchrow(
            "SELECT seq, id::text, txid::text FROM outbox ORDER BY seq DESC"
        )
    finally:
        await conn.close()
    assert (header["last_outbox_seq"], header["last_event_id"]) == (newest["seq"], newest["id"])
    assert point.covers(int(newest["txid"])), "the newest committed event is in the snapshot"
    assert trailer == {
        "type": "trailer",
        "subjects": len(body),
        "inspectors": None,
        "complete": True,
    }
    assert len(body) >= 3


async def test_the_export_selects_what_the_list_selects(
    registry, pusher, classifier, admin, wenzhou
):
    rows = [
        wenzhou(),
        wenzhou(status="cancelled"),
        wenzhou(county=YUEQING, industry_code="H6210"),
        wenzhou(county=YUEQING),
    ]
    await push(registry, pusher, *rows)
    await classify(registry, classifier, (rows[3]["uscc"], "C", "general"))
    for filters in (
        {"region_code": CITY},
        {"region_code": CITY, "status": "cancelled"},
        {"region_code": YUEQING, "industry_code": "H62"},
        {"region_code": CITY, "risk_class": "C"},
        {"region_code": CITY, "risk_class": "unclassified", "domain": "general"},
    ):
        listed = await registry.get(
            f"{BASE}/subjects", params={**filters, "limit": 500}, headers=admin
        )
        assert listed.status_code == 200, listed.text
        expected = {s["uscc"] for s in listed.json()["items"]}
        assert set(subjects_of(await export(registry, admin, **filters))) == expected, filters


async def test_a_county_token_exports_its_county_only_and_a_city_token_both(
    registry, pusher, wenzhou, bearer
):
    ruian, yueqing = wenzhou(), wenzhou(county=YUEQING)
    await push(registry, pusher, ruian, yueqing)
    county = bearer("department_admin", region=RUIAN)
    city = bearer("department_admin", region=CITY)

    held = set(subjects_of(await export(registry, county)))
    assert ruian["uscc"] in held
    assert yueqing["uscc"] not in held
    assert all(u[2:8] == RUIAN for u in held), "nothing outside the county"
    assert {ruian["uscc"], yueqing["uscc"]} <= set(subjects_of(await export(registry, city)))
    # Asking for a region outside one's own is an empty export, as the list answers.
    assert set(subjects_of(await export(registry, county, region_code=YUEQING))) == set()


async def test_other_province_cannot_read_the_export(registry, bearer):
    guangdong = bearer("provincial_admin", region="440000")
    for params in ({}, {"include": "inspectors"}):
        answer = await registry.get(EXPORT, params=params, headers=guangdong)
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    answer = await registry.get(EXPORT)
    assert answer.status_code == 401


async def test_integrators_need_the_export_scopes(registry, pusher, bearer):
    answer = await registry.get(EXPORT, params={"region_code": RUIAN}, headers=pusher)
    assert answer.status_code == 403, "a push token does not read the directory"

    bulk = bearer("integrator", scopes=["registry:subjects:export"], sub="nat-pull")
    assert (await export(registry, bulk, region_code=RUIAN))[0]["type"] == "header"
    refused = await registry.get(EXPORT, params={"include": "inspectors"}, headers=bulk)
    assert refused.status_code == 403, "officers need registry:inspectors:export"
    both = bearer("integrator", sub="nat-pull",
        scopes=["registry:subjects:export", "registry:inspectors:export"],
    )  # fmt: skip
    lines = await export(registry, both, region_code=RUIAN, include="inspectors")
    assert lines[-1]["inspectors"] is not None


@pytest.mark.parametrize(
    "params",
    [
        {"tag": "cuisine:川菜"},
        {"risk_class": "E"},
        {"domain": "Food!"},
        {"include": "everything"},
        {"item_id": "not-a-uuid"},
    ],
)
async def test_bad_filters_are_a_validation_problem(registry, admin, params):
    answer = await registry.get(EXPORT, params=params, headers=admin)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"] == "/problems/validation-error"
    assert problem["errors"], "the field is named"


async def test_a_filter_postgresql_refuses_is_an_answer_of_its_own_not_a_cut_export(
    registry, admin
):
    # A NUL byte reaches PostgreSQL, which refuses it (issue 11 validates it at the edge): the
    # query runs before the answer starts, so the caller gets a problem, not a 200 cut short.
    answer = await registry.get(EXPORT, params={"industry_code": "C\x00"}, headers=admin)
    assert answer.status_code != 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_an_item_not_in_force_is_404_before_any_line(registry, admin):
    answer = await registry.get(EXPORT, params={"item_id": str(uuid.uuid4())}, headers=admin)
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_too_many_exports_at_once_is_429_with_retry_after(registry, admin):
    app = registry._transport.app
    app.state.export_gate = ExportGate(size=1, running=1)  # one export already streaming
    try:
        answer = await registry.get(EXPORT, headers=admin)
    finally:
        app.state.export_gate = None
    assert answer.status_code == 429, answer.text
    assert answer.headers["retry-after"] == "30"
    assert answer.json()["type"] == "/problems/exports-busy"


# ---- officers --------------------------------------------------------------------------------


@pytest.fixture
async def officers(registry, admin) -> dict[str, str]:
    """Ruian's bureau and station, an officer of each department type with a conflict each;
    returns inspector ids by certificate number."""
    orgs = (
        "code,name,level,region_code,parent_code,is_hq\n"
        f"{BUREAU},瑞安市市场监督管理局,county,{RUIAN},,true\n"
        f"{STATION},瑞安市市场监督管理局第一市场监管所,station,{RUIAN},{BUREAU},false\n"
    )
    loaded = await registry.post(
        f"{BASE}/orgs:import", content=orgs.encode(), headers={**admin, "content-type": "text/csv"}
    )
    assert loaded.status_code == 200, loaded.text
    tag = uuid.uuid4().hex[:8].upper()
    sheet = (
        "name,unit_code,region_code,station_code,cert_no,cert_valid_until,qualifications,"
        "department_type\n"
        f"陈明,{BUREAU},{RUIAN},{STATION},EXP-{tag}-1,2027-06-30,food_safety;pricing,"
        "market_supervision\n"
        f"林静,{BUREAU},{RUIAN},,EXP-{tag}-2,2026-12-31,drugs,medical_products\n"
    )
    imported = await registry.post(
        f"{BASE}/inspectors:import", content=sheet.encode(),
        headers={**admin, "content-type": "text/csv"},
    )  # fmt: skip
    assert imported.status_code == 200, imported.text
    listed = await registry.get(f"{BASE}/inspectors", params={"limit": 500}, headers=admin)
    ids = {
        i["cert_no"]: i["inspector_id"]
        for i in listed.json()["items"]
        if (i["cert_no"] or "").startswith(f"EXP-{tag}")
    }
    for n, inspector_id in enumerate(ids.values()):
        declared = await registry.post(
            f"{BASE}/inspectors/{inspector_id}/conflicts",
            json={"subject_uscc": "91350100M000100Y43", "reason": f"亲属{n}"},
            headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert declared.status_code == 201, declared.text
    return ids


def officers_of(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        x["data"]["inspector_id"]: x for x in lines if x["type"] == InspectorUpserted.event_type
    }


async def test_officer_lines_carry_the_upserted_event_and_the_declared_conflicts(
    registry, admin, officers, announced
):
    lines = await export(registry, admin, region_code=RUIAN, include="inspectors")
    assert lines[0]["includes"] == ["subjects", "inspectors"]
    assert lines[0]["covers"] == ["registry.subject.", "registry.inspector."]
    held = officers_of(lines)
    latest: dict[str, dict[str, Any]] = {}
    for event in await announced(InspectorUpserted.event_type):
        latest[event["inspector_id"]] = event
    declared = {e["inspector_id"]: e for e in await announced(InspectorConflictDeclared.event_type)}
    for inspector_id in officers.values():
        line = held[inspector_id]
        upserted = InspectorUpserted.model_validate(line["data"])
        event = InspectorUpserted.model_validate(latest[inspector_id])
        # A conflict bumps the officer's version without an upserted event (the conflict event
        # carries it), and the directory dates a change when it commits.
        assert (
            upserted.model_copy(update={"version": event.version, "changed_at": event.changed_at})
            == event
        )
        assert upserted.version == declared[inspector_id]["inspector_version"]
        [conflict] = line["conflicts"]
        expected = InspectorConflictDeclared.model_validate(declared[inspector_id])
        got = InspectorConflictDeclared.model_validate(conflict)
        assert got.model_copy(update={"changed_at": expected.changed_at}) == expected
    assert lines[-1]["inspectors"] == len(held)


@pytest.mark.parametrize(
    ("roles", "claims"),
    [
        (["provincial_admin"], {}),
        (["station_staff"], {"station": STATION}),
        (["reviewer"], {}),
        (["partner_admin"], {"department_type": "medical_products"}),
        (["inspector"], {}),  # `sub` is set to an officer below
    ],
)
async def test_conflicts_are_shown_to_whom_the_inspector_list_shows_them(
    registry, bearer, officers, roles, claims
):
    if roles == ["inspector"]:
        claims = {"sub": next(iter(officers.values()))}
    auth = bearer(*roles, region=RUIAN, **claims)
    listed = await registry.get(f"{BASE}/inspectors", params={"limit": 500}, headers=auth)
    assert listed.status_code == 200, listed.text
    shown = {i["inspector_id"]: i["conflicts"] is not None for i in listed.json()["items"]}
    held = officers_of(await export(registry, auth, region_code=RUIAN, include="inspectors"))
    assert set(held) == set(shown), "the same officers as the list"
    # The list applies `may_see_personal_data`; the export's SQL must agree line by line.
    assert {i: line["conflicts"] is not None for i, line in held.items()} == shown
    assert set(officers.values()) & set(held), "this test's officers are among them"


async def test_sampling_exports_as_its_service_principal_and_sees_every_conflict(
    registry, issuer, officers
):
    """Sampling draws teams for the whole province (R19 recusals): granted the directory
    export, its service principal reads every declared conflict, as the directory's keepers."""
    sampling = authorization(
        issuer.service_token(
            "sampling", "registry", ["registry:subjects:export", "registry:inspectors:export"]
        )
    )
    held = officers_of(await export(registry, sampling, region_code=RUIAN, include="inspectors"))
    assert set(officers.values()) <= set(held)
    assert all(held[i]["conflicts"] is not None for i in officers.values())

    subjects_only = authorization(
        issuer.service_token("sampling", "registry", ["registry:subjects:export"])
    )
    refused = await registry.get(EXPORT, params={"include": "inspectors"}, headers=subjects_only)
    assert refused.status_code == 403
    other_scope = authorization(
        issuer.service_token("planning", "registry", ["registry:population:read"])
    )
    assert (await registry.get(EXPORT, headers=other_scope)).status_code == 403


# ---- what COPY hands over ----------------------------------------------------------------------


async def test_text_with_tabs_quotes_backslashes_newlines_and_unicode_survives_byte_for_byte(
    registry, pusher, admin, wenzhou, stack
):
    """The lines leave PostgreSQL through COPY's CSV, with control characters as delimiter and
    quote: whatever a text holds, the line sent is the JSON text PostgreSQL wrote."""
    awkward = 'tab\there "quoted" back\\slash\nnew line\r\u2028 \x01\x02 \\n\\" 瑞安 🏭 é'
    row = {
        **wenzhou(registered_address=awkward, business_address='"\\'),
        "name": f"温州{awkward}有限公司",
    }
    await push(registry, pusher, row)
    answer = await registry.get(EXPORT, params={"region_code": RUIAN}, headers=admin)
    assert answer.status_code == 200, answer.text
    [sent] = [line for line in answer.content.split(b"\n") if row["uscc"].encode() in line]
    data = json.loads(sent)["data"]
    assert (data["name"], data["registered_address"], data["business_address"]) == (
        row["name"], awkward, '"\\',
    )  # fmt: skip

    engine = create_async_engine(asyncpg_url(stack.database_url("registry")))
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SET TIME ZONE 'UTC'"))  # as the export's transaction
            query = subject_lines_query([subjects.c.uscc == row["uscc"]])
            written = (await conn.execute(query)).scalar_one()
    finally:
        await engine.dispose()
    assert sent == written.encode(), "the bytes sent are PostgreSQL's JSON text, unchanged"
