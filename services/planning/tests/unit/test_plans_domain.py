"""Annual plans: the version state machine (DOMAIN.md §5.1 with `submitted`), the public code,
lateness at submission on the Asia/Shanghai date (R5, ADR 0015), adjustments (R7) and the
difference between versions."""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from shuangsui.planning.domain import deadlines, plans_diff
from shuangsui.planning.domain import plans as rules
from shuangsui.planning.domain.catalogue import CatalogueOrg
from shuangsui.planning.domain.deadlines import Standing
from shuangsui.planning.domain.plans import (
    Action,
    IllegalTransition,
    PlanRuleError,
    PlanStatus,
    Relation,
)
from shuangsui.planning.domain.plans_diff import BatchSummary

S = PlanStatus
LEGAL = {
    (S.draft, Action.edit): S.draft,
    (S.draft, Action.submit): S.submitted,
    (S.submitted, Action.file): S.filed,
    (S.filed, Action.publish): S.published,
    (S.published, Action.adjust): S.published,
    (S.published, Action.supersede): S.superseded,
    (S.published, Action.close): S.closed,
    (S.draft, Action.discard): S.discarded,
}
EVERY_PAIR = [(status, action) for status in PlanStatus for action in Action]


@pytest.mark.parametrize(("status", "action"), [p for p in EVERY_PAIR if p in LEGAL])
def test_a_legal_transition_leads_where_the_state_machine_says(status, action):
    assert rules.next_status(status, action) is LEGAL[status, action]


@pytest.mark.parametrize(("status", "action"), [p for p in EVERY_PAIR if p not in LEGAL])
def test_every_other_transition_is_refused_naming_its_rule(status, action):
    with pytest.raises(IllegalTransition) as refused:
        rules.next_status(status, action)

    assert refused.value.rule == "plan-transition"
    assert rules.RULES[action] in refused.value.reason
    assert str(status) in refused.value.reason


def test_publishing_a_version_that_was_not_filed_says_so():
    with pytest.raises(IllegalTransition, match="publishing needs a filed version"):
        rules.next_status(S.submitted, Action.publish)


def an_org(level: str, parent: uuid.UUID | None, status: str = "active") -> CatalogueOrg:
    return CatalogueOrg(
        org_id=uuid.uuid4(), code="330106-AMR", name="西湖区市场监督管理局", level=level,
        region_code="330106", parent_org_id=parent, parent_code=None,
        department_type="market_supervision", is_hq=level != "station", status=status, version=1,
    )  # fmt: skip


COUNTY = an_org("county", uuid.uuid4())


def draft(year: int = 2026, org: CatalogueOrg = COUNTY) -> rules.PlanVersion:
    content = rules.plan_content(year, "2026年度双随机抽查计划")
    return rules.new_plan(
        uuid.uuid4(), rules.plan_code(org.region_code, year, 1), org, year, content
    )


def published_plan(year: int = 2026) -> rules.PlanVersion:
    at = datetime(year, 3, 1, tzinfo=UTC)
    plan = rules.submitted(draft(year), at, deadlines.default_deadline(year))
    plan = rules.filed(plan, at, COUNTY.parent_org_id)
    return rules.published(plan, at, deadlines.default_deadline(year), None)


def test_the_plan_code_is_region_year_and_a_four_digit_sequence():
    code = rules.plan_code("330106", 2026, 7)

    assert code == "33010620260007"
    assert rules.PLAN_CODE.fullmatch(code)


@pytest.mark.parametrize("sequence", [0, 10_000])
def test_a_sequence_outside_1_to_9999_has_no_code(sequence):
    with pytest.raises(PlanRuleError) as refused:
        rules.plan_code("330106", 2026, sequence)
    assert refused.value.rule == "plan-code-exhausted"


def test_a_station_has_no_plan_and_a_closed_org_makes_none():
    station = an_org("station", None)
    closed = an_org("county", None, status="closed")

    for org in (station, closed):
        with pytest.raises(PlanRuleError) as refused:
            rules.plan_level_of(org)
        assert refused.value.field == "org_id"
    assert rules.plan_level_of(COUNTY) is rules.PlanLevel.county


