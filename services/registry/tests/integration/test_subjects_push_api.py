"""Provincial systems push subjects; offices read them. Real PostgreSQL, through HTTP."""

import asyncio
import csv
import io
import json

import asyncpg
import pytest

PUSH = "/api/v1/registry/subjects:bulk"
NDJSON = {"content-type": "application/x-ndjson"}


def ndjson(*rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


async def outbox_events(stack, uscc: str) -> list[dict]:
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        rows = await conn.fetch(
            "SELECT envelope FROM outbox WHERE event_type = 'registry.subject.upserted.v1' "
            "AND envelope->'data'->>'uscc' = $1 ORDER BY seq",
            uscc,
        )
    finally:
        await conn.close()
    return [json.loads(r["envelope"]) for r in rows]


async def test_pushed_subjects_are_created_readable_and_announced(
    registry, pusher, admin, subject_row, stack
):
    rows = [subject_row(101), subject_row(102, subject_type="individual")]
    answer = await registry.post(PUSH, content=ndjson(*rows), headers={**pusher, **NDJSON})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["received"], report["created"], report["rejected"], report["applied"]) == (
        2,
        2,
        0,
        True,
    )

    got = await registry.get(f"/api/v1/registry/subjects/{rows[0]['uscc']}", headers=admin)
    assert got.status_code == 200
    assert got.json()["name"] == rows[0]["name"]
    assert got.json()["legal_representative"] == "张三"
    assert got.headers["etag"] == '"1"'

    [event] = await outbox_events(stack, rows[0]["uscc"])
    assert event["type"] == "registry.subject.upserted.v1"
    assert event["data"]["version"] == 1
    assert "legal_representative" not in event["data"], "personal data stays in the registry"


