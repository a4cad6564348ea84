"""Recusals of a completed draw's team over HTTP, on real PostgreSQL and NATS: declared by the
inspector, the subject or the department, decided by someone else; an accepted one gives the
replacement DRAW_SPEC §9 prescribes, grows the served bundle's `recusals` and result's
`replacements` (which still verify), bumps the draw's ETag and records
`sampling.replacement.made.v1` once; a refused one stores nothing (R19, B.8)."""

import asyncio
import json
import uuid

import pytest
from draw_api_testkit import (
    DRAWS,
    Bureau,
    action,
    committed_fixed,
    completed,
    events_of,
    fed,
    problem,
    with_etag,
)

from shuangsui.drawspec import verify_bytes, verify_tree
from shuangsui.sampling.worker import SUBSCRIPTIONS

REPLACED = "sampling.replacement.made.v1"


@pytest.fixture
async def world(consumer_feed, batch_events, subject_events, directory_events, bearer, uscc,
                current_model, batch_code):  # fmt: skip
    """A county bureau's published batch of one item over three unclassified subjects (one is
    drawn, 1/10 of stratum B), four officers of its station, all qualified to lead; tokens of
    its admins, another bureau's, auditors in and out of Zhejiang."""
    feed = await consumer_feed("sampling", SUBSCRIPTIONS)
    bureau, other_org = Bureau.fresh("R"), uuid.uuid4()
    org, tag = bureau.org, bureau.tag
    base = uuid.uuid4().int % 10**7 * 10
    codes = [uscc(base + n) for n in range(3)]
    published = bureau.batch(batch_events, batch_code())
    await fed(feed, [
        *(subject_events.upserted(code, item_ids=[bureau.item]) for code in codes),
        *bureau.officers(directory_events, 4), published,
    ])  # fmt: skip

    def admin(of, name="a"):
        return bearer("department_admin", region="330106", org=str(of),
                      sub=f"admin-{name}-{of}-{tag}")  # fmt: skip

    async def another():
        made = bureau.batch(batch_events, batch_code())
        await fed(feed, [made])
        return made.payload

    return {
        "batch": published.payload, "codes": codes, "another": another,
        "owner": admin(org), "colleague": admin(org, "b"), "other": admin(other_org),
        "auditor": bearer("auditor", region="330000", sub=f"auditor-{tag}"),
        "guangdong": bearer("auditor", region="440000", sub=f"auditor-gd-{tag}"),
        "inspector": lambda inspector_id: bearer(
            "inspector", region="330106", org=str(org), sub=str(inspector_id)),
        "enterprise": lambda code: bearer("enterprise", region="330106", uscc=code,
                                          sub=f"ent-{code}"),
    }  # fmt: skip


def recusals_path(draw_id):
    return f"{DRAWS}/{draw_id}/recusals"


def decide_path(draw_id, recusal_id):
    return f"{recusals_path(draw_id)}/{recusal_id}:decide"


async def served(sampling, draw_id):
    bundle = await sampling.get(f"{DRAWS}/{draw_id}/bundle")
    result = await sampling.get(f"{DRAWS}/{draw_id}/result")
    assert bundle.status_code == result.status_code == 200
    return bundle, json.loads(result.content)


async def drawn(sampling, world):
    """A completed draw, its one team, and the bundle as first served."""
    draw = await completed(sampling, world)
    bundle, result = await served(sampling, draw["draw_id"])
    [team] = result["assignments"]
    inspectors = [i["inspector_id"] for i in json.loads(bundle.content)["inspectors"]]
    spare = [i for i in inspectors if i != team["lead"] and i not in team["members"]]
    return draw, team, json.loads(bundle.content), spare


async def declare(sampling, draw_id, subject, inspector, headers, reason="recusal", note=None):
    body = {"subject_id": subject, "inspector_id": inspector, "reason": reason}
    if note is not None:
        body["note"] = note
    return await sampling.post(recusals_path(draw_id), json=body, headers=headers)