def test_the_period_defaults_to_the_plan_year_and_must_lie_inside_it():
    content = rules.plan_content(2026, "  计划  ")
    assert (content.title, content.period_start, content.period_end) == (
        "计划", date(2026, 1, 1), date(2026, 12, 31)
    )  # fmt: skip

    with pytest.raises(PlanRuleError) as outside:
        rules.plan_content(2026, "计划", period_end=date(2027, 1, 1))
    assert outside.value.field == "period_end"
    with pytest.raises(PlanRuleError) as reversed_:
        rules.plan_content(2026, "计划", period_start=date(2026, 6, 1), period_end=date(2026, 5, 1))
    assert reversed_.value.field == "period_end"
    with pytest.raises(PlanRuleError) as untitled:
        rules.plan_content(2026, "   ")
    assert untitled.value.field == "title"


SHANGHAI = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("at", "late"),
    [
        (datetime(2026, 3, 31, 23, 59, tzinfo=SHANGHAI), False),
        # 31 March 16:00 UTC is already 1 April in Shanghai.
        (datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 31, 16, 0, tzinfo=UTC), True),
        (datetime(2026, 4, 1, 0, 0, tzinfo=SHANGHAI), True),
    ],
)
def test_lateness_is_the_submissions_shanghai_date_after_the_deadline(at, late):
    plan = rules.submitted(draft(), at, deadlines.default_deadline(2026))

    assert plan.late is late
    assert plan.status is S.submitted
    assert plan.deadline == date(2026, 3, 31)


def test_a_late_plan_is_accepted_and_filing_late_does_not_make_it_late():
    on_time = rules.submitted(draft(), datetime(2026, 3, 30, tzinfo=UTC), date(2026, 3, 31))

    filed = rules.filed(on_time, datetime(2026, 5, 1, tzinfo=UTC), COUNTY.parent_org_id)

    assert filed.status is S.filed
    assert filed.late is False
    assert filed.filed_to_org_id == COUNTY.parent_org_id


def test_a_province_moves_its_deadline_only_within_the_plan_year():
    assert rules.check_deadline(2026, date(2026, 4, 15)) == date(2026, 4, 15)
    with pytest.raises(PlanRuleError) as refused:
        rules.check_deadline(2026, date(2025, 12, 31))
    assert refused.value.field == "deadline"


def test_every_transition_moves_the_revision_the_etag_is_made_of():
    plan = draft()
    edited = rules.edited(plan, rules.plan_content(2026, "新标题"))

    assert edited.revision == plan.revision + 1
    assert rules.discarded(edited).revision == plan.revision + 2


def test_an_adjustment_is_the_next_draft_version_with_its_reason_and_the_same_code():
    current = published_plan()

    adjusted = rules.adjustment(current, "  新增电梯专项检查  ")

    assert (adjusted.version, adjusted.supersedes_version) == (2, 1)
    assert adjusted.status is S.draft
    assert adjusted.adjustment_reason == "新增电梯专项检查"
    assert (adjusted.plan_id, adjusted.plan_code) == (current.plan_id, current.plan_code)
    assert adjusted.submitted_at is None
    assert adjusted.published_at is None


def test_an_adjustment_after_a_discarded_one_takes_the_next_number():
    adjusted = rules.adjustment(published_plan(), "再次调整", latest_version=2)

    assert (adjusted.version, adjusted.supersedes_version) == (3, 1)


def test_an_adjustment_needs_a_reason_and_a_published_version():
    with pytest.raises(PlanRuleError) as no_reason:
        rules.adjustment(published_plan(), " ")
    assert no_reason.value.field == "adjustment_reason"
    with pytest.raises(IllegalTransition, match="adjusting needs a published version"):
        rules.adjustment(draft(), "原因")


def test_an_adjustment_submitted_after_the_deadline_is_not_late():
    adjusted = rules.adjustment(published_plan(), "调整")

    resubmitted = rules.submitted(adjusted, datetime(2026, 9, 1, tzinfo=UTC), date(2026, 3, 31))

    assert resubmitted.late is False


