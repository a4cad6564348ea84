"""End to end through the gateway: a county bureau's published batch drawn (随机抽取) by its own
department with a commit-reveal beacon shared with its superior, public from the commitment on,
verified offline by a citizen, and marked drawn by planning; and the refusals on the way.

Journey: 余杭区 bureau plans next year with one batch, the city bureau files it, it publishes.
Sampling learns of the batch from `planning.batch.published.v1`; the bureau prepares the draw
from sampling's read models, commits it with both bureaus' commitments (§5.2), and each secret
is handed in; the last one computes and completes it. The bundle and result verify with
`shuangsui draw verify` from a fresh shell; a swapped result does not.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from journey_kit import (
    SAMPLING,
    add_batch,
    announced,
    batch_of,
    bearer,
    create_plan,
    draft_batch,
    step,
    wait_for,
)

from shuangsui.drawspec import new_party_secret
from shuangsui.drawspec.jsontext import canonical_json

LEAD, SUPERIOR = "330110-AMR", "330100-AMR"
OTHER_COUNTY = "330109-AMR"


@pytest.fixture(scope="module")
def published_batch(gateway, acting, items) -> dict[str, Any]:
    """The 余杭区 bureau's batch, published and known to sampling."""
    planner = acting("department_admin", LEAD)
    plan = create_plan(gateway, planner, "余杭区市场监管局年度双随机抽查工作计划 · e2e 抽取")
    batch = add_batch(gateway, planner, plan, draft_batch(items, "DEMO-07", "330110"))
    plan = step(gateway, planner, plan, "submit")
    plan = step(gateway, acting("department_admin", SUPERIOR), plan, "file")
    step(gateway, planner, plan, "publish")
    shown: dict[str, Any] = batch_of(gateway, planner, batch["batch_id"]).json()

    def known_to_sampling() -> dict[str, Any] | None:
        answer = gateway.get(f"{SAMPLING}/batches", params={"limit": 100}, headers=planner)
        assert answer.status_code == 200, answer.text
        found = [b for b in answer.json()["items"] if b["batch_id"] == batch["batch_id"]]
        return found[0] if found else None

    wait_for(known_to_sampling, timeout=60)
    return shown


def prepare(gateway, headers, batch_id: str) -> Any:
    return gateway.post(f"{SAMPLING}/batches/{batch_id}/draws", headers=headers)


def act(gateway, headers, draw: dict[str, Any], action: str, body: dict[str, Any] | None):
    """A step of the draw under its current ETag."""
    current = gateway.get(f"{SAMPLING}/draws/{draw['draw_id']}", headers=headers)
    assert current.status_code == 200, current.text
    return gateway.post(
        f"{SAMPLING}/draws/{draw['draw_id']}:{action}", json=body,
        headers={**headers, "If-Match": current.headers["etag"]},
    )  # fmt: skip


def prepared_when_current(gateway, headers, batch_id: str) -> dict[str, Any]:
    """Sampling prepares a draw only from a current read model (503 while it catches up)."""

    def attempt() -> dict[str, Any] | None:
        answer = prepare(gateway, headers, batch_id)
        if answer.status_code == 503:
            return None
        assert answer.status_code == 201, answer.text
        draw: dict[str, Any] = answer.json()
        return draw

    return wait_for(attempt, timeout=60)


