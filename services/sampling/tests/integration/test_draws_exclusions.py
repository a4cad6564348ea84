"""Exclusions with B.7 reason codes over HTTP, on real PostgreSQL and NATS (DRAW_SPEC §3.2,
B.7, §10.1): named at prepare and checked entry by entry (nothing stored when one is refused),
the batch's REGISTERED_RECENTLY applied by itself, and the committed list in the served bundle,
which still verifies with the command line."""

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from draw_api_testkit import (
    DRAWS,
    Bureau,
    completed_fixed,
    fed,
    prepare_answer,
    problem,
)

from shuangsui.drawspec import lists
from shuangsui.drawspec.model import Exclusion
from shuangsui.sampling.worker import SUBSCRIPTIONS

POLICY = [
    {"reason": "UNDER_INVESTIGATION", "months": None, "note": None},
    {"reason": "REGISTERED_RECENTLY", "months": 6, "note": None},
    {"reason": "OTHER_WITH_NOTE", "months": None, "note": "停业装修"},
]


@pytest.fixture
async def world(consumer_feed, batch_events, subject_events, directory_events, bearer, uscc,
                current_model, batch_code):  # fmt: skip
    """A county bureau's batch with an exclusion policy (UNDER_INVESTIGATION, REGISTERED_RECENTLY
    of 6 months, OTHER_WITH_NOTE 停业装修) and one without, over twelve unclassified subjects of
    which the last was registered a month ago; four officers of its station."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    bureau = Bureau.fresh("X")
    base = uuid.uuid4().int % 10**7 * 100
    codes = [uscc(base + n) for n in range(12)]
    recent = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    with_policy = bureau.batch(batch_events, batch_code(), exclusion_policy=POLICY)
    without = bureau.batch(batch_events, batch_code(), exclusion_policy=[])
    await fed(feed, [
        *(subject_events.upserted(code, item_ids=[bureau.item]) for code in codes[:-1]),
        subject_events.upserted(codes[-1], item_ids=[bureau.item], registered_on=recent),
        *bureau.officers(directory_events, 4), with_policy, without,
    ])  # fmt: skip
    owner = bearer("department_admin", region="330106", org=str(bureau.org),
                   sub=f"admin-{bureau.tag}")  # fmt: skip
    return {"batch": with_policy.payload, "without": without.payload, "codes": codes,
            "owner": owner, "outsider": uscc(base + 99)}  # fmt: skip


def prepare(sampling, world, exclusions, batch=None, **body):
    batch_id = (batch or world["batch"]).batch_id
    return prepare_answer(sampling, batch_id, world["owner"], {"exclusions": exclusions, **body})


async def served_files(sampling, draw_id, tmp_path):
    for name in ("bundle", "result"):
        answer = await sampling.get(f"{DRAWS}/{draw_id}/{name}")
        assert answer.status_code == 200, answer.text
        (tmp_path / f"{name}.json").write_bytes(answer.content)
    return json.loads((tmp_path / "bundle.json").read_bytes())


async def test_named_and_policy_exclusions_land_in_the_bundle_and_it_verifies(sampling, world,
                                                                             tmp_path):  # fmt: skip
    codes = world["codes"]
    answer = await prepare(sampling, world, [
        {"uscc": codes[0], "reason": "UNDER_INVESTIGATION"},
        {"uscc": codes[1], "reason": "OTHER_WITH_NOTE"},  # the policy's only note
        {"uscc": codes[2], "reason": "OTHER_WITH_NOTE", "note": "停业装修"},
    ])  # fmt: skip
    assert answer.status_code == 201, answer.text
    draw = answer.json()
    assert draw["excluded"] == 4  # three named, the recently registered one by the policy
    assert sum(s["population"] for s in draw["population"]) == len(codes) - 4

    done = await completed_fixed(sampling, draw, world["owner"])
    bundle = await served_files(sampling, done["draw_id"], tmp_path)
    expected = sorted([
        (codes[0], "UNDER_INVESTIGATION"), (codes[1], "OTHER_WITH_NOTE:停业装修"),
        (codes[2], "OTHER_WITH_NOTE:停业装修"), (codes[-1], "REGISTERED_RECENTLY"),
    ], key=lambda e: e[0].encode())  # fmt: skip
    assert bundle["exclusions"] == [{"subject_id": s, "reason": r} for s, r in expected]
    assert not {e["subject_id"] for e in bundle["exclusions"]} & {
        m["subject_id"] for m in bundle["manifest"]}  # fmt: skip
    committed = bundle["commitment"]["exclusions_sha256"]
    assert committed == lists.exclusions_hash([Exclusion(s, r) for s, r in expected])

    verified = subprocess.run(
        [sys.executable, "-m", "shuangsui.drawspec", "verify", str(tmp_path / "bundle.json"),
         str(tmp_path / "result.json"), "--test-mode"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["match"] is True


async def test_refused_exclusions_name_each_entry_and_store_nothing(sampling, world, sampling_rows):
    codes = world["codes"]
    answer = await prepare(sampling, world, [
        {"uscc": world["outsider"], "reason": "UNDER_INVESTIGATION"},
        {"uscc": codes[0], "reason": "UNDER_INVESTIGATION"},
        {"uscc": codes[0], "reason": "OTHER_WITH_NOTE"},
        {"uscc": codes[1], "reason": "CLOSED"},
        {"uscc": codes[2], "reason": "DEREGISTERED"},  # B.7, but not of this batch's policy
        {"uscc": codes[3], "reason": "OTHER_WITH_NOTE", "note": "别的说明"},
    ])  # fmt: skip
    found = problem(answer, 422, "draw-exclusion-outside")
    assert found["type"] == "/problems/draw-refused"
    assert found["field"] == "exclusions[0].uscc"
    assert [(e["field"], e["reason"].split(":")[0]) for e in found["errors"]] == [
        ("exclusions[0].uscc", "draw-exclusion-outside"),
        ("exclusions[2].uscc", "draw-exclusion-duplicate"),
        ("exclusions[3].reason", "draw-exclusion-reason"),
        ("exclusions[4].reason", "draw-exclusion-reason"),
        ("exclusions[5].note", "draw-exclusion-reason"),
    ]
    for one, rule in [
        ([{"uscc": codes[0], "reason": "UNDER_INVESTIGATION"},
          {"uscc": codes[0], "reason": "UNDER_INVESTIGATION"}], "draw-exclusion-duplicate"),
        ([{"uscc": codes[1], "reason": "CLOSED"}], "draw-exclusion-reason"),
    ]:  # fmt: skip
        problem(await prepare(sampling, world, one), 422, rule)
    teams = await prepare(sampling, world, [{"uscc": codes[0], "reason": "UNDER_INVESTIGATION"}],
                          kind="teams", org_id=str(world["batch"].org_id))  # fmt: skip
    problem(teams, 422, "draw-exclusion-teams")
    stored = await sampling_rows("SELECT draw_code FROM draws WHERE batch_id = $1",
                                 world["batch"].batch_id)  # fmt: skip
    assert stored == []
    # Nothing was held: the same batch prepares once the exclusions are right.
    fixed = await prepare(sampling, world, [{"uscc": codes[0], "reason": "UNDER_INVESTIGATION"}])
    assert fixed.status_code == 201, fixed.text


async def test_a_batch_without_an_exclusion_policy_excludes_nobody(sampling, world):
    answer = await prepare_answer(sampling, world["without"].batch_id, world["owner"])
    assert answer.status_code == 201, answer.text
    assert answer.json()["excluded"] == 0  # the recently registered subject is drawn from too
    assert sum(s["population"] for s in answer.json()["population"]) == len(world["codes"])


async def test_an_exclusion_outside_the_policy_of_a_batch_without_one_is_refused(sampling, world):
    named = await prepare(sampling, world, [{"uscc": world["codes"][0],
                                             "reason": "UNDER_INVESTIGATION"}],
                          batch=world["without"])  # fmt: skip
    found = problem(named, 422, "draw-exclusion-reason")
    assert found["errors"][0]["field"] == "exclusions[0].reason"