def test_a_plan_closes_after_its_year_once_no_batch_is_open():
    plan = published_plan(2026)

    with pytest.raises(PlanRuleError, match="until 2026 has ended"):
        rules.closed(plan, datetime(2026, 12, 31, 15, 59, tzinfo=UTC), 0)
    with pytest.raises(PlanRuleError, match="2 still open"):
        rules.closed(plan, datetime(2027, 1, 2, tzinfo=UTC), 2)
    # 31 December 16:00 UTC is New Year's Day in Shanghai.
    closed = rules.closed(plan, datetime(2026, 12, 31, 16, 0, tzinfo=UTC), 0)
    assert closed.status is S.closed
    with pytest.raises(IllegalTransition):
        rules.closed(draft(2026), datetime(2027, 1, 2, tzinfo=UTC), 0)


@pytest.mark.parametrize(
    ("status", "owner", "superior", "other"),
    [
        (S.draft, True, False, False),
        (S.discarded, True, False, False),
        (S.submitted, True, True, False),
        (S.filed, True, True, False),
        (S.published, True, True, True),
        (S.superseded, True, True, True),
        (S.closed, True, True, True),
    ],
)
def test_the_superior_sees_from_submission_on_and_everyone_what_was_published(
    status, owner, superior, other
):
    seen = [rules.visible(status, r) for r in (Relation.owner, Relation.superior, Relation.other)]

    assert seen == [owner, superior, other]
    assert rules.visible(status, Relation.national)


def test_an_orgs_standing_comes_from_its_submitted_first_version():
    plan = draft()
    on_time = rules.submitted(plan, datetime(2026, 3, 1, tzinfo=UTC), date(2026, 3, 31))
    late = rules.submitted(plan, datetime(2026, 4, 2, tzinfo=UTC), date(2026, 3, 31))

    assert deadlines.standing([]) is Standing.not_submitted
    assert deadlines.standing([rules.discarded(plan)]) is Standing.not_submitted
    assert deadlines.standing([rules.discarded(plan), on_time]) is Standing.on_time
    assert deadlines.standing([late]) is Standing.late


def test_the_difference_names_each_changed_field_with_before_and_after():
    current = published_plan()
    changed = rules.plan_content(
        2026, current.content.title, description="增加电梯检查", period_end=date(2026, 11, 30)
    )
    adjusted = rules.adjustment(current, "增加电梯检查", changed)

    diff = plans_diff.plan_diff(current, adjusted)

    assert (diff.from_version, diff.to_version, diff.reason) == (1, 2, "增加电梯检查")
    assert [(c.field, c.before, c.after) for c in diff.fields] == [
        ("description", None, "增加电梯检查"),
        ("period_end", "2026-12-31", "2026-11-30"),
    ]
    assert diff.batches == plans_diff.BatchChanges()


WINDOW = (date(2026, 5, 1), date(2026, 6, 30))


def test_the_batch_seam_lists_added_cancelled_and_changed_batches():
    kept, dropped, cancelled, edited, new = (uuid.uuid4() for _ in range(5))
    before = [
        BatchSummary(kept, "K", "published", *WINDOW),
        BatchSummary(dropped, "D", "published", *WINDOW),
        BatchSummary(cancelled, "C", "published", *WINDOW),
        BatchSummary(edited, "E", "draft", *WINDOW, quantity={"A": "1/20"}),
    ]
    after = [
        BatchSummary(kept, "K", "published", *WINDOW),
        BatchSummary(cancelled, "C", "cancelled", *WINDOW),
        BatchSummary(edited, "E", "draft", *WINDOW, quantity={"A": "1/10"}),
        BatchSummary(new, "N", "draft", *WINDOW),
    ]

    changes = plans_diff.batch_changes(before, after)

    assert changes.added == (new,)
    assert set(changes.cancelled) == {dropped, cancelled}
    assert changes.changed == (edited,)


def test_changes_keep_what_they_do_not_name_and_a_new_plan_needs_a_title():
    base = rules.plan_content(2026, "计划", description="说明")

    changed = rules.changed_content(2026, rules.ContentChanges(period_end=date(2026, 6, 30)), base)

    assert (changed.title, changed.description, changed.period_end) == (
        "计划", "说明", date(2026, 6, 30)
    )  # fmt: skip
    assert rules.changed_content(2026, rules.ContentChanges(description=""), base).description == ""
    with pytest.raises(PlanRuleError) as untitled:
        rules.changed_content(2026, rules.ContentChanges(), None)
    assert untitled.value.field == "title"
