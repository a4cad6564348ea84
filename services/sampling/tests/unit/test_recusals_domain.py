"""A recusal is declared only for an inspector on a subject's current team of a completed draw,
decided once by another person, and an accepted one grows the bundle's `recusals` and the
result's `replacements` exactly as the verifier computes them (R19, DRAW_SPEC §9, B.8)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from draw_testkit import vector

from shuangsui.drawspec import verify_tree
from shuangsui.sampling.domain.draws import Draw, DrawKind, DrawRuleError, DrawStatus
from shuangsui.sampling.domain.recusals import (
    Cause,
    DeclaredAs,
    Recusal,
    RecusalStatus,
    apply_to,
    check_declarable,
    current_team,
    declare,
)

AT = datetime(2026, 3, 22, 3, 0, tzinfo=UTC)
TV3 = vector("TV3-teams")


def completed_draw(**changes: Any) -> Draw:
    """TV3's draw (teams of two, same-unit) completed without its recusal."""
    bundle = {k: v for k, v in TV3["bundle"].items() if k != "recusals"}
    draw = Draw(
        draw_id=uuid.uuid4(), draw_code=f"{'3' * 18}-01", batch_id=uuid.uuid4(),
        kind=DrawKind.combined, status=DrawStatus.completed, org_id=uuid.uuid4(),
        department_type="market_supervision", bundle=bundle, result=verify_tree(bundle),
    )  # fmt: skip
    return replace(draw, **changes)


def team_of(draw: Draw, subject: str) -> tuple[str, list[str]]:
    assert draw.result is not None
    [record] = [a for a in draw.result["assignments"] if a["subject"] == subject]  # type: ignore[index, union-attr]
    return record["lead"], list(record["members"])  # type: ignore[index, call-overload]


def declared(draw: Draw, subject: str, inspector: str, by: str = "u-decl") -> Recusal:
    return declare(uuid.uuid4(), draw, subject, inspector, Cause.recusal, " 配偶任职 ", by,
                   DeclaredAs.inspector, AT)  # fmt: skip


def accepted(draw: Draw, recusal: Recusal) -> tuple[Draw, Recusal]:
    return apply_to(draw, recusal.decide(True, "同意", "u-approver", AT))


SUBJECT = "91110105MA0A0005"  # TV3's recusal: its lead I-07 leaves


def test_an_accepted_recusal_gives_the_replacement_the_verifier_computes() -> None:
    draw = completed_draw()
    lead, _ = team_of(draw, SUBJECT)

    after, recusal = accepted(draw, declared(draw, SUBJECT, lead))

    assert after.bundle is not None
    assert after.result is not None
    assert after.bundle["recusals"] == [
        {"subject_id": SUBJECT, "inspector_id": lead, "reason": "recusal"}
    ]
    # The same recusal as TV3's (its reason is free text): the vector's expected replacement.
    assert after.result["replacements"] == TV3["expected"]["replacements"]
    assert after.result == verify_tree(after.bundle)
    assert draw.result is not None
    assert after.result["assignments"] == draw.result["assignments"]
    assert recusal.sequence == 1
    assert recusal.replacement == TV3["expected"]["replacements"][0]
    assert recusal.status is RecusalStatus.accepted
    assert recusal.note == "配偶任职"
    assert not recusal.vacant
    team = current_team(after.result, SUBJECT)
    assert team is not None
    assert team.lead == TV3["expected"]["replacements"][0]["replacement"]
    assert not team.holds(lead)


def test_recusals_apply_in_approval_order_against_the_current_team() -> None:
    draw = completed_draw()
    lead, [member] = team_of(draw, SUBJECT)
    first = declared(draw, SUBJECT, member)
    second = declared(draw, SUBJECT, lead)

    draw, one = accepted(draw, first)
    draw, two = accepted(draw, second)

    assert draw.bundle is not None
    assert draw.result is not None
    assert [r["inspector_id"] for r in draw.bundle["recusals"]] == [member, lead]  # type: ignore[index, union-attr]
    assert (one.sequence, two.sequence) == (1, 2)
    assert draw.result["replacements"] == [one.replacement, two.replacement]
    assert draw.result == verify_tree(draw.bundle)
    # Whoever replaced the member is on the team now and can step aside in turn.
    assert one.replacement is not None
    came = str(one.replacement["replacement"])
    check_declarable(draw, SUBJECT, came)
    with pytest.raises(DrawRuleError) as refused:
        check_declarable(draw, SUBJECT, member)
    assert (refused.value.rule, refused.value.field) == ("E_RECUSAL", "inspector_id")


