"""A draw moves only along prepared → committed → revealed → computed → completed; failed and
voided are ends; a completed draw is never re-run and a new draw of the batch gets a new code
(DOMAIN §5.2, R14, DRAW_SPEC §5.2, §14, B.6)."""

from __future__ import annotations

import itertools
import uuid

import pytest
from draw_testkit import vector

from shuangsui.drawspec import DrawInputs
from shuangsui.sampling.domain.draws import (
    TRANSITIONS,
    Draw,
    DrawAction,
    DrawCode,
    DrawKind,
    DrawRuleError,
    DrawStatus,
    DrawSummary,
    FailReason,
    Failure,
    IllegalDrawTransition,
    allowed_actions,
    batch_drawn,
    draw_code,
    live_subject_draw,
    next_draw_code,
    next_status,
    parse_draw_code,
)

S, A = DrawStatus, DrawAction
LEGAL = {
    (S.prepared, A.commit): S.committed,
    (S.committed, A.reveal): S.revealed,
    (S.revealed, A.compute): S.computed,
    (S.computed, A.complete): S.completed,
    (S.prepared, A.fail): S.failed,
    (S.committed, A.fail): S.failed,
    (S.revealed, A.fail): S.failed,
    (S.completed, A.void): S.voided,
}
BATCH = "330106202603150001"
TV1 = vector("TV1-basic-strata")
TV4 = vector("TV4-commit-reveal-chinese")


def test_the_transition_table_is_exactly_the_lifecycle() -> None:
    assert dict(TRANSITIONS) == LEGAL
    for (status, action), after in LEGAL.items():
        assert next_status(status, action) is after


@pytest.mark.parametrize(
    ("status", "action"),
    [pair for pair in itertools.product(S, A) if pair not in LEGAL],
)
def test_every_other_transition_is_refused(status: DrawStatus, action: DrawAction) -> None:
    with pytest.raises(IllegalDrawTransition) as refused:
        next_status(status, action)
    assert refused.value.rule in ("draw-transition", "draw-completed-final")


def test_failed_and_voided_are_final_and_a_completed_draw_is_never_rerun() -> None:
    assert allowed_actions(S.failed) == allowed_actions(S.voided) == frozenset()
    assert allowed_actions(S.completed) == {A.void}
    with pytest.raises(IllegalDrawTransition) as refused:
        next_status(S.completed, A.compute)
    assert refused.value.rule == "draw-completed-final"
    assert "it can void" in refused.value.reason


# ---- one draw, step by step ------------------------------------------------------------------


def prepared(bundle: dict, kind: DrawKind = DrawKind.subjects) -> Draw:
    code = bundle["commitment"]["draw_id"]
    return Draw(uuid.uuid4(), code, uuid.uuid4(), kind)


def inputs(bundle: dict) -> DrawInputs:
    return DrawInputs.from_json(
        bundle["manifest"], bundle["exclusions"], bundle["inspectors"], bundle["conflicts"]
    )


def test_a_draw_goes_through_every_step_and_its_result_is_the_verifiers() -> None:
    bundle = TV1["bundle"]
    draw = prepared(bundle)
    assert draw.status is S.prepared
    assert draw.commitment is None
    draw = draw.commit(bundle["commitment"], test_mode=True)
    assert draw.status is S.committed
    assert draw.commitment_sha256 == TV1["expected"]["commitment_sha256"]
    assert draw.beacon_source == "fixed"
    draw = draw.reveal(bundle["beacon_value"]).compute(inputs(bundle))
    assert (draw.status, draw.result) == (S.computed, TV1["expected"])
    assert draw.complete().status is S.completed


def test_nothing_reveals_into_an_uncommitted_draw_or_computes_before_the_randomness() -> None:
    bundle = TV1["bundle"]
    with pytest.raises(IllegalDrawTransition):
        prepared(bundle).reveal(bundle["beacon_value"])
    with pytest.raises(IllegalDrawTransition):
        prepared(bundle).commit(bundle["commitment"], test_mode=True).compute(inputs(bundle))
    with pytest.raises(IllegalDrawTransition):
        prepared(bundle).commit(bundle["commitment"], test_mode=True).complete()


def test_a_commitment_for_another_code_or_malformed_is_refused() -> None:
    bundle = TV1["bundle"]
    other = Draw(uuid.uuid4(), f"{BATCH}-01", uuid.uuid4(), DrawKind.subjects)
    with pytest.raises(DrawRuleError) as refused:
        other.commit(bundle["commitment"], test_mode=True)
    assert refused.value.rule == "draw-code-mismatch"
    broken = {**bundle["commitment"], "spec": "IDS-2"}
    with pytest.raises(DrawRuleError) as refused:
        prepared(bundle).commit(broken, test_mode=True)
    assert refused.value.rule == "E_SCHEMA"