async def declared(sampling, draw_id, subject, inspector, headers, **options):
    answer = await declare(sampling, draw_id, subject, inspector, headers, **options)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def decide(sampling, draw_id, recusal_id, headers, accept=True, reason="经核实，同意回避"):
    return await sampling.post(decide_path(draw_id, recusal_id),
                               json={"accept": accept, "reason": reason}, headers=headers)  # fmt: skip


async def accepted(sampling, draw_id, recusal_id, headers):
    answer = await decide(sampling, draw_id, recusal_id, headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def expected_replacements(original_bundle, recusals):
    """What the library computes for the drawn bundle with these recusals, in this order."""
    bundle = {**original_bundle, "recusals": [
        {"subject_id": s, "inspector_id": i, "reason": r} for s, i, r in recusals]}  # fmt: skip
    return verify_tree(bundle)["replacements"]


async def etag_of(sampling, draw_id):
    return (await sampling.get(f"{DRAWS}/{draw_id}")).headers["ETag"]


# ---- accepted recusals -----------------------------------------------------------------------


async def test_an_accepted_recusal_gives_the_replacement_of_section_9_and_stays_verifiable(
    sampling, world, ledger
):
    draw, team, original, spare = await drawn(sampling, world)
    draw_id, subject, member = draw["draw_id"], team["subject"], team["members"][0]
    before = await etag_of(sampling, draw_id)

    recusal = await declared(sampling, draw_id, subject, member, world["inspector"](member),
                             note="配偶在该企业任职")  # fmt: skip
    assert recusal["status"] == "declared"
    assert recusal["declared_as"] == "inspector"
    assert (await etag_of(sampling, draw_id)) == before
    decided = await accepted(sampling, draw_id, recusal["recusal_id"], world["owner"])

    [expected] = expected_replacements(original, [(subject, member, "recusal")])
    assert expected["replacement"] in spare
    assert decided["status"] == "accepted"
    assert decided["sequence"] == 1
    assert (decided["role"], decided["replacement_inspector_id"], decided["cap"]) == (
        "member", expected["replacement"], expected["cap"],
    )  # fmt: skip
    assert decided["manual_procedure"] is False
    bundle, result = await served(sampling, draw_id)
    assert json.loads(bundle.content)["recusals"] == [
        {"subject_id": subject, "inspector_id": member, "reason": "recusal"}
    ]
    assert verify_bytes(bundle.content) == result
    assert result["replacements"] == [expected]
    assert result["assignments"] == [team]
    assert (await etag_of(sampling, draw_id)) == f'"{int(before.strip(chr(34))) + 1}"'

    [event] = await events_of(ledger, REPLACED, draw_id)
    assert (event["uscc"], event["role"], event["sequence"], event["reason"]) == (
        subject, "member", 1, "recusal",
    )  # fmt: skip
    assert event["replaced_inspector_id"] == member
    assert event["replacement_inspector_id"] == expected["replacement"]
    assert (event["cap"], event["infeasible"]) == (expected["cap"], None)
    # The inspector declared (their token's sub is their id); the lead's admin approved.
    assert (event["requested_by"], event["approved_by"]) == (member, decided["decided_by"])
    assert decided["decided_by"] != recusal["declared_by"]

    # Final: deciding again is refused and records nothing more.
    problem(await decide(sampling, draw_id, recusal["recusal_id"], world["auditor"]), 409,
            "recusal-decided")  # fmt: skip
    assert len(await events_of(ledger, REPLACED, draw_id)) == 1


async def test_recusals_apply_in_approval_order_a_lead_too_until_nobody_is_left(
    sampling, world, ledger
):
    draw, team, original, _ = await drawn(sampling, world)
    draw_id, subject, lead, member = (
        draw["draw_id"],
        team["subject"],
        team["lead"],
        *team["members"],
    )
    # Declared lead first, member second; approved member first: the list is approval order.
    by_lead = await declared(sampling, draw_id, subject, lead, world["owner"], reason="unavailable")
    by_member = await declared(sampling, draw_id, subject, member,
                               world["enterprise"](subject))  # fmt: skip
    assert by_member["declared_as"] == "subject"

    first = await accepted(sampling, draw_id, by_member["recusal_id"], world["auditor"])
    second = await accepted(sampling, draw_id, by_lead["recusal_id"], world["colleague"])

    order = [(subject, member, "recusal"), (subject, lead, "unavailable")]
    expected = expected_replacements(original, order)
    assert [(first["sequence"], first["role"]), (second["sequence"], second["role"])] == [
        (1, "member"), (2, "lead"),
    ]  # fmt: skip
    assert [first["replacement_inspector_id"], second["replacement_inspector_id"]] == [
        e["replacement"] for e in expected
    ]
    bundle, result = await served(sampling, draw_id)
    assert [(r["inspector_id"], r["reason"]) for r in json.loads(bundle.content)["recusals"]] == [
        (member, "recusal"), (lead, "unavailable"),
    ]  # fmt: skip
    assert result == verify_bytes(bundle.content)
    assert result["replacements"] == expected

    # The new lead steps aside too: four officers, three recused, nobody is left (§9 step 4).
    new_lead = second["replacement_inspector_id"]
    third = await declared(sampling, draw_id, subject, new_lead, world["inspector"](new_lead),
                           reason="cert_invalid")  # fmt: skip
    vacant = await accepted(sampling, draw_id, third["recusal_id"], world["owner"])

    [*_, last] = expected_replacements(original, [*order, (subject, new_lead, "cert_invalid")])
    assert last["infeasible"] == "insufficient_candidates"
    assert (vacant["replacement_inspector_id"], vacant["infeasible"]) == (None, last["infeasible"])
    assert vacant["manual_procedure"] is True
    bundle, result = await served(sampling, draw_id)
    assert result == verify_bytes(bundle.content)
    assert result["replacements"][-1] == last
    events = await events_of(ledger, REPLACED, draw_id)
    assert [(e["sequence"], e["reason"]) for e in events] == [
        (1, "recusal"), (2, "unavailable"), (3, "cert_invalid"),
    ]  # fmt: skip
    assert (events[-1]["replacement_inspector_id"], events[-1]["infeasible"]) == (
        None, "insufficient_candidates",
    )  # fmt: skip


async def test_two_decisions_at_once_take_one_place_each(sampling, world, ledger):
    draw, team, original, _ = await drawn(sampling, world)
    draw_id, subject, lead, member = (
        draw["draw_id"],
        team["subject"],
        team["lead"],
        *team["members"],
    )
    one = await declared(sampling, draw_id, subject, member, world["owner"])
    two = await declared(sampling, draw_id, subject, lead, world["owner"])

    answers = await asyncio.gather(
        decide(sampling, draw_id, one["recusal_id"], world["auditor"]),
        decide(sampling, draw_id, two["recusal_id"], world["colleague"]),
    )

    assert [a.status_code for a in answers] == [200, 200]
    decided = sorted((a.json() for a in answers), key=lambda r: r["sequence"])
    assert [r["sequence"] for r in decided] == [1, 2]
    order = [(subject, r["inspector_id"], "recusal") for r in decided]
    bundle, result = await served(sampling, draw_id)
    assert result == verify_bytes(bundle.content)
    assert result["replacements"] == expected_replacements(original, order)
    assert len(await events_of(ledger, REPLACED, draw_id)) == 2


# ---- refusals --------------------------------------------------------------------------------


async def test_a_declaration_must_fit_the_current_team(sampling, world):
    draw, team, _, spare = await drawn(sampling, world)
    draw_id, subject, member = draw["draw_id"], team["subject"], team["members"][0]
    owner = world["owner"]
    unselected = next(c for c in world["codes"] if c != subject)

    body = problem(await declare(sampling, draw_id, unselected, member, owner), 422, "E_RECUSAL")
    assert (body["type"], body["field"]) == ("/problems/recusal-refused", "subject_id")
    body = problem(await declare(sampling, draw_id, subject, spare[0], owner), 422, "E_RECUSAL")
    assert body["field"] == "inspector_id"
    first = await declared(sampling, draw_id, subject, member, owner)
    problem(await declare(sampling, draw_id, subject, member, world["inspector"](member)), 409,
            "recusal-open")  # fmt: skip
    problem(await declare(sampling, draw_id, subject, member, owner, reason="sick"), 422)
    decided = await accepted(sampling, draw_id, first["recusal_id"], world["colleague"])

    # The member has left and the replacement is on the team: the member is refused now.
    problem(await declare(sampling, draw_id, subject, member, owner), 422, "E_RECUSAL")
    came = decided["replacement_inspector_id"]
    assert (await declare(sampling, draw_id, subject, came, owner)).status_code == 201


async def test_only_a_completed_draw_and_not_a_voided_one(sampling, world, ledger):
    committed = await committed_fixed(sampling, world, await world["another"]())
    problem(await declare(sampling, committed["draw_id"], world["codes"][0], str(uuid.uuid4()),
                          world["owner"]), 409, "recusal-draw-not-completed")  # fmt: skip

    draw, team, _, _ = await drawn(sampling, world)
    draw_id, subject, member = draw["draw_id"], team["subject"], team["members"][0]
    open_one = await declared(sampling, draw_id, subject, member, world["owner"])
    ask = {"reason": "对象名单有误，经批准重新抽取"}
    asked = await sampling.post(action(draw_id, "void"), json=ask,
                                headers=with_etag(world["owner"], 3))  # fmt: skip
    assert asked.status_code == 200, asked.text
    voided = await sampling.post(action(draw_id, "void"), json={"approve": True},
                                 headers=with_etag(world["auditor"], 4))  # fmt: skip
    assert voided.status_code == 200, voided.text

    problem(await declare(sampling, draw_id, subject, team["lead"], world["owner"]), 409,
            "recusal-draw-not-completed")  # fmt: skip
    problem(await decide(sampling, draw_id, open_one["recusal_id"], world["colleague"]), 409,
            "recusal-draw-not-completed")  # fmt: skip
    listed = await sampling.get(recusals_path(draw_id), headers=world["owner"])
    assert [r["status"] for r in listed.json()["items"]] == ["declared"]
    assert await events_of(ledger, REPLACED, draw_id) == []


async def test_who_may_declare_and_who_may_decide(sampling, world, ledger):
    draw, team, _, spare = await drawn(sampling, world)
    draw_id, subject, lead, member = (
        draw["draw_id"],
        team["subject"],
        team["lead"],
        *team["members"],
    )
    other_code = next(c for c in world["codes"] if c != subject)

    problem(await declare(sampling, draw_id, subject, member, world["inspector"](spare[0])), 403)
    problem(await declare(sampling, draw_id, subject, member, world["enterprise"](other_code)),
            403)  # fmt: skip
    problem(await declare(sampling, draw_id, subject, member, world["other"]), 403)
    problem(await declare(sampling, draw_id, subject, member, world["auditor"]), 403)
    problem(await declare(sampling, draw_id, subject, member, world["guangdong"]), 403)
    problem(await declare(sampling, draw_id, subject, member, {}), 401)
    problem(await declare(sampling, "999999999999999999-01", subject, member, world["owner"]), 404)
    recusal = await declared(sampling, draw_id, subject, member, world["owner"], note="内部说明")
    recusal_id = recusal["recusal_id"]
    before = await served(sampling, draw_id)
    etag = await etag_of(sampling, draw_id)

    body = problem(await decide(sampling, draw_id, recusal_id, world["owner"]), 403,
                   "recusal-approver")  # fmt: skip
    assert "another person" in body["detail"]
    problem(await decide(sampling, draw_id, recusal_id, world["other"]), 403)
    problem(await decide(sampling, draw_id, recusal_id, world["guangdong"]), 403)
    problem(await decide(sampling, draw_id, recusal_id, world["inspector"](lead)), 403)
    problem(await decide(sampling, draw_id, recusal_id, world["colleague"], reason="  "), 422,
            "recusal-decision-reason")  # fmt: skip
    problem(await decide(sampling, draw_id, uuid.uuid4(), world["colleague"]), 404)
    other_draw = await completed(sampling, world, await world["another"]())
    problem(await decide(sampling, other_draw["draw_id"], recusal_id, world["colleague"]), 404)

    # Nothing of a refused decision is stored: the recusal open, the draw and its documents
    # as they were, no event.
    listed = await sampling.get(recusals_path(draw_id), headers=world["auditor"])
    [still] = listed.json()["items"]
    assert (still["status"], still["decided_by"], still["sequence"]) == ("declared", None, None)
    assert (await etag_of(sampling, draw_id)) == etag
    after = await served(sampling, draw_id)
    assert after[0].content == before[0].content
    assert after[1] == before[1]
    assert await events_of(ledger, REPLACED, draw_id) == []

    rejected = await decide(sampling, draw_id, recusal_id, world["auditor"], accept=False,
                            reason="理由不成立")  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["replacement_inspector_id"]) == (
        "rejected", None,
    )  # fmt: skip
    assert (await etag_of(sampling, draw_id)) == etag
    assert (await served(sampling, draw_id))[1] == before[1]
    assert await events_of(ledger, REPLACED, draw_id) == []
    problem(await decide(sampling, draw_id, recusal_id, world["colleague"]), 409,
            "recusal-decided")  # fmt: skip
    # A rejected declaration is closed: the same one may be declared again.
    await declared(sampling, draw_id, subject, member, world["inspector"](member))


