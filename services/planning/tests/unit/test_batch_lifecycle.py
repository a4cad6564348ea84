"""A batch moves only along DOMAIN §5.2; a drawn batch is never edited, only cancelled with a
reason (R7). Its public code is region(6) + date(8, Asia/Shanghai) + sequence(4)."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuangsui.planning.domain.batch_lifecycle import (
    TRANSITIONS,
    BatchAction,
    BatchCode,
    BatchRuleError,
    BatchStatus,
    IllegalBatchTransition,
    allowed_actions,
    batch_code,
    can_edit,
    follow_draws,
    next_status,
    parse_batch_code,
)

S, A = BatchStatus, BatchAction
LEGAL = {
    (S.draft, A.publish): S.published,
    (S.published, A.commit_draw): S.drawing,
    (S.drawing, A.complete_draw): S.drawn,
    (S.drawing, A.fail_draw): S.published,
    (S.drawn, A.void_draw): S.published,
    (S.drawing, A.void_draw): S.published,
    (S.drawn, A.reopen_draw): S.drawing,
    (S.drawn, A.start): S.in_progress,
    (S.in_progress, A.complete): S.completed,
    (S.published, A.cancel): S.cancelled,
    (S.drawn, A.cancel): S.cancelled,
    (S.in_progress, A.cancel): S.cancelled,
}
ILLEGAL = [(s, a) for s in S for a in A if (s, a) not in LEGAL]


def test_the_table_is_domain_5_2():
    assert dict(TRANSITIONS) == LEGAL


@pytest.mark.parametrize(("status", "action"), list(LEGAL), ids=lambda v: str(v))
def test_a_legal_transition_leads_where_5_2_says(status, action):
    assert next_status(status, action, reason="计划调整") == LEGAL[status, action]


@pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=lambda v: str(v))
def test_any_other_transition_is_refused(status, action):
    with pytest.raises(IllegalBatchTransition) as refused:
        next_status(status, action, reason="计划调整")

    assert refused.value.rule == "batch-transition"


@pytest.mark.parametrize("reason", [None, "", "   ", "理" * 2001])
def test_a_cancellation_needs_its_reason(reason):
    with pytest.raises(BatchRuleError) as refused:
        next_status(S.drawn, A.cancel, reason=reason)

    assert (refused.value.rule, refused.value.field) == ("batch-cancel-reason", "reason")


def test_only_a_draft_is_edited():
    assert [s for s in S if can_edit(s)] == [S.draft]


def test_a_drawing_batch_is_not_cancelled_until_its_draw_ends():
    assert allowed_actions(S.drawing) == {A.complete_draw, A.fail_draw, A.void_draw}


def test_completed_and_cancelled_batches_are_final():
    assert allowed_actions(S.completed) == allowed_actions(S.cancelled) == frozenset()


def test_the_code_is_region_date_and_sequence():
    assert batch_code("330106", date(2026, 3, 15), 1) == "330106202603150001"


def test_the_codes_date_is_the_day_in_shanghai():
    late_evening_utc = datetime(2026, 3, 14, 16, 30, tzinfo=UTC)  # 00:30 on the 15th in Shanghai

    assert batch_code("330106", late_evening_utc, 12) == "330106202603150012"


@pytest.mark.parametrize(
    ("region", "sequence", "rule"),
    [("33010", 1, "batch-code"), ("33010a", 1, "batch-code"), ("330106", 0, "batch-code-exhausted"),
     ("330106", 10000, "batch-code-exhausted")],
)  # fmt: skip
def test_a_code_cannot_be_made_from_bad_parts(region, sequence, rule):
    with pytest.raises(BatchRuleError) as refused:
        batch_code(region, date(2026, 3, 15), sequence)

    assert refused.value.rule == rule


@pytest.mark.parametrize(
    "code",
    ["33010620260315001", "3301062026031500011", "330106202602300001", "330106202603150000",
     "33010620260315000a", " 330106202603150001"],
)  # fmt: skip
def test_what_is_no_batch_code_is_refused(code):
    with pytest.raises(BatchRuleError):
        parse_batch_code(code)


@given(
    region=st.from_regex(r"[0-9]{6}", fullmatch=True),
    day=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    sequence=st.integers(1, 9999),
)
def test_a_code_reads_back_as_what_made_it(region, day, sequence):
    code = batch_code(region, day, sequence)

    assert len(code) == 18
    assert parse_batch_code(code) == BatchCode(region, day, sequence)


@pytest.mark.parametrize(
    ("status", "drawn_as", "action"),
    [
        (S.published, S.drawing, A.commit_draw),
        (S.drawing, S.drawn, A.complete_draw),
        (S.drawing, S.published, A.fail_draw),
        (S.drawn, S.published, A.void_draw),
        (S.drawn, S.drawing, A.reopen_draw),  # one county of several voided (B.10)
        (S.drawing, S.drawing, None),  # a copy, or a team draw that draws nothing yet
        (S.cancelled, S.drawn, None),  # moved on: a late event changes nothing
        (S.in_progress, S.published, None),
        (S.draft, S.drawing, None),
    ],
)
def test_a_batch_follows_where_its_draws_leave_it(status, drawn_as, action):
    assert follow_draws(status, drawn_as) is action