def test_a_malformed_beacon_value_is_refused_and_a_wrong_one_fails_at_compute() -> None:
    bundle = TV1["bundle"]
    committed = prepared(bundle).commit(bundle["commitment"], test_mode=True)
    with pytest.raises(DrawRuleError) as refused:
        committed.reveal("ABCD")
    assert refused.value.rule == "E_SCHEMA"
    wrong = committed.reveal("0" * 64)
    with pytest.raises(DrawRuleError) as refused:
        wrong.compute(inputs(bundle))
    assert refused.value.rule == "E_BEACON"
    failed = wrong.fail(Failure(FailReason.verification_rejected, detail="E_BEACON"))
    assert failed.status is S.failed


def test_inputs_changed_after_the_commitment_are_refused_by_the_verifier() -> None:
    bundle = TV1["bundle"]
    changed = {**bundle, "manifest": bundle["manifest"][1:]}
    revealed = (
        prepared(bundle).commit(bundle["commitment"], test_mode=True).reveal(bundle["beacon_value"])
    )
    with pytest.raises(DrawRuleError) as refused:
        revealed.compute(inputs(changed))
    assert refused.value.rule == "E_HASH_MISMATCH"


def test_a_commit_reveal_draw_with_a_missing_reveal_fails_naming_the_party() -> None:
    committed = prepared(TV4["bundle"], DrawKind.combined).commit(
        TV4["bundle"]["commitment"], test_mode=True
    )
    failed = committed.fail(Failure(FailReason.missing_reveal, ("税务局",)))
    assert (failed.status, failed.failure.missing_parties) == (S.failed, ("税务局",))
    with pytest.raises(DrawRuleError) as refused:
        committed.fail(Failure(FailReason.missing_reveal))
    assert refused.value.rule == "draw-fail-reason"
    with pytest.raises(DrawRuleError) as refused:
        committed.fail(Failure(FailReason.beacon_unavailable))  # not a drand draw
    assert refused.value.rule == "draw-fail-reason"


def test_failure_reasons_fit_the_status() -> None:
    bundle = TV1["bundle"]
    draw = prepared(bundle)
    assert draw.fail(Failure(FailReason.batch_cancelled)).status is S.failed
    with pytest.raises(DrawRuleError) as refused:
        draw.fail(Failure(FailReason.verification_rejected))
    assert refused.value.rule == "draw-fail-reason"
    computed = draw.commit(bundle["commitment"], test_mode=True).reveal(bundle["beacon_value"])
    computed = computed.compute(inputs(bundle))
    with pytest.raises(IllegalDrawTransition):
        computed.fail(Failure(FailReason.batch_cancelled))


def completed() -> Draw:
    bundle = TV1["bundle"]
    draw = (
        prepared(bundle).commit(bundle["commitment"], test_mode=True).reveal(bundle["beacon_value"])
    )
    return draw.compute(inputs(bundle)).complete()


def test_a_completed_draw_is_voided_with_a_reason_and_a_second_approver() -> None:
    voided = completed().void("  名单遗漏  ", "u-1", "u-2")
    assert voided.status is S.voided
    assert (voided.voided.reason, voided.voided.approved_by) == ("名单遗漏", "u-2")


@pytest.mark.parametrize(
    ("reason", "approver", "rule"),
    [
        ("", "u-2", "draw-void-reason"),
        ("   ", "u-2", "draw-void-reason"),
        ("x" * 2001, "u-2", "draw-void-reason"),
        ("名单遗漏", None, "draw-void-approver"),
        ("名单遗漏", "u-1", "draw-void-approver"),
    ],
)
def test_a_void_without_reason_or_second_approver_is_refused(
    reason: str, approver: str | None, rule: str
) -> None:
    with pytest.raises(DrawRuleError) as refused:
        completed().void(reason, "u-1", approver)
    assert refused.value.rule == rule


def test_only_a_completed_draw_is_voided() -> None:
    with pytest.raises(IllegalDrawTransition):
        prepared(TV1["bundle"]).void("reason", "u-1", "u-2")


# ---- the public code and the batch's next draw -----------------------------------------------


def test_a_draw_code_is_the_batch_code_and_a_sequence() -> None:
    assert draw_code(BATCH, 1) == f"{BATCH}-01"
    assert parse_draw_code(f"{BATCH}-12") == DrawCode(BATCH, 12)
    for bad in (f"{BATCH}-00", f"{BATCH}-1", f"{BATCH}01", "33010620260315000-01"):
        with pytest.raises(DrawRuleError):
            parse_draw_code(bad)
    with pytest.raises(DrawRuleError) as refused:
        draw_code(BATCH, 100)
    assert refused.value.rule == "draw-code-exhausted"


def summary(n: int, kind: DrawKind, status: DrawStatus, **more: object) -> DrawSummary:
    return DrawSummary(f"{BATCH}-{n:02d}", kind, status, **more)  # type: ignore[arg-type]


def test_a_new_draw_after_a_failed_or_voided_one_gets_the_next_code() -> None:
    assert next_draw_code(BATCH, DrawKind.combined, []) == f"{BATCH}-01"
    earlier = [summary(1, DrawKind.combined, S.failed), summary(2, DrawKind.combined, S.voided)]
    assert next_draw_code(BATCH, DrawKind.combined, earlier) == f"{BATCH}-03"