async def test_the_public_sees_accepted_recusals_only_by_opaque_id(sampling, world):
    draw, team, _, _ = await drawn(sampling, world)
    draw_id, subject, lead, member = (
        draw["draw_id"],
        team["subject"],
        team["lead"],
        *team["members"],
    )
    one = await declared(sampling, draw_id, subject, member, world["owner"], note="配偶任职")
    two = await declared(sampling, draw_id, subject, lead, world["inspector"](lead), note="亲属")
    await accepted(sampling, draw_id, one["recusal_id"], world["colleague"])
    await decide(sampling, draw_id, two["recusal_id"], world["colleague"], accept=False,
                 reason="不构成回避情形")  # fmt: skip
    three = await declared(sampling, draw_id, subject, lead, world["owner"], reason="unavailable")

    public = (await sampling.get(recusals_path(draw_id))).json()["items"]
    full = (await sampling.get(recusals_path(draw_id), headers=world["auditor"])).json()["items"]
    by_inspector = (await sampling.get(recusals_path(draw_id),
                                       headers=world["inspector"](lead))).json()["items"]  # fmt: skip

    assert [r["recusal_id"] for r in public] == [one["recusal_id"]]
    assert by_inspector == public
    [shown] = public
    assert (shown["inspector_id"], shown["status"], shown["sequence"]) == (member, "accepted", 1)
    assert all(shown[k] is None for k in ("note", "declared_by", "declared_as", "decided_by",
                                          "decision_reason"))  # fmt: skip
    assert [(r["recusal_id"], r["status"]) for r in full] == [
        (one["recusal_id"], "accepted"), (two["recusal_id"], "rejected"),
        (three["recusal_id"], "declared"),
    ]  # fmt: skip
    assert (full[0]["note"], full[0]["declared_as"]) == ("配偶任职", "department")
    assert full[1]["decision_reason"] == "不构成回避情形"
    problem(await sampling.get(recusals_path(draw_id), headers=world["guangdong"]), 403)
    problem(await sampling.get(recusals_path("999999999999999999-01")), 404)


async def test_the_recusal_operations_are_documented(sampling):
    document = (await sampling.get("/openapi.json")).json()
    operations = {
        op["operationId"]: op for path in document["paths"].values() for op in path.values()
    }
    for name in ("sampling_recusals_declare", "sampling_recusals_decide", "sampling_recusals_list"):
        assert operations[name]["summary"]
        assert "200" in operations[name]["responses"] or "201" in operations[name]["responses"]
