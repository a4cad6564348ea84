"""Verifying draws over HTTP, on real PostgreSQL and NATS: the served bundle recomputed by the
same library function as `shuangsui draw verify` (`shuangsui.drawspec.verdict_of`), and a
citizen's uploaded copies checked the same way; public, nothing stored (issue 13 item 7)."""

import copy
import io
import json
import uuid

import pytest
from draw_api_testkit import (
    DRAWS,
    FIXED,
    Bureau,
    action,
    completed,
    fed,
    prepared_for,
    problem,
    with_etag,
)

from shuangsui.devstack.pytest_plugin import environment
from shuangsui.drawspec.cli import run
from shuangsui.drawspec.cli_io import Io
from shuangsui.sampling.worker import SUBSCRIPTIONS

VERIFICATIONS = "/api/v1/sampling/verifications"


@pytest.fixture
async def world(consumer_feed, batch_events, subject_events, directory_events, bearer, uscc,
                current_model, batch_code):  # fmt: skip
    """A county bureau's published batch over twelve unclassified subjects (two are drawn, 1/10
    of stratum B) and four officers of its station; its admin's token."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    bureau = Bureau.fresh("V")
    base = uuid.uuid4().int % 10**7 * 100
    codes = [uscc(base + n) for n in range(12)]
    published = bureau.batch(batch_events, batch_code())
    await fed(feed, [
        *(subject_events.upserted(code, item_ids=[bureau.item]) for code in codes),
        *bureau.officers(directory_events, 4), published,
    ])  # fmt: skip
    owner = bearer("department_admin", region="330106", org=str(bureau.org),
                   sub=f"admin-{bureau.tag}")  # fmt: skip
    return {"batch": published.payload, "codes": codes, "owner": owner}


def verification_path(draw_id):
    return f"{DRAWS}/{draw_id}/verification"


async def served(sampling, draw_id):
    bundle = await sampling.get(f"{DRAWS}/{draw_id}/bundle")
    result = await sampling.get(f"{DRAWS}/{draw_id}/result")
    assert bundle.status_code == result.status_code == 200
    return json.loads(bundle.content), json.loads(result.content)


def upload(sampling, bundle, result):
    return sampling.post(VERIFICATIONS, json={"bundle": bundle, "result": result})


def cli_verdict(tmp_path, bundle, result):
    """What `shuangsui draw verify bundle.json result.json` prints for the same documents."""
    (tmp_path / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=False))
    (tmp_path / "result.json").write_text(json.dumps(result, ensure_ascii=False))
    out, err = io.StringIO(), io.StringIO()
    code = run(["verify", str(tmp_path / "bundle.json"), str(tmp_path / "result.json"),
                "--test-mode"], Io(io.BytesIO(), out, err))  # fmt: skip
    return code, json.loads(out.getvalue())


async def test_a_completed_draw_verifies_for_anyone_with_every_step_passed(sampling, world,
                                                                           tmp_path):  # fmt: skip
    draw = await completed(sampling, world)
    answer = await sampling.get(verification_path(draw["draw_id"]))  # no token
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert (verdict["ok"], verdict["outcome"], verdict["draw_id"]) == (
        True, "result", draw["draw_id"])  # fmt: skip
    assert verdict["difference"] is None
    assert verdict["rejection"] is None
    assert [c["check"] for c in verdict["checks"]] == [
        "schema",
        "order",
        "list_hashes",
        "exclusions",
        "strata",
        "beacon",
        "compute",
        "recusals",
    ]
    assert {c["passed"] for c in verdict["checks"]} == {True}
    code, printed = cli_verdict(tmp_path, *await served(sampling, draw["draw_id"]))
    assert (code, printed) == (0, {"match": True, "outcome": "result", "field": None})


async def test_the_served_documents_uploaded_verify(sampling, world):
    draw = await completed(sampling, world)
    answer = await upload(sampling, *await served(sampling, draw["draw_id"]))
    assert answer.status_code == 200, answer.text
    assert (answer.json()["ok"], answer.json()["draw_id"]) == (True, draw["draw_id"])


async def test_a_result_with_one_selected_subject_swapped_names_the_difference(sampling, world,
                                                                              tmp_path):  # fmt: skip
    draw = await completed(sampling, world)
    bundle, result = await served(sampling, draw["draw_id"])
    [stratum] = [s for s in result["strata"] if s["selected"]]
    index = result["strata"].index(stratum)
    outsider = next(c for c in world["codes"] if c not in stratum["selected"])
    tampered = copy.deepcopy(result)
    tampered["strata"][index]["selected"][0] = outsider
    answer = await upload(sampling, bundle, tampered)
    assert answer.status_code == 200, answer.text
    verdict = answer.json()
    assert verdict["ok"] is False
    assert verdict["outcome"] == "result"  # the bundle is sound; the result is not its result
    assert verdict["difference"] == {
        "part": "strata", "field": f"strata[{index}].selected[0]",
        "published": outsider, "computed": stratum["selected"][0],
    }  # fmt: skip
    code, printed = cli_verdict(tmp_path, bundle, tampered)
    assert code == 1
    assert printed["field"] == verdict["difference"]["field"]


async def test_a_tampered_bundle_is_rejected_at_the_list_hashes(sampling, world):
    draw = await completed(sampling, world)
    bundle, result = await served(sampling, draw["draw_id"])
    bundle["manifest"][0]["weight"] = 2  # a weight changed after the commitment (TV5)
    verdict = (await upload(sampling, bundle, result)).json()
    assert (verdict["ok"], verdict["outcome"]) == (False, "E_HASH_MISMATCH")
    assert "manifest_sha256" in verdict["rejection"]["message"]
    passed = {c["check"]: c["passed"] for c in verdict["checks"]}
    assert (passed["order"], passed["list_hashes"], passed["beacon"]) == (True, False, None)


async def test_malformed_uploads_are_422_naming_the_field(sampling, world):
    draw = await completed(sampling, world)
    bundle, result = await served(sampling, draw["draw_id"])

    async def refused(body, field, **headers):
        answer = await sampling.post(VERIFICATIONS, content=body,
                                     headers={"Content-Type": "application/json", **headers})  # fmt: skip
        found = problem(answer, 422)
        assert found["type"] == "/problems/validation-error"
        assert field in [e["field"] for e in found["errors"]], found
        return found

    await refused(b'{"bundle": ', "")
    await refused(json.dumps({"bundle": bundle}).encode(), "result")
    await refused(json.dumps({"bundle": bundle, "result": result, "x": 1}).encode(), "x")
    await refused(json.dumps({"bundle": bundle, "result": {"seed": "00"}}).encode(), "result")
    await refused(json.dumps({"bundle": [], "result": result}).encode(), "bundle")
    fraction = json.dumps({"bundle": bundle, "result": result}).replace(
        '"weight": 1', '"weight": 1.0', 1)  # fmt: skip
    schema = await refused(fraction.encode(), "bundle.manifest[0].weight")
    assert schema["rule"] == "E_SCHEMA"
    wrong_type = await sampling.post(VERIFICATIONS, content=b"{}",
                                     headers={"Content-Type": "text/plain"})  # fmt: skip
    problem(wrong_type, 415)


async def test_an_upload_over_the_limit_is_413(service_client, world):
    with environment({"DRAW_TEST_MODE": "true", "VERIFICATION_MAX_BYTES": "2048"}):
        small = await service_client("sampling")
    answer = await small.post(VERIFICATIONS, json={"bundle": {"pad": "x" * 4096}, "result": {}})
    problem(answer, 413)


async def test_a_draw_not_yet_public_or_not_computed_has_no_verification(sampling, world):
    draw = await prepared_for(sampling, world)
    path = verification_path(draw["draw_id"])
    assert problem(await sampling.get(path), 404)["type"] == "/problems/not-found"
    assert (await sampling.get(path, headers=world["owner"])).status_code == 404
    body = {"beacon": {"source": "fixed", "value": FIXED}}
    committed = await sampling.post(action(draw["draw_id"], "commit"), json=body,
                                    headers=with_etag(world["owner"], 1))  # fmt: skip
    assert committed.status_code == 200, committed.text
    assert (await sampling.get(path)).status_code == 404  # public, but nothing computed yet
    assert (await sampling.get(verification_path("330106202603159999-01"))).status_code == 404


async def test_both_operations_are_documented_as_public(sampling):
    document = (await sampling.get("/openapi.json")).json()
    found = {op["operationId"]: op for path in document["paths"].values() for op in path.values()}
    for name in ("sampling_draws_verify", "sampling_verifications_check"):
        operation = found[name]
        assert {} in operation.get("security", [{}]), name  # no token needed
        assert " · " in operation["summary"]
    body = found["sampling_verifications_check"]["requestBody"]["content"]["application/json"]
    assert set(body["schema"]["required"]) == {"bundle", "result"}
    assert "422" in found["sampling_verifications_check"]["responses"]