async def test_csv_push_with_list_cells_as_json_arrays(registry, pusher, admin, subject_row):
    row = subject_row(111, online_shops=json.dumps(["https://shop.example.cn/a"]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    answer = await registry.post(
        PUSH, content=buffer.getvalue().encode(), headers={**pusher, "content-type": "text/csv"}
    )
    assert answer.json()["created"] == 1, answer.text
    got = await registry.get(f"/api/v1/registry/subjects/{row['uscc']}", headers=admin)
    assert got.json()["online_shops"] == ["https://shop.example.cn/a"]


async def test_an_atomic_batch_with_one_bad_row_changes_nothing(
    registry, pusher, admin, subject_row, stack
):
    good, bad = subject_row(121), subject_row(122, status="dormant")
    answer = await registry.post(PUSH, content=ndjson(good, bad), headers={**pusher, **NDJSON})
    assert answer.status_code == 422
    report = answer.json()
    assert report["type"] == "/problems/batch-rejected"
    assert (report["applied"], report["created"], report["rejected"]) == (False, 0, 1)
    assert report["errors"] == [
        {"line": 2, "key": bad["uscc"], "field": "status", "reason": report["errors"][0]["reason"]}
    ]
    missing = await registry.get(f"/api/v1/registry/subjects/{good['uscc']}", headers=admin)
    assert missing.status_code == 404
    assert await outbox_events(stack, good["uscc"]) == []


async def test_per_row_mode_applies_the_good_rows(registry, pusher, admin, subject_row):
    good, bad = subject_row(131), subject_row(132, region_code="12345")
    answer = await registry.post(
        f"{PUSH}?mode=per_row", content=ndjson(good, bad), headers={**pusher, **NDJSON}
    )
    report = answer.json()
    assert (report["created"], report["rejected"], report["applied"]) == (1, 1, True)
    assert report["errors"][0]["field"] == "region_code"
    assert (
        await registry.get(f"/api/v1/registry/subjects/{good['uscc']}", headers=admin)
    ).status_code == 200


async def test_an_older_change_is_reported_stale_and_not_applied(
    registry, pusher, admin, subject_row
):
    newer = subject_row(141, name="新名称", source_updated_at="2025-05-01T00:00:00Z")
    older = subject_row(141, name="旧名称", source_updated_at="2025-04-01T00:00:00Z")
    await registry.post(PUSH, content=ndjson(newer), headers={**pusher, **NDJSON})
    report = (await registry.post(PUSH, content=ndjson(older), headers={**pusher, **NDJSON})).json()
    assert (report["stale"], report["updated"]) == (1, 0)
    assert report["stale_rows"] == [
        {"line": 1, "key": newer["uscc"], "reason": "older than stored"}
    ]
    got = await registry.get(f"/api/v1/registry/subjects/{newer['uscc']}", headers=admin)
    assert got.json()["name"] == "新名称"


async def test_a_change_makes_a_new_version_with_history(
    registry, pusher, admin, subject_row, stack
):
    first = subject_row(151)
    second = subject_row(151, name="改名后", source_updated_at="2025-06-01T00:00:00Z")
    again = subject_row(151, name="改名后", source_updated_at="2025-06-02T00:00:00Z")
    for row in (first, second, again):
        await registry.post(PUSH, content=ndjson(row), headers={**pusher, **NDJSON})
    history = await registry.get(
        f"/api/v1/registry/subjects/{first['uscc']}/history", headers=admin
    )
    assert [(h["version"], h["content"]["name"]) for h in history.json()] == [
        (2, "改名后"),
        (1, first["name"]),
    ], "an unchanged push adds no version"
    assert [e["data"]["version"] for e in await outbox_events(stack, first["uscc"])] == [1, 2]


async def test_duplicates_inside_one_batch_are_refused(registry, pusher, subject_row):
    row = subject_row(161)
    report = (
        await registry.post(
            f"{PUSH}?mode=per_row", content=ndjson(row, row), headers={**pusher, **NDJSON}
        )
    ).json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["reason"] == "duplicate of line 1"


async def test_a_subject_of_another_province_is_refused(registry, pusher, subject_row):
    row = subject_row(171, region_code="440106")
    answer = await registry.post(PUSH, content=ndjson(row), headers={**pusher, **NDJSON})
    assert answer.status_code == 422
    report = answer.json()
    assert report["applied"] is False
    assert report["errors"][0]["field"] == "region_code"


async def test_a_pusher_of_another_province_is_refused(registry, mint_token, subject_row):
    token = mint_token(roles=["integrator"], region="440000", scopes=["registry:subjects:push"])
    answer = await registry.post(
        PUSH,
        content=ndjson(subject_row(172)),
        headers={"Authorization": f"Bearer {token}", **NDJSON},
    )
    assert answer.status_code == 403


async def test_an_integrator_without_the_push_scope_is_refused(registry, mint_token, subject_row):
    token = mint_token(roles=["integrator"], region="330000", scopes=["registry:inspectors:sync"])
    answer = await registry.post(
        PUSH,
        content=ndjson(subject_row(173)),
        headers={"Authorization": f"Bearer {token}", **NDJSON},
    )
    assert answer.status_code == 403


async def test_a_body_that_is_not_the_declared_format_is_415(registry, pusher):
    answer = await registry.post(
        PUSH, content=b"\x00\x01 binary", headers={**pusher, "content-type": "text/csv"}
    )
    assert answer.status_code == 415
    assert answer.headers["content-type"].startswith("application/problem+json")
    json_body = await registry.post(
        PUSH, content=b"{}", headers={**pusher, "content-type": "application/json"}
    )
    assert json_body.status_code == 415


async def test_garbage_lines_are_per_row_errors(registry, pusher, subject_row):
    body = ndjson(subject_row(181)) + b"not json\n[1, 2]\n"
    report = (
        await registry.post(f"{PUSH}?mode=per_row", content=body, headers={**pusher, **NDJSON})
    ).json()
    assert (report["created"], report["rejected"]) == (1, 2)
    assert [e["line"] for e in report["errors"]] == [2, 3]


async def test_a_body_over_the_limit_is_413(registry, pusher, subject_row):
    limit = registry._transport.app.state.settings.max_push_bytes
    answer = await registry.post(
        PUSH, content=b" " * 16, headers={**pusher, **NDJSON, "content-length": str(limit + 1)}
    )
    assert answer.status_code == 413


async def test_a_retried_push_with_the_same_key_is_applied_once(
    registry, pusher, subject_row, stack
):
    row = subject_row(191)
    headers = {**pusher, **NDJSON, "Idempotency-Key": "push-191"}
    first = await registry.post(PUSH, content=ndjson(row), headers=headers)
    second = await registry.post(PUSH, content=ndjson(row), headers=headers)
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert len(await outbox_events(stack, row["uscc"])) == 1


async def test_two_concurrent_pushes_with_one_key_apply_once_and_never_blame_each_other(
    registry, pusher, subject_row, stack
):
    rows = [subject_row(n) for n in range(195, 199)]
    headers = {**pusher, **NDJSON, "Idempotency-Key": "push-195"}
    answers = await asyncio.gather(
        *(registry.post(PUSH, content=ndjson(*rows), headers=headers) for _ in range(2))
    )
    # One applies; the other replays its answer, or says it is still in progress.
    assert sorted(a.status_code for a in answers)[0] == 200
    for answer in answers:
        if answer.status_code != 200:
            assert answer.json()["type"] == "/problems/idempotency-in-progress", answer.text
    for row in rows:
        assert len(await outbox_events(stack, row["uscc"])) == 1


async def test_two_systems_creating_the_same_subjects_at_once_never_half_apply(
    registry, pusher, subject_row, stack
):
    rows = [subject_row(n) for n in range(185, 190)]
    answers = await asyncio.gather(
        *(
            registry.post(PUSH, content=ndjson(*rows), headers={**pusher, **NDJSON})
            for _ in range(2)
        )
    )
    assert sorted(a.status_code for a in answers)[0] == 200
    for answer in answers:
        if answer.status_code != 200:
            assert answer.json()["type"] == "/problems/concurrent-change", answer.text
    for row in rows:
        assert [e["data"]["version"] for e in await outbox_events(stack, row["uscc"])] == [1]


async def test_one_subject_upsert_answers_422_naming_the_field(registry, pusher, subject_row):
    row = subject_row(201, registered_on="someday")
    uscc = row.pop("uscc")
    answer = await registry.put(f"/api/v1/registry/subjects/{uscc}", json=row, headers=pusher)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["registered_on"]


async def test_personal_data_is_hidden_from_roles_that_do_not_need_it(
    registry, pusher, mint_token, subject_row
):
    row = subject_row(211)
    await registry.post(PUSH, content=ndjson(row), headers={**pusher, **NDJSON})
    auditor = {"Authorization": f"Bearer {mint_token(roles=['auditor'], region='330000')}"}
    got = await registry.get(f"/api/v1/registry/subjects/{row['uscc']}", headers=auditor)
    assert got.status_code == 200
    assert got.json()["legal_representative"] is None
    history = await registry.get(
        f"/api/v1/registry/subjects/{row['uscc']}/history", headers=auditor
    )
    assert history.json()[0]["content"]["legal_representative"] is None


async def test_a_county_sees_only_its_own_subjects(registry, pusher, mint_token, subject_row):
    xihu, binjiang = subject_row(221), subject_row(222, region_code="330108")
    await registry.post(PUSH, content=ndjson(xihu, binjiang), headers={**pusher, **NDJSON})
    county = {"Authorization": f"Bearer {mint_token(roles=['department_admin'], region='330108')}"}
    assert (
        await registry.get(f"/api/v1/registry/subjects/{xihu['uscc']}", headers=county)
    ).status_code == 404
    assert (
        await registry.get(f"/api/v1/registry/subjects/{binjiang['uscc']}", headers=county)
    ).status_code == 200
    listed = await registry.get("/api/v1/registry/subjects?limit=500", headers=county)
    assert {s["region_code"] for s in listed.json()["items"]} == {"330108"}


async def test_the_list_pages_with_a_cursor(registry, pusher, admin, subject_row):
    rows = [subject_row(300 + i, unit_code="PAGE-TEST") for i in range(5)]
    await registry.post(PUSH, content=ndjson(*rows), headers={**pusher, **NDJSON})
    seen, cursor = [], None
    while True:
        url = "/api/v1/registry/subjects?unit_code=PAGE-TEST&limit=2" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = (await registry.get(url, headers=admin)).json()
        seen += [s["uscc"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(r["uscc"] for r in rows)


RISK = "/api/v1/registry/risk-classes:bulk"


@pytest.fixture
def classifier(mint_token):
    token = mint_token(roles=["integrator"], region="330000", scopes=["registry:risk-classes:push"])
    return {"Authorization": f"Bearer {token}"}


def risk(uscc: str, risk_class: str, as_of: str, domain: str = "general") -> dict:
    return {
        "uscc": uscc,
        "risk_class": risk_class,
        "domain": domain,
        "source": "zj-credit",
        "as_of": as_of,
    }


async def risk_events(stack, uscc: str) -> list[dict]:
    return [
        e["data"]
        for e in await class_events(stack, [uscc])
        if e["type"] == "registry.subject.risk_class_changed.v1"
    ]


async def class_events(stack, usccs: list[str]) -> list[dict]:
    """(type, transaction, data) of every risk-class event about these subjects, in order."""
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        rows = await conn.fetch(
            "SELECT event_type, xmin::text AS tx, envelope FROM outbox "
            "WHERE event_type LIKE 'registry.subject.risk_class_changed.%' "
            "AND envelope->'data'->>'uscc' = ANY($1) ORDER BY seq",
            usccs,
        )
    finally:
        await conn.close()
    return [
        {"type": r["event_type"], "tx": r["tx"], "data": json.loads(r["envelope"])["data"]}
        for r in rows
    ]


async def test_risk_classes_are_kept_per_domain_with_history_and_events(
    registry, pusher, classifier, admin, subject_row, stack
):
    row = subject_row(401)
    await registry.post(PUSH, content=ndjson(row), headers={**pusher, **NDJSON})
    pushes = [
        [
            risk(row["uscc"], "B", "2025-01-01T00:00:00Z"),
            risk(row["uscc"], "A", "2025-01-01T00:00:00Z", "food"),
        ],
        [risk(row["uscc"], "D", "2025-02-01T00:00:00Z")],
        [risk(row["uscc"], "C", "2024-12-01T00:00:00Z")],  # older than stored: stale
    ]
    reports = [
        (await registry.post(RISK, content=ndjson(*p), headers={**classifier, **NDJSON})).json()
        for p in pushes
    ]
    assert [(r["created"], r["updated"], r["stale"]) for r in reports] == [
        (2, 0, 0),
        (0, 1, 0),
        (0, 0, 1),
    ]
    got = (await registry.get(f"/api/v1/registry/subjects/{row['uscc']}", headers=admin)).json()
    assert {d: c["risk_class"] for d, c in got["risk_classes"].items()} == {
        "general": "D",
        "food": "A",
    }
    changes = [
        (e["domain"], e["old_class"], e["new_class"]) for e in await risk_events(stack, row["uscc"])
    ]
    assert changes == [("general", None, "B"), ("food", None, "A"), ("general", "B", "D")]


async def test_a_risk_class_for_an_unknown_subject_or_bad_class_is_refused(
    registry, classifier, uscc
):
    answer = await registry.post(
        f"{RISK}?mode=per_row",
        content=ndjson(
            risk(uscc(402), "B", "2025-01-01T00:00:00Z"), {"uscc": uscc(403), "risk_class": "E"}
        ),
        headers={**classifier, **NDJSON},
    )
    report = answer.json()
    assert report["rejected"] == 2
    assert {e["field"] for e in report["errors"]} >= {"uscc", "risk_class"}


async def test_the_subject_pusher_cannot_push_risk_classes(registry, pusher, uscc):
    answer = await registry.post(
        RISK,
        content=ndjson(risk(uscc(404), "B", "2025-01-01T00:00:00Z")),
        headers={**pusher, **NDJSON},
    )
    assert answer.status_code == 403


async def test_the_population_is_counted_by_risk_class_within_the_callers_region(
    registry, pusher, classifier, admin, mint_token, subject_row
):
    rows = [subject_row(500 + i, unit_code="POP-TEST") for i in range(4)]
    rows.append(subject_row(504, unit_code="POP-TEST", region_code="330108"))
    rows.append(subject_row(505, unit_code="POP-TEST", status="cancelled"))
    await registry.post(PUSH, content=ndjson(*rows), headers={**pusher, **NDJSON})
    classes = [
        risk(rows[0]["uscc"], "A", "2025-01-01T00:00:00Z"),
        risk(rows[1]["uscc"], "D", "2025-01-01T00:00:00Z"),
    ]
    await registry.post(RISK, content=ndjson(*classes), headers={**classifier, **NDJSON})

    province = (
        await registry.get("/api/v1/registry/population:count?unit_code=POP-TEST", headers=admin)
    ).json()
    assert province["total"] == 5, "the cancelled subject is not counted by default"
    assert province["by_risk_class"] == {"A": 1, "B": 0, "C": 0, "D": 1, "unclassified": 3}

    binjiang = {
        "Authorization": f"Bearer {mint_token(roles=['department_admin'], region='330108')}"
    }
    county = (
        await registry.get("/api/v1/registry/population:count?unit_code=POP-TEST", headers=binjiang)
    ).json()
    assert county["total"] == 1


async def test_a_classifier_of_another_province_is_refused(registry, mint_token, uscc):
    token = mint_token(roles=["integrator"], region="440000", scopes=["registry:risk-classes:push"])
    answer = await registry.post(
        RISK,
        content=ndjson(risk(uscc(406), "B", "2025-01-01T00:00:00Z")),
        headers={"Authorization": f"Bearer {token}", **NDJSON},
    )
    assert answer.status_code == 403


async def test_a_retried_risk_class_push_is_applied_once(
    registry, pusher, classifier, subject_row, stack
):
    row = subject_row(407)
    await registry.post(PUSH, content=ndjson(row), headers={**pusher, **NDJSON})
    headers = {**classifier, **NDJSON, "Idempotency-Key": "risk-407"}
    body = ndjson(risk(row["uscc"], "C", "2025-01-01T00:00:00Z"))
    first = await registry.post(RISK, content=body, headers=headers)
    second = await registry.post(RISK, content=body, headers=headers)
    assert second.json() == first.json()
    assert len(await risk_events(stack, row["uscc"])) == 1


async def test_every_pushed_field_lands_in_its_column_and_history_keeps_the_content(
    registry, pusher, subject_row, stack
):
    full = subject_row(
        9301,
        subject_type="individual",
        status="suspended",
        registered_address="杭州市西湖区文三路1号",
        business_address="杭州市西湖区文三路2号",
        business_scope="预包装食品销售；餐饮服务",
        licences=[{"type": "食品经营许可证", "number": "JY1", "valid_until": "2030-01-01"}],
        online_shops=["https://shop.example.cn/9301"],
        registered_capital_wan="12.50",
        employee_band="10-49",
        unit_code="330106-01",
        registered_on="2015-06-01",
        registration_no="330106000009301",
        网店数=2,
    )
    bare = subject_row(9302)  # only what is required: the rest stays empty
    answer = await registry.post(PUSH, content=ndjson(full, bare), headers={**pusher, **NDJSON})
    assert answer.json()["created"] == 2, answer.text
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        stored = {
            r["uscc"]: dict(r)
            for r in await conn.fetch(
                "SELECT * FROM subjects WHERE uscc = ANY($1)", [full["uscc"], bare["uscc"]]
            )
        }
        history = await conn.fetchval(
            "SELECT content FROM subject_history WHERE uscc = $1 AND version = 1", full["uscc"]
        )
    finally:
        await conn.close()
    row = stored[full["uscc"]]
    for column in ("name", "subject_type", "status", "region_code", "registered_address",
                   "business_address", "legal_representative", "industry_code", "business_scope",
                   "employee_band", "unit_code", "registration_no", "source"):  # fmt: skip
        assert row[column] == full[column], column
    assert json.loads(row["licences"]) == full["licences"]
    assert json.loads(row["online_shops"]) == full["online_shops"]
    assert json.loads(row["extra"]) == {"网店数": 2}
    assert str(row["registered_capital_wan"]) == "12.50"
    assert row["registered_on"].isoformat() == "2015-06-01"
    assert (row["version"], row["classification"] >= 0) == (1, True)
    assert json.loads(history)["name"] == full["name"]
    assert json.loads(history)["extra"] == {"网店数": 2}
    empty = stored[bare["uscc"]]
    assert (empty["business_scope"], empty["registered_capital_wan"], empty["registered_on"]) == (
        None,
        None,
        None,
    )
    assert (json.loads(empty["licences"]), json.loads(empty["extra"])) == ([], {})


# ---- risk-class events v2: the subject's region and station beside v1 (docs/events.md) ----


async def test_a_risk_class_change_is_announced_in_v1_and_v2_with_region_and_station(
    registry, pusher, classifier, subject_row, stack
):
    from shuangsui.contracts.events.registry_subjects import RiskClassChanged, RiskClassChangedV2

    west = subject_row(421, unit_code="330106-XH01")
    binjiang = subject_row(422, region_code="330108")  # pushed without a station
    await registry.post(PUSH, content=ndjson(west, binjiang), headers={**pusher, **NDJSON})
    classes = [risk(west["uscc"], "B", "2025-01-01T00:00:00Z"),
               risk(binjiang["uscc"], "C", "2025-01-01T00:00:00Z", "food")]  # fmt: skip
    answer = await registry.post(RISK, content=ndjson(*classes), headers={**classifier, **NDJSON})
    assert answer.json()["created"] == 2, answer.text

    events = await class_events(stack, [west["uscc"], binjiang["uscc"]])
    assert [e["type"].rsplit(".", 1)[1] for e in events] == ["v1", "v2", "v1", "v2"]
    assert len({e["tx"] for e in events}) == 1, "both versions in the push's transaction"
    for v1, v2 in (events[0:2], events[2:4]):
        RiskClassChanged.model_validate(v1["data"])
        RiskClassChangedV2.model_validate(v2["data"])
        assert {k: v for k, v in v2["data"].items() if k not in ("region_code", "unit_code")} == (
            v1["data"]
        )
    assert [(e["data"]["region_code"], e["data"]["unit_code"]) for e in events[1::2]] == [
        ("330106", "330106-XH01"), ("330108", None)
    ]  # fmt: skip
    assert [(e["data"]["domain"], e["data"]["old_class"], e["data"]["new_class"],
             e["data"]["source"]) for e in events[1::2]] == [
        ("general", None, "B", "zj-credit"), ("food", None, "C", "zj-credit")
    ]  # fmt: skip

    # The subject moves to another station; its next class change says where it is now.
    moved = {**west, "unit_code": "330106-XH02", "source_updated_at": "2025-04-01T08:00:00+08:00"}
    await registry.post(PUSH, content=ndjson(moved), headers={**pusher, **NDJSON})
    again = [risk(west["uscc"], "D", "2025-05-01T00:00:00Z")]
    await registry.post(RISK, content=ndjson(*again), headers={**classifier, **NDJSON})
    latest = (await class_events(stack, [west["uscc"]]))[-1]
    assert latest["type"] == "registry.subject.risk_class_changed.v2"
    assert (latest["data"]["old_class"], latest["data"]["new_class"]) == ("B", "D")
    assert (latest["data"]["region_code"], latest["data"]["unit_code"]) == ("330106", "330106-XH02")


async def test_a_bulk_risk_class_push_writes_both_versions_through_copy(
    registry, pusher, classifier, subject_row, uscc, stack
):
    # 150 changes, two events each: over the outbox's COPY threshold (200 events).
    subjects = [
        subject_row(0, uscc=uscc(n, "330110"), region_code="330110", unit_code=f"330110-{n % 3}")
        for n in range(150)
    ]
    await registry.post(PUSH, content=ndjson(*subjects), headers={**pusher, **NDJSON})
    classes = [
        risk(s["uscc"], "ABCD"[n % 4], "2025-01-01T00:00:00Z") for n, s in enumerate(subjects)
    ]
    answer = await registry.post(RISK, content=ndjson(*classes), headers={**classifier, **NDJSON})
    assert answer.json()["created"] == 150, answer.text

    events = await class_events(stack, [s["uscc"] for s in subjects])
    v2 = {e["data"]["uscc"]: e["data"] for e in events if e["type"].endswith(".v2")}
    assert (len(events), len(v2)) == (300, 150)
    assert all(
        (v2[s["uscc"]]["region_code"], v2[s["uscc"]]["unit_code"], v2[s["uscc"]]["new_class"])
        == ("330110", s["unit_code"], c["risk_class"])
        for s, c in zip(subjects, classes, strict=True)
    )


async def test_a_refused_atomic_risk_class_push_announces_nothing(
    registry, pusher, classifier, subject_row, uscc, stack
):
    known = subject_row(423)
    await registry.post(PUSH, content=ndjson(known), headers={**pusher, **NDJSON})
    body = ndjson(risk(known["uscc"], "A", "2025-01-01T00:00:00Z"),
                  risk(uscc(424), "A", "2025-01-01T00:00:00Z"))  # fmt: skip
    answer = await registry.post(RISK, content=body, headers={**classifier, **NDJSON})
    assert answer.status_code == 422, answer.text
    assert await class_events(stack, [known["uscc"]]) == []