def test_a_place_nobody_can_take_stays_vacant_for_the_manual_procedure() -> None:
    draw = completed_draw()
    while True:
        team = current_team(draw.result or {}, SUBJECT)
        assert team is not None
        if not team.members:
            break
        draw, recusal = accepted(draw, declared(draw, SUBJECT, team.members[0]))
        if recusal.vacant:
            break

    assert recusal.replacement is not None
    assert recusal.replacement["replacement"] is None
    assert recusal.replacement["infeasible"] == "insufficient_candidates"
    assert draw.result is not None
    assert draw.bundle is not None
    assert draw.result == verify_tree(draw.bundle)


def test_only_an_inspector_on_a_selected_subjects_team_of_a_completed_draw() -> None:
    draw = completed_draw()
    lead, _ = team_of(draw, SUBJECT)

    def refusal(of: Draw, subject: str, inspector: str) -> tuple[str, str | None]:
        with pytest.raises(DrawRuleError) as refused:
            declared(of, subject, inspector)
        return refused.value.rule, refused.value.field

    assert refusal(draw, "91110105MA0NOTSEL", lead) == ("E_RECUSAL", "subject_id")
    assert refusal(draw, SUBJECT, "I-99") == ("E_RECUSAL", "inspector_id")
    for status in (DrawStatus.voided, DrawStatus.committed):
        assert refusal(replace(draw, status=status), SUBJECT, lead)[0] == (
            "recusal-draw-not-completed"
        )
    assert refusal(replace(draw, kind=DrawKind.subjects), SUBJECT, lead) == (
        "E_RECUSAL", "subject_id",
    )  # fmt: skip
    assert draw.result is not None
    infeasible = {**draw.result, "assignments": [
        {"subject": SUBJECT, "lead": None, "members": [], "infeasible": "no_qualified_lead"}]}  # fmt: skip
    assert refusal(replace(draw, result=infeasible), SUBJECT, lead) == ("E_RECUSAL", "subject_id")


def test_a_decision_is_made_once_with_a_reason_by_someone_else() -> None:
    draw = completed_draw()
    lead, _ = team_of(draw, SUBJECT)
    recusal = declared(draw, SUBJECT, lead, by="u-decl")

    def rule(accept: bool, reason: str | None, by: str, of: Recusal = recusal) -> str:
        with pytest.raises(DrawRuleError) as refused:
            of.decide(accept, reason, by, AT)
        return refused.value.rule

    assert rule(True, "同意", "u-decl") == "recusal-approver"
    assert rule(True, "   ", "u-approver") == "recusal-decision-reason"
    assert rule(False, "x" * 2001, "u-approver") == "recusal-decision-reason"
    rejected = recusal.decide(False, " 理由不成立 ", "u-approver", AT)
    assert rejected.status is RecusalStatus.rejected
    assert (rejected.decided_by, rejected.decision_reason) == ("u-approver", "理由不成立")
    assert rule(True, "同意", "u-other", rejected) == "recusal-decided"
    with pytest.raises(DrawRuleError) as refused:
        declare(uuid.uuid4(), draw, SUBJECT, lead, Cause.unavailable, "x" * 2001, "u",
                DeclaredAs.department, AT)  # fmt: skip
    assert refused.value.rule == "recusal-note"


def test_the_verifier_refuses_a_recusal_whose_inspector_left_meanwhile() -> None:
    draw = completed_draw()
    lead, _ = team_of(draw, SUBJECT)
    twice = [declared(draw, SUBJECT, lead) for _ in range(2)]

    draw, _ = accepted(draw, twice[0])

    with pytest.raises(DrawRuleError) as refused:
        accepted(draw, twice[1])
    assert refused.value.rule == "E_RECUSAL"
