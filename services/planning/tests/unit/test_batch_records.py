"""A stored batch: the plan versions it lives in, cancellation by an adjustment (pending until that
version is published, withdrawn when it is discarded), the invitations of a cross-department batch
and the partners' answers; the draft's JSON document; the department vocabulary joining items and
orgs."""

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuangsui.planning.domain.batch_documents import draft_document, draft_of
from shuangsui.planning.domain.batch_facts import department_type_of, item_facts_of
from shuangsui.planning.domain.batch_lifecycle import BatchRuleError, BatchStatus
from shuangsui.planning.domain.batch_records import (
    Batch,
    Invitation,
    InvitationStatus,
    JointRuleError,
    cancellation_requested,
    cancellation_withdrawn,
    cancelled,
    edited,
    internal_participant_breaches,
    invitations_for,
    published,
    responded,
    same_terms,
    unconfirmed,
)
from shuangsui.planning.domain.batch_values import (
    BatchDraft,
    DrawMode,
    ExclusionReason,
    ExclusionRule,
    ItemFacts,
    JointKind,
    Method,
    OrgFacts,
    Origin,
    Scope,
    SelectionMode,
    WorkdaysAfterTaskStart,
)
from shuangsui.planning.domain.catalogue import ItemInForce

LEAD = OrgFacts(UUID(int=1), "330106-AMR", "county", "330106", "market_supervision")
EMERGENCY = OrgFacts(UUID(int=2), "330106-YJ", "county", "330106", "emergency_management")
HEALTH = OrgFacts(UUID(int=3), "330106-WJ", "county", "330106", "health")
AT = datetime(2026, 3, 15, 2, tzinfo=UTC)


def item(n, department=None, methods=(Method.on_site,)):
    return ItemFacts(UUID(int=100 + n), UUID(int=99), 1, f"T-{n}", f"事项{n}", "general",
                     frozenset(methods), ("enterprise",), department_type=department)  # fmt: skip


DRAFT = BatchDraft(
    name="第一批",
    item_ids=(UUID(int=101),),
    scope=Scope(("330106",)),
    quantity={"A": "3%", "B": "1/10", "C": 5, "D": "60%"},
    window_start=date(2026, 4, 1),
    window_end=date(2026, 6, 30),
    methods=(Method.on_site,),
    selection_mode=SelectionMode.bureau_wide,
)


def batch(status=BatchStatus.draft, **changes):
    return replace(
        Batch(UUID(int=7), UUID(int=8), 1, LEAD.org_id, DRAFT, status, revision=1), **changes
    )


def test_a_batch_lives_from_the_version_that_adds_it_until_the_one_that_cancels_it():
    added_in_two = batch(added_in_version=2, cancelled_in_version=4)
    assert [v for v in range(1, 6) if added_in_two.in_version(v)] == [2, 3]
    assert [v for v in range(1, 4) if batch().in_version(v)] == [1, 2, 3]


def test_a_cancellation_is_asked_by_an_adjustment_and_takes_effect_at_its_publication():
    live = batch(BatchStatus.published, batch_code="330106202603150001")
    asked = cancellation_requested(live, in_version=2, reason="  并入联合检查 ")

    assert (asked.status, asked.cancelled_in_version, asked.cancel_reason) == (
        BatchStatus.published, 2, "并入联合检查"
    )  # fmt: skip
    assert asked.cancellation_pending
    assert asked.revision == live.revision + 1
    done = cancelled(asked, at=AT)
    assert (done.status, done.cancelled_from, done.cancelled_at) == (
        BatchStatus.cancelled, BatchStatus.published, AT
    )  # fmt: skip
    assert not done.cancellation_pending
    withdrawn = cancellation_withdrawn(asked)
    assert (withdrawn.cancelled_in_version, withdrawn.cancel_reason) == (None, None)


@pytest.mark.parametrize(
    ("status", "reason", "rule"),
    [
        (BatchStatus.draft, "x", "batch-transition"),  # a draft is deleted instead
        (BatchStatus.drawing, "x", "batch-transition"),  # the draw is under way
        (BatchStatus.completed, "x", "batch-transition"),
        (BatchStatus.published, " ", "batch-cancel-reason"),
        (BatchStatus.published, None, "batch-cancel-reason"),
    ],
)
def test_a_cancellation_is_refused_where_the_life_of_a_batch_refuses_it(status, reason, rule):
    with pytest.raises(BatchRuleError) as refused:
        cancellation_requested(batch(status), in_version=2, reason=reason)
    assert refused.value.rule == rule