@pytest.mark.parametrize(
    ("status", "rule"),
    [
        (S.prepared, "draw-in-progress"),
        (S.committed, "draw-in-progress"),
        (S.revealed, "draw-in-progress"),
        (S.computed, "draw-in-progress"),
        (S.completed, "draw-already-completed"),
    ],
)
def test_a_batch_with_a_live_or_completed_draw_cannot_start_another(
    status: DrawStatus, rule: str
) -> None:
    with pytest.raises(DrawRuleError) as refused:
        next_draw_code(BATCH, DrawKind.combined, [summary(1, DrawKind.combined, status)])
    assert refused.value.rule == rule


def test_team_draws_follow_a_completed_subject_draw_one_per_department() -> None:
    lead, partner = uuid.uuid4(), uuid.uuid4()
    over = f"{BATCH}-01"
    with pytest.raises(DrawRuleError) as refused:
        next_draw_code(BATCH, DrawKind.teams, [summary(1, DrawKind.subjects, S.committed)],
                       org_id=lead, subjects_draw_code=over)  # fmt: skip
    assert refused.value.rule == "draw-subjects-not-completed"
    earlier = [
        summary(1, DrawKind.subjects, S.completed),
        summary(2, DrawKind.teams, S.completed, org_id=lead, subjects_draw_code=over),
        summary(3, DrawKind.teams, S.failed, org_id=partner, subjects_draw_code=over),
    ]
    assert next_draw_code(BATCH, DrawKind.teams, earlier, org_id=partner,
                          subjects_draw_code=over) == f"{BATCH}-04"  # fmt: skip
    with pytest.raises(DrawRuleError) as refused:
        next_draw_code(BATCH, DrawKind.teams, earlier, org_id=lead, subjects_draw_code=over)
    assert refused.value.rule == "draw-already-completed"
    with pytest.raises(DrawRuleError) as refused:
        next_draw_code(BATCH, DrawKind.subjects, earlier)
    assert refused.value.rule == "draw-already-completed"

    assert not batch_drawn(True, [lead, partner], earlier)
    done = [*earlier, summary(4, DrawKind.teams, S.completed, org_id=partner,
                              subjects_draw_code=over)]  # fmt: skip
    assert batch_drawn(True, [lead, partner], done)
    assert not batch_drawn(False, [lead], done)
    assert batch_drawn(False, [lead], [summary(1, DrawKind.combined, S.completed)])
    assert not batch_drawn(False, [lead], [summary(1, DrawKind.combined, S.voided)])


def test_each_county_of_a_batch_is_a_decision_of_its_own() -> None:
    def county(n: int, code: str, status: DrawStatus) -> DrawSummary:
        return summary(n, DrawKind.combined, status, county_code=code)

    earlier = [county(1, "330102", S.completed), county(2, "330106", S.failed)]

    assert next_draw_code(BATCH, DrawKind.combined, earlier,
                          county_code="330106") == f"{BATCH}-03"  # fmt: skip
    with pytest.raises(DrawRuleError) as refused:
        next_draw_code(BATCH, DrawKind.combined, earlier, county_code="330102")
    assert refused.value.rule == "draw-already-completed"
    # Drawn once every county a draw was prepared for has a completed one.
    assert not batch_drawn(False, [], earlier)
    assert batch_drawn(False, [], [*earlier, county(3, "330106", S.completed)])
    assert not batch_drawn(False, [], [*earlier, county(3, "330106", S.computed)])


def test_a_team_draw_goes_over_the_subject_draw_not_failed_or_voided() -> None:
    voided = summary(1, DrawKind.subjects, S.voided)
    live = summary(2, DrawKind.subjects, S.committed)

    assert live_subject_draw([voided]) is None
    assert live_subject_draw([voided, live, summary(3, DrawKind.combined, S.prepared)]) == live


def test_a_fixed_beacon_is_committed_only_in_test_mode() -> None:
    bundle = TV1["bundle"]
    with pytest.raises(DrawRuleError) as refused:
        prepared(bundle).commit(bundle["commitment"])
    assert refused.value.rule == "draw-beacon-fixed"
    assert (
        prepared(TV4["bundle"], DrawKind.combined).commit(TV4["bundle"]["commitment"]).status
        is S.committed
    )


def test_the_commitment_has_a_team_phase_exactly_when_the_draw_assigns_teams() -> None:
    tv1, tv4 = TV1["bundle"], TV4["bundle"]  # TV1 has no team phase, TV4 has one
    with pytest.raises(DrawRuleError) as refused:
        prepared(tv1, DrawKind.combined).commit(tv1["commitment"], test_mode=True)
    assert refused.value.rule == "draw-kind-team"
    with pytest.raises(DrawRuleError) as refused:
        prepared(tv4, DrawKind.subjects).commit(tv4["commitment"])
    assert refused.value.rule == "draw-kind-team"
    assert prepared(tv4, DrawKind.teams).commit(tv4["commitment"]).status is S.committed
