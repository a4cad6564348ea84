"""The demo's draw step: `make run` leaves the demo plan's drawable batches with completed,
public draws that anyone verifies offline with `shuangsui draw verify`; drawing again changes
nothing.

Against the platform `shuangsui dev up` started for the session, which drew them as it loaded
the demo province (after the plan step, tests/test_demo_planning.py).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from shuangsui.devstack.demo import DemoProvince
from shuangsui.devstack.demo_draws import COUNTY_POOLS, make_demo_draws
from shuangsui.devstack.demo_planning import make_demo_plan
from shuangsui.drawspec import new_party_secret

DEMO = DemoProvince()
CITY, _ = DEMO.planning_city or ("", "")
SECRETS = "demo-draw-secrets.json"  # where `dev up` keeps the parties' secrets (cli/dev.py)


@pytest.fixture(scope="module")
def public(platform):
    """The gateway without a token: a draw's documents are public evidence (R14)."""
    with httpx.Client(base_url=platform.gateway, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def demo_batches(platform, public) -> list[dict[str, Any]]:
    admin = {
        "Authorization": "Bearer "
        + platform.token(roles=["provincial_admin"], region="330000", sub="test-demo-draws")
    }
    answer = public.get(
        "/api/v1/sampling/batches",
        params={"region_code": CITY, "limit": 100, "status": ["published", "drawing", "drawn"]},
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    # Other tests of the session plan in the city's counties: keep the city bureau's own.
    batches: list[dict[str, Any]] = [
        b for b in answer.json()["items"] if b["published"]["org_region_code"] == CITY
    ]
    assert len(batches) >= 4, "sampling holds the demo plan's batches"
    return batches


def completed_draws(public) -> list[dict[str, Any]]:
    answer = public.get("/api/v1/sampling/draws", params={"status": "completed", "limit": 100})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_the_joint_batch_draws_its_subjects_once_then_each_department_its_teams(
    public, demo_batches
):
    draws = completed_draws(public)
    [joint] = [b for b in demo_batches if b["published"]["joint_kind"] == "cross_department"]
    subjects, *teams = sorted(
        (d for d in draws if d["batch_id"] == joint["batch_id"]), key=lambda d: d["draw_id"]
    )
    assert subjects["draw_id"] == f"{joint['batch_code']}-01"
    assert subjects["kind"] == "subjects", "a joint batch draws its subjects once (B.11)"
    assert subjects["beacon_source"] == "commit-reveal"
    assert len(subjects["parties"]) == 2, "two departments hold the randomness (§5.2)"
    assert sum(s["population"] for s in subjects["population"]) > 0, "from the demo subjects"
    assert subjects["result_sha256"] is not None
    departments = [joint["published"]["org_id"],
                   *(p["org_id"] for p in joint["published"]["participants"])]  # fmt: skip
    assert [(t["kind"], t["org_id"]) for t in teams] == [("teams", org) for org in departments]
    assert {t["subjects_draw_id"] for t in teams} == {subjects["draw_id"]}
    assert {b["status"] for b in demo_batches if b["batch_id"] == joint["batch_id"]} == {"drawn"}


def test_every_demo_batch_sampling_can_draw_is_drawn(platform, public, demo_batches):
    """The city bureau's own batches too, one draw per county (B.10): the demo city has officers
    in every county. A batch left undrawn is one sampling refuses to prepare now (a small demo
    may leave a directed batch's strata empty); nothing is stored by asking again."""
    drawn = {d["batch_id"] for d in completed_draws(public)}
    assert len(drawn & {b["batch_id"] for b in demo_batches}) >= 3
    for batch in (b for b in demo_batches if b["batch_id"] not in drawn):
        lead = {"Authorization": "Bearer " + platform.token(
            roles=["department_admin"], region=CITY, org=batch["published"]["org_id"],
            sub="test-demo-draws-lead",
        )}  # fmt: skip
        again = public.post(f"/api/v1/sampling/batches/{batch['batch_id']}/draws", headers=lead)
        assert again.status_code == 422, again.text
        assert again.json()["rule"] in COUNTY_POOLS, again.text


def fetch(public, draw_id: str, document: str) -> bytes:
    answer = public.get(f"/api/v1/sampling/draws/{draw_id}/{document}")
    assert answer.status_code == 200, answer.text
    return answer.content


def test_a_demo_draw_s_public_bundle_and_result_verify_offline(public, tmp_path, verify_offline):
    [draw, *_] = completed_draws(public)
    (tmp_path / "bundle.json").write_bytes(fetch(public, draw["draw_id"], "bundle"))
    (tmp_path / "result.json").write_bytes(fetch(public, draw["draw_id"], "result"))

    passed = verify_offline(tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert json.loads(passed.stdout)["match"] is True

    result = json.loads((tmp_path / "result.json").read_text())
    [stratum, *_] = [s for s in result["strata"] if s["selected"]]
    stratum["selected"] = [*stratum["selected"][1:], "91330000MA0000000X"]  # one swapped
    (tmp_path / "result.json").write_text(json.dumps(result))

    tampered = verify_offline(tmp_path)
    assert tampered.returncode != 0
    assert json.loads(tampered.stdout)["match"] is False, tampered.stdout + tampered.stderr


def test_drawing_the_demo_again_changes_nothing(platform, public):
    plan = make_demo_plan(platform.gateway, platform.issuer, DEMO)
    assert plan is not None

    def demo_draws() -> list[tuple[str, str]]:
        return [(d["draw_id"], d["result_sha256"]) for d in completed_draws(public)
                if d["batch_code"] in plan.batch_codes]  # fmt: skip

    before = demo_draws()

    again = make_demo_draws(
        platform.gateway, platform.issuer, DEMO, plan, new_party_secret,
        platform.settings.data_dir.resolve() / SECRETS,
    )  # fmt: skip

    assert again is not None
    assert not again.created
    assert "(already there)" in again.summary()
    assert again.draw_codes == tuple(sorted(code for code, _ in before))
    assert demo_draws() == before, "no draw added or recomputed"