def test_a_batch_is_cancelled_once():
    asked = cancellation_requested(batch(BatchStatus.drawn), in_version=2, reason="撤销")
    with pytest.raises(BatchRuleError, match="already cancelled by version 2"):
        cancellation_requested(asked, in_version=2, reason="again")


def test_only_a_draft_is_edited_and_publication_gives_the_code():
    with pytest.raises(BatchRuleError, match="never edited"):
        edited(batch(BatchStatus.published), DRAFT, ())
    out = published(batch(), batch_code="330106202603150001", plan_version=1, at=AT)
    assert (out.status, out.batch_code, out.published_in_version) == (
        BatchStatus.published, "330106202603150001", 1
    )  # fmt: skip
    with pytest.raises(BatchRuleError):
        published(out, batch_code="330106202603150002", plan_version=1, at=AT)


def joint_draft(*participants):
    return replace(DRAFT, joint_kind=JointKind.cross_department,
                   participant_org_ids=tuple(o.org_id for o in participants))  # fmt: skip


def test_each_partner_is_invited_for_the_items_its_department_checks():
    led_by_health, joint, own = item(1, "health"), item(2), item(3)
    partners = {joint.item_id: frozenset({"emergency_management"})}

    made, breaches = invitations_for(
        joint_draft(EMERGENCY, HEALTH), LEAD, [led_by_health, joint, own], partners,
        [EMERGENCY, HEALTH],
    )  # fmt: skip

    assert breaches == []
    assert [(i.org_id, i.item_ids, i.status) for i in made] == [
        (EMERGENCY.org_id, (joint.item_id,), InvitationStatus.pending),
        (HEALTH.org_id, (led_by_health.item_id,), InvitationStatus.pending),
    ]


def test_a_partner_with_nothing_to_check_is_a_breach_and_a_batch_not_cross_department_invites_none():
    made, breaches = invitations_for(joint_draft(HEALTH), LEAD, [item(1)], {}, [HEALTH])
    assert made == ()
    assert [(b.rule, b.field) for b in breaches] == [
        ("joint-partner-without-items", "participant_org_ids[0]")
    ]
    assert invitations_for(DRAFT, LEAD, [item(1)], {}, []) == ((), [])


def test_an_answer_stands_while_the_partners_items_stay_the_same():
    joint = item(2)
    partners = {joint.item_id: frozenset({"emergency_management"})}
    [first], _ = invitations_for(joint_draft(EMERGENCY), LEAD, [joint], partners, [EMERGENCY])
    confirmed = responded(first, accept=True, item_ids=[joint.item_id], reason=None, by="u", at=AT)

    [kept], _ = invitations_for(
        joint_draft(EMERGENCY), LEAD, [joint, item(3)], partners, [EMERGENCY], [confirmed]
    )
    more = {**partners, UUID(int=103): frozenset({"emergency_management"})}
    [asked_again], _ = invitations_for(
        joint_draft(EMERGENCY), LEAD, [joint, item(3)], more, [EMERGENCY], [confirmed]
    )

    assert kept == confirmed
    assert asked_again.status is InvitationStatus.pending


def test_a_confirmation_names_exactly_its_items_and_a_refusal_its_reason():
    invitation = Invitation(EMERGENCY.org_id, "emergency_management", (UUID(int=102),))
    with pytest.raises(JointRuleError) as wrong:
        responded(invitation, accept=True, item_ids=[UUID(int=101)], reason=None, by="u", at=AT)
    assert (wrong.value.rule, wrong.value.field) == ("joint-items-mismatch", "item_ids")
    with pytest.raises(JointRuleError, match="reason"):
        responded(invitation, accept=False, item_ids=[], reason=" ", by="u", at=AT)
    declined = responded(invitation, accept=False, item_ids=[], reason="无力量", by="u", at=AT)
    assert (declined.status, declined.reason, declined.responded_at) == (
        InvitationStatus.declined, "无力量", AT
    )  # fmt: skip
    assert unconfirmed(batch(invitations=(declined,))) == [declined]