def test_a_county_draws_its_batch_and_a_citizen_verifies_it(
    platform, gateway, acting, published_batch, tmp_path, verify_offline
):
    lead = acting("department_admin", LEAD)
    batch_id = published_batch["batch_id"]

    draw = prepared_when_current(gateway, lead, batch_id)
    assert draw["status"] == "prepared"
    assert draw["draw_id"] == f"{published_batch['batch_code']}-01", "B.6: the batch's code + 01"
    assert sum(s["population"] for s in draw["population"]) > 0, "the county's subjects"
    hidden = gateway.get(f"{SAMPLING}/draws/{draw['draw_id']}")
    assert hidden.status_code == 404, "a prepared draw is not public yet"

    fixed = act(gateway, lead, draw, "commit", {"beacon": {"source": "fixed", "value": "ab" * 32}})
    assert fixed.status_code == 422, fixed.text
    assert fixed.json()["rule"] == "draw-beacon-fixed", "no fixed beacon outside test mode"

    parties = [new_party_secret(LEAD), new_party_secret(SUPERIOR)]
    commitments = [{"party_id": s.party_id, "commitment": s.commitment} for s in parties]
    committed = act(gateway, lead, draw, "commit",
                    {"beacon": {"source": "commit-reveal", "commitments": commitments}})  # fmt: skip
    assert committed.status_code == 200, committed.text
    assert committed.json()["status"] == "committed"

    document = gateway.get(f"{SAMPLING}/draws/{draw['draw_id']}/commitment")
    assert document.status_code == 200, "public from the moment of commit"
    digest = hashlib.sha256(canonical_json(document.json())).hexdigest()
    assert digest == committed.json()["commitment_sha256"]
    assert gateway.get(f"{SAMPLING}/draws/{draw['draw_id']}/bundle").status_code == 404

    first, second = parties
    wrong = act(gateway, lead, draw, "reveal",
                {"party_id": first.party_id, "secret": second.secret})  # fmt: skip
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["rule"] == "E_BEACON", "a secret must open its own party's commitment"
    # Each department hands in its own secret (R20): the lead may not reveal its superior's.
    refused = act(gateway, lead, draw, "reveal",
                  {"party_id": second.party_id, "secret": second.secret})  # fmt: skip
    assert refused.status_code == 403, refused.text
    revealers = {LEAD: lead, SUPERIOR: acting("department_admin", SUPERIOR)}
    for party in parties:
        answer = act(gateway, revealers[party.party_id], draw, "reveal",
                     {"party_id": party.party_id, "secret": party.secret})  # fmt: skip
        assert answer.status_code == 200, answer.text
    completed = answer.json()
    assert completed["status"] == "completed"

    for name in ("bundle", "result"):
        served = gateway.get(f"{SAMPLING}/draws/{draw['draw_id']}/{name}")
        assert served.status_code == 200, served.text
        (tmp_path / f"{name}.json").write_bytes(served.content)
    passed = verify_offline(tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert json.loads(passed.stdout)["match"] is True
    result = json.loads((tmp_path / "result.json").read_text())
    selected = [s for s in result["strata"] if s["selected"]]
    assert selected, "the draw selected subjects"
    selected[0]["selected"] = selected[0]["selected"][1:]
    (tmp_path / "result.json").write_text(json.dumps(result))
    assert verify_offline(tmp_path).returncode != 0, "a result with a subject dropped fails"

    event = announced(platform.settings.nats_port, "sampling.draw.completed.v1", batch_id)
    assert event["data"]["draw_code"] == draw["draw_id"]

    def drawn_in_planning() -> str | None:
        status = batch_of(gateway, lead, batch_id).json()["status"]
        return status if status == "drawn" else None

    assert wait_for(drawn_in_planning, timeout=60) == "drawn", "planning follows the draw"
    again = prepare(gateway, lead, batch_id)
    assert again.status_code == 409, again.text
    assert again.json()["rule"] == "draw-already-completed", "a completed draw is never re-run"


@pytest.mark.parametrize("who", ["another county's admin", "the city bureau", "another province"])
def test_only_the_batch_s_own_department_prepares_its_draw(
    platform, gateway, acting, published_batch, who
):
    headers = {
        "another county's admin": lambda: acting("department_admin", OTHER_COUNTY),
        "the city bureau": lambda: acting("department_admin", SUPERIOR),
        "another province": lambda: bearer(
            platform.token(roles=["department_admin"], region="440000", sub="e2e-gd")
        ),
    }[who]()

    answer = prepare(gateway, headers, published_batch["batch_id"])

    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
