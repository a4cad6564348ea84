"""End to end through the gateway of a platform started with `shuangsui dev up`.

Journey: an operator sends a pipeline probe to the registry and sees it arrive at planning,
carried by the outbox, the relay, NATS JetStream and planning's consumer.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

ALL_SERVICES = {"registry", "planning", "sampling", "inspection", "disclosure"}


@pytest.fixture(scope="module")
def gateway(platform):
    with httpx.Client(base_url=platform.gateway, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def admin(platform):
    return {
        "Authorization": "Bearer " + platform.token(roles=["provincial_admin"], region="330000")
    }


def wait_for(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = check()
        if answer is not None:
            return answer
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_gateway_readiness_names_every_service(gateway):
    answer = gateway.get("/readyz")
    assert answer.status_code == 200
    checks = answer.json()["checks"]
    assert set(checks) >= ALL_SERVICES
    assert all(checks[s]["ready"] for s in ALL_SERVICES)


def test_probe_sent_to_registry_arrives_at_planning_through_the_gateway(gateway, admin):
    sent = gateway.post("/api/v1/registry/probes", json={"note": "e2e"}, headers=admin)
    assert sent.status_code == 202, sent.text
    probe_id = sent.json()["probe_id"]

    def arrived():
        answer = gateway.get(f"/api/v1/planning/probes/{probe_id}", headers=admin)
        return answer if answer.status_code == 200 else None

    received = wait_for(arrived).json()
    assert received["probe_id"] == probe_id
    assert received["note"] == "e2e"


def test_gateway_forwards_the_callers_trace(gateway, admin):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    answer = gateway.post(
        "/api/v1/registry/probes",
        json={},
        headers={**admin, "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
    )
    assert answer.status_code == 202
    assert answer.headers["traceparent"].split("-")[1] == trace_id


def test_other_province_cannot_read_through_the_gateway(gateway, platform, admin):
    sent = gateway.post("/api/v1/registry/probes", json={"note": "private"}, headers=admin).json()
    guangdong = {
        "Authorization": "Bearer " + platform.token(roles=["provincial_admin"], region="440000")
    }
    answer = gateway.get(f"/api/v1/planning/probes/{sent['probe_id']}", headers=guangdong)
    assert answer.status_code == 403
    assert "private" not in answer.text


def test_gateway_rejects_a_bad_token_at_the_edge(gateway):
    answer = gateway.get("/api/v1/planning/probes/x", headers={"Authorization": "Bearer not-a-jwt"})
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_tokenless_multi_megabyte_push_is_401_at_the_gateway(gateway):
    """Refused before the body is forwarded, with the registry's own problem (it was a 503)."""
    line = json.dumps({"uscc": "91330106MA00000000", "name": "杭州大批量测试有限公司"}).encode()
    body = (line + b"\n") * (8 * 1024 * 1024 // len(line))
    answer = gateway.post(
        "/api/v1/registry/subjects:bulk",
        content=body,
        headers={"content-type": "application/x-ndjson"},
        timeout=60,
    )
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["type"] == "/problems/unauthenticated"


def test_unknown_service_is_a_404_problem(gateway, admin):
    answer = gateway.get("/api/v1/nonexistent/things", headers=admin)
    assert answer.status_code == 404
    assert answer.json()["type"] == "/problems/not-found"


def test_one_merged_openapi_document_with_unique_operation_ids(gateway):
    doc = gateway.get("/openapi.json").json()
    assert "/api/v1/registry/probes" in doc["paths"]
    assert "/api/v1/planning/probes/{probe_id}" in doc["paths"]
    operation_ids = [
        op["operationId"]
        for item in doc["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert "registry_probes_send" in operation_ids
    assert len(operation_ids) == len(set(operation_ids))


def test_problem_types_are_documented_by_the_gateway(gateway):
    page = gateway.get("/problems/idempotency-key-reused")
    assert page.status_code == 200
    assert "Idempotency-Key" in page.text


def test_a_dead_service_process_is_restarted_by_the_supervisor(platform, gateway):
    import psutil

    def planning_api():
        for child in platform.descendants():
            cmdline = " ".join(child.cmdline())
            if "shuangsui.planning.main:create_app" in cmdline:
                return child
        return None

    victim = wait_for(planning_api)
    victim.kill()
    victim.wait(timeout=10)

    def replaced():
        fresh = planning_api()
        if fresh is None or fresh.pid == victim.pid:
            return None
        return fresh if gateway.get("/readyz").status_code == 200 else None

    assert wait_for(replaced, timeout=60).pid != victim.pid
    assert "planning exited" in platform.log.read_text() or psutil.pid_exists(victim.pid) is False


def test_the_demo_province_is_loaded_and_readable_through_the_gateway(gateway, admin):
    from shuangsui.devstack.pytest_plugin import E2E_DEMO_SUBJECTS

    seen, cursor = 0, None
    while True:
        url = "/api/v1/registry/subjects?limit=500" + (f"&cursor={cursor}" if cursor else "")
        page = gateway.get(url, headers=admin).json()
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == E2E_DEMO_SUBJECTS


def test_the_demo_inspectors_are_loaded(gateway, admin):
    """The demo's officers: the ones asked for, and the staff of the demo plan's city (each of
    its county bureaus, its head office and the partner department)."""
    from shuangsui.devstack.demo import DemoProvince
    from shuangsui.devstack.pytest_plugin import E2E_DEMO_INSPECTORS

    demo = DemoProvince(subjects=0, inspectors=E2E_DEMO_INSPECTORS)
    certificates = {row["cert_no"] for row in demo.inspector_rows()}
    page = gateway.get("/api/v1/registry/inspectors?limit=500", headers=admin)
    assert page.status_code == 200, page.text
    assert len(certificates) > E2E_DEMO_INSPECTORS
    assert len(page.json()["items"]) == len(certificates)


def test_the_api_docs_work_without_internet(gateway):
    page = gateway.get("/docs")
    assert page.status_code == 200
    assert "/openapi.json" in page.text
    assert gateway.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def all_pages(gateway, path: str, headers: dict[str, str], **params) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        page = gateway.get(path, params=query, headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def test_the_demo_subjects_are_tagged_indexed_and_counted_per_item(gateway, admin):
    """The journey of a planner: which subjects does an item cover, how many by risk class."""
    rules = gateway.get("/api/v1/registry/tag-rules", headers=admin).json()
    assert rules["version"] >= 1
    assert rules["rules"]
    [version] = [
        v
        for v in all_pages(gateway, "/api/v1/registry/item-lists", admin, level="national")
        if v["status"] == "published"
    ]
    items = all_pages(gateway, f"/api/v1/registry/item-lists/{version['list_id']}/items", admin)
    every_enterprise = next(i for i in items if i["code"] == "DEMO-07")

    counted = gateway.get(
        "/api/v1/registry/population:count",
        params={"item_id": every_enterprise["item_id"]},
        headers=admin,
    ).json()
    assert counted["method"] == "index"
    covered = all_pages(
        gateway, "/api/v1/registry/subjects", admin,
        item_id=every_enterprise["item_id"], status="active",
    )  # fmt: skip
    assert counted["total"] == len(covered) > 0
    assert {s["subject_type"] for s in covered} == {"enterprise"}
    assert all(s["tags"]["carrier"] for s in covered), "every subject is 网络 or 实体"
    classified = sum(v for k, v in counted["by_risk_class"].items() if k != "unclassified")
    assert classified > 0, "the demo risk classes are counted"


def test_a_station_corrects_a_subjects_tags_and_the_county_approves(platform, gateway, admin):
    """The station knows better than the rules: its staff propose, the county bureau approves,
    and the subject's tags and items follow at once."""
    subject = all_pages(gateway, "/api/v1/registry/subjects", admin, status="active")[0]
    station, county = subject["unit_code"], subject["region_code"]
    staff = {"Authorization": "Bearer " + platform.token(
        roles=["station_staff"], region=county, station=station, sub="e2e-station")}  # fmt: skip
    bureau = {"Authorization": "Bearer " + platform.token(
        roles=["department_admin"], region=county, sub="e2e-county")}  # fmt: skip
    online = "carrier:网络" not in [f"carrier:{t}" for t in subject["tags"]["carrier"]]
    change = {"add": ["carrier:网络"]} if online else {"remove": ["carrier:网络"]}

    proposed = gateway.post(
        f"/api/v1/registry/subjects/{subject['uscc']}/tag-corrections",
        json={**change, "reason": "现场核查 · e2e"},
        headers=staff,
    )
    assert proposed.status_code == 201, proposed.text
    unchanged = gateway.get(f"/api/v1/registry/subjects/{subject['uscc']}", headers=admin).json()
    assert unchanged["tags"] == subject["tags"], "nothing changes before review"

    correction = proposed.json()["correction_id"]
    own = gateway.post(f"/api/v1/registry/tag-corrections/{correction}:approve", headers=staff)
    assert own.status_code == 403, "station staff cannot approve"
    approved = gateway.post(
        f"/api/v1/registry/tag-corrections/{correction}:approve",
        json={"note": "同意"},
        headers=bureau,
    )
    assert approved.status_code == 200, approved.text

    after = gateway.get(f"/api/v1/registry/subjects/{subject['uscc']}", headers=admin).json()
    assert ("网络" in after["tags"]["carrier"]) is online
    assert after["tag_correction"]["approved_by"] == "e2e-county"


def test_a_provincial_push_through_the_gateway_refuses_bad_rows_and_other_provinces(
    platform, gateway, admin
):
    """A registration system pushes through the gateway: a batch with a bad row changes nothing;
    a Guangdong system can neither push Zhejiang subjects nor read them."""
    from stdnum.cn import uscc as stdnum_uscc

    body = "91330106MA2E2E0000"[:17]
    good = {
        "uscc": body + stdnum_uscc.calc_check_digit(body), "name": "杭州端到端测试有限公司",
        "region_code": "330106", "source": "zj-aic",
        "source_updated_at": "2025-03-01T08:00:00+08:00",
    }  # fmt: skip
    bad = {**good, "uscc": good["uscc"][:-1] + ("0" if good["uscc"][-1] != "0" else "1")}
    pusher = {
        "Authorization": "Bearer " + platform.token(
            roles=["integrator"], region="330000", scopes=["registry:subjects:push"]),
        "content-type": "application/x-ndjson",
    }  # fmt: skip
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in (good, bad)) + "\n"
    refused = gateway.post("/api/v1/registry/subjects:bulk", content=lines.encode(), headers=pusher)
    assert refused.status_code == 422, refused.text
    assert [(e["line"], e["field"]) for e in refused.json()["errors"]] == [(2, "uscc")]
    missing = gateway.get(f"/api/v1/registry/subjects/{good['uscc']}", headers=admin)
    assert missing.status_code == 404, "atomic: nothing of the batch was applied"

    guangdong_pusher = {
        **pusher,
        "Authorization": "Bearer " + platform.token(
            roles=["integrator"], region="440000", scopes=["registry:subjects:push"]),
    }  # fmt: skip
    one = (json.dumps(good, ensure_ascii=False) + "\n").encode()
    foreign = gateway.post("/api/v1/registry/subjects:bulk", content=one, headers=guangdong_pusher)
    assert foreign.status_code == 403, foreign.text
    accepted = gateway.post("/api/v1/registry/subjects:bulk", content=one, headers=pusher)
    assert accepted.json()["created"] == 1, accepted.text
    guangdong = {
        "Authorization": "Bearer " + platform.token(roles=["provincial_admin"], region="440000")
    }
    peek = gateway.get(f"/api/v1/registry/subjects/{good['uscc']}", headers=guangdong)
    assert peek.status_code in (403, 404)
    assert good["name"] not in peek.text


def test_a_planner_previews_an_items_population_counted_by_the_registry(gateway, platform):
    """Planning asks the registry as its service principal: the strata it shows are the
    registry's own counts, and the expected sample is the draw's ceiling rule."""
    items = gateway.get("/api/v1/registry/items", params={"region": "330106", "limit": 500})
    assert items.status_code == 200, items.text
    planner = {
        "Authorization": "Bearer "
        + platform.token(roles=["department_admin"], region="330100", org="330100-AMR")
    }

    def counted(item_id):
        answer = gateway.get(
            "/api/v1/registry/population:count",
            params={"item_id": item_id, "region_code": "330100"}, headers=planner,
        )  # fmt: skip
        return answer.json()["total"] if answer.status_code == 200 else 0

    # The demo's item index is built by the registry worker; take an item it has counted.
    populated = wait_for(
        lambda: next((i["item_id"] for i in items.json()["items"] if counted(i["item_id"])), None)
    )
    registry_count = gateway.get(
        "/api/v1/registry/population:count",
        params={"item_id": populated, "region_code": "330100"}, headers=planner,
    ).json()  # fmt: skip

    preview = gateway.get(
        "/api/v1/planning/population:preview",
        params={"item_id": populated, "region_code": "330100", "ratio_a": "3%",
                "ratio_b": "1/10", "ratio_c": "40%", "ratio_d": "100%"},
        headers=planner,
    )  # fmt: skip

    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["total"] == registry_count["total"]
    by_class = registry_count["by_risk_class"]
    strata = {s["stratum"]: s for s in shown["strata"]}
    assert strata["B"]["population"] == by_class["B"] + by_class["unclassified"]
    assert strata["D"]["expected_sample"] == by_class["D"]
    assert strata["A"]["ratio"] == "3/100"
    assert shown["expected_sample"] == sum(s["expected_sample"] for s in shown["strata"])


def test_a_service_token_does_not_open_the_platform_from_outside(gateway, platform):
    """A service principal's token is addressed to one service; the gateway refuses it."""
    token = platform.issuer.service_token("planning", "registry", ["registry:population:read"])

    answer = gateway.get(
        "/api/v1/registry/population:count", headers={"Authorization": f"Bearer {token}"}
    )

    assert answer.status_code == 401