def test_an_answer_holds_only_while_nothing_but_the_name_changes():
    assert same_terms(DRAFT, replace(DRAFT, name="改名"))
    assert not same_terms(DRAFT, replace(DRAFT, window_end=date(2026, 7, 31)))
    assert not same_terms(DRAFT, replace(DRAFT, team_size=3))


def test_an_internal_joint_batch_takes_in_orgs_beneath_the_lead_only():
    station, sibling = UUID(int=21), UUID(int=22)
    draft = replace(DRAFT, joint_kind=JointKind.internal, participant_org_ids=(station, sibling))

    breaches = internal_participant_breaches(
        draft, LEAD.org_id, {station: LEAD.org_id, sibling: UUID(int=99)}
    )

    assert [(b.rule, b.field) for b in breaches] == [
        ("batch-internal-participant-not-under-lead", "participant_org_ids[1]")
    ]
    assert internal_participant_breaches(DRAFT, LEAD.org_id, {sibling: None}) == []


def test_departments_named_as_lists_name_them_map_to_the_orgs_codes():
    assert department_type_of("应急管理部门") == "emergency_management"
    assert department_type_of(" 市场监管部门 ") == "market_supervision"
    assert department_type_of("ecology_environment") == "ecology_environment"
    assert department_type_of("某某委员会") is None
    assert department_type_of(None) is None


def test_an_item_led_by_another_department_is_that_departments_in_the_batch():
    def in_force(lead_department):
        return ItemInForce(
            UUID(int=1), UUID(int=2), "provincial", 1, "provincial", "T-1", "检查", "综合",
            "general", ("on_site", "online"), ("enterprise",), (), None, None, lead_department,
            ("应急管理部门",), True, None, 1,
        )  # fmt: skip

    own = item_facts_of(in_force("市场监管部门"), lead_department_type="market_supervision")
    others = item_facts_of(in_force("卫生健康部门"), lead_department_type="market_supervision")
    assert own.department_type is None
    assert others.department_type == "health"
    assert own.allowed_methods == frozenset({Method.on_site, Method.online})


drafts = st.builds(
    BatchDraft,
    name=st.text(min_size=1, max_size=20),
    item_ids=st.lists(st.uuids(), min_size=1, max_size=3).map(tuple),
    scope=st.builds(
        Scope,
        st.lists(st.sampled_from(["330106", "330105"]), max_size=2).map(tuple),
        subject_types=st.lists(st.sampled_from(["enterprise", "individual"]), max_size=2).map(
            tuple
        ),
    ),
    quantity=st.dictionaries(
        st.sampled_from("ABCD"), st.one_of(st.integers(0, 50), st.sampled_from(["3%", "1/10"]))
    ),
    window_start=st.dates(),
    window_end=st.dates(),
    methods=st.lists(st.sampled_from(list(Method)), max_size=2).map(tuple),
    selection_mode=st.sampled_from(list(SelectionMode)),
    origin=st.sampled_from(list(Origin)),
    key_supervision_item_id=st.none() | st.uuids(),
    clue_ref=st.none() | st.text(max_size=5),
    draw_mode=st.sampled_from(list(DrawMode)),
    station_group=st.lists(st.sampled_from(["330106-01", "330106-02"]), max_size=2).map(tuple),
    team_size=st.integers(0, 9),
    entry_deadline_rule=st.builds(WorkdaysAfterTaskStart, st.integers(1, 20)),
    exclusion_policy=st.lists(
        st.builds(
            ExclusionRule,
            st.sampled_from(list(ExclusionReason)),
            st.none() | st.integers(1, 24),
            st.none() | st.text(max_size=5),
        ),
        max_size=2,
    ).map(tuple),
    joint_kind=st.sampled_from(list(JointKind)),
    participant_org_ids=st.lists(st.uuids(), max_size=2).map(tuple),
    risk_domain=st.sampled_from(["general", "food"]),
)


@given(drafts)
def test_a_draft_survives_its_document(draft):
    assert draft_of(draft_document(draft)) == draft
