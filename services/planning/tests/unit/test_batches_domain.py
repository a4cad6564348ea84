"""A batch draft is checked against every rule of R8–R18 and R20 and the draw's own limits
(DRAW_SPEC B.4, B.5, B.7), and all its breaches come back at once, each with a stable rule code
and the path of the field it concerns."""

import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from fractions import Fraction
from math import gcd
from pathlib import Path
from uuid import UUID

import jsonschema_rs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.drawspec.model import Ratio, StratumRule
from shuangsui.planning.domain.batch_events import (
    PolicyFacts,
    Publication,
    cancelled_payload,
    publication_breaches,
    published_payload,
)
from shuangsui.planning.domain.batch_lifecycle import BatchStatus
from shuangsui.planning.domain.batch_overlap import footprint_of
from shuangsui.planning.domain.batches import (
    BatchDraft,
    BatchRefused,
    BatchRules,
    DrawMode,
    ExclusionReason,
    ExclusionRule,
    ItemFacts,
    ItemGroup,
    JointKind,
    Method,
    OrgFacts,
    Origin,
    PlanFacts,
    Scope,
    SelectionMode,
    ValidBatch,
    WorkdaysAfterTaskStart,
    WorkdaysAfterWindowEnd,
    check_draft,
    validate_draft,
)

LEAD_ID = UUID("00000000-0000-4000-8000-000000000001")
HEALTH_ID = UUID("00000000-0000-4000-8000-000000000002")
OTHER_MS_ID = UUID("00000000-0000-4000-8000-000000000003")
CLOSED_ID = UUID("00000000-0000-4000-8000-000000000004")
PLAN_ID = UUID("00000000-0000-4000-8000-0000000000a1")
LIST_ID = UUID("00000000-0000-4000-8000-0000000000b1")

FOOD = UUID("00000000-0000-4000-8000-000000000f01")
LABEL = UUID("00000000-0000-4000-8000-000000000f02")
ELEVATOR = UUID("00000000-0000-4000-8000-000000000f03")
WITHDRAWN = UUID("00000000-0000-4000-8000-000000000f04")
HYGIENE = UUID("00000000-0000-4000-8000-000000000f05")
PRICES = UUID("00000000-0000-4000-8000-000000000f06")
HYGIENE_LAB = UUID("00000000-0000-4000-8000-000000000f07")
UNKNOWN = UUID("00000000-0000-4000-8000-000000000fff")

LEAD = OrgFacts(
    org_id=LEAD_ID,
    code="330106",
    level="county",
    region_code="330106",
    department_type="market_supervision",
    station_codes=frozenset({"330106-01", "330106-02"}),
)
PLAN = PlanFacts(plan_id=PLAN_ID, org_id=LEAD_ID, year=2026)

ORGS = {
    HEALTH_ID: OrgFacts(HEALTH_ID, "330106-WJ", "county", "330106", "health"),
    OTHER_MS_ID: OrgFacts(OTHER_MS_ID, "330110", "county", "330110", "market_supervision"),
    CLOSED_ID: OrgFacts(CLOSED_ID, "330106-X", "county", "330106", "health", active=False),
}


def _item(item_id: UUID, code: str, **changes: object) -> ItemFacts:
    base: dict[str, object] = {
        "item_id": item_id,
        "list_id": LIST_ID,
        "version": 1,
        "code": code,
        "name": f"{code} 检查",
        "item_category": "general",
        "allowed_methods": frozenset({Method.on_site, Method.documentary}),
        "subject_types": ("enterprise",),
    }
    base.update(changes)
    return ItemFacts(**base)  # type: ignore[arg-type]


ITEMS = {
    FOOD: _item(
        FOOD,
        "SPAQ-001",
        item_category="key",
        subject_types=("enterprise", "individual"),
        subject_tags=("format:餐饮服务",),
        required_qualification="food_safety",
        min_ratio=Ratio("3", "100"),
    ),
    LABEL: _item(
        LABEL,
        "GSXX-001",
        allowed_methods=frozenset({Method.on_site, Method.documentary, Method.online}),
    ),
    ELEVATOR: _item(
        ELEVATOR,
        "TZSB-003",
        allowed_methods=frozenset({Method.on_site}),
        required_qualification="special_equipment",
    ),
    WITHDRAWN: _item(WITHDRAWN, "OLD-001", in_force=False),
    HYGIENE: _item(
        HYGIENE, "WS-001", department_type="health", required_qualification="public_health"
    ),
    PRICES: _item(PRICES, "JG-001", department_type="market_supervision"),
    HYGIENE_LAB: _item(
        HYGIENE_LAB, "WS-002", department_type="health", required_qualification="lab_testing"
    ),
}

VALID = BatchDraft(
    name="2026年第一批餐饮服务单位双随机抽查",
    item_ids=(FOOD, LABEL),
    scope=Scope(region_codes=("330106",)),
    quantity={"A": "3%", "B": "10%", "C": "30%", "D": 20},
    window_start=date(2026, 4, 1),
    window_end=date(2026, 6, 30),
    methods=(Method.on_site,),
    selection_mode=SelectionMode.bureau_wide,
)


# ---- the rules, case by case ---------------------------------------------------------------------

directed = DrawMode.directed
CASES: list[tuple[str, dict[str, object], set[tuple[str, str]]]] = [
    ("blank name", {"name": ""}, {("batch-name", "name")}),
    ("name with spaces around", {"name": " 抽查 "}, {("batch-name", "name")}),
    ("name too long", {"name": "批" * 201}, {("batch-name", "name")}),
    ("no items", {"item_ids": ()}, {("batch-items-required", "item_ids")}),
    ("an item twice", {"item_ids": (FOOD, FOOD)}, {("batch-duplicate-value", "item_ids[1]")}),
    ("an unknown item", {"item_ids": (FOOD, UNKNOWN)},
     {("batch-item-not-in-force", "item_ids[1]")}),
    ("a withdrawn item", {"item_ids": (FOOD, WITHDRAWN)},
     {("batch-item-not-in-force", "item_ids[1]")}),
    ("no region", {"scope": Scope(())}, {("batch-scope-regions-required", "scope.region_codes")}),
    ("not a region", {"scope": Scope(("999999",))},
     {("batch-scope-region-invalid", "scope.region_codes[0]")}),
    ("an abolished region", {"scope": Scope(("330103",))},
     {("batch-scope-region-invalid", "scope.region_codes[0]")}),
    ("another county", {"scope": Scope(("330106", "310101"))},
     {("batch-scope-region-outside-jurisdiction", "scope.region_codes[1]")}),
    ("a region twice", {"scope": Scope(("330106", "330106"))},
     {("batch-duplicate-value", "scope.region_codes[1]")}),
    ("a subject type no item checks",
     {"draw_mode": directed, "scope": Scope(("330106",), subject_types=("cooperative",))},
     {("batch-scope-subject-type-not-in-items", "scope.subject_types[0]")}),
    ("a tag without dimension", {"draw_mode": directed, "scope": Scope(("330106",), tag_filters=("餐饮",))},
     {("batch-scope-tag-invalid", "scope.tag_filters[0]")}),
    ("not an industry code",
     {"draw_mode": directed, "scope": Scope(("330106",), industry_codes=("Z99",))},
     {("batch-scope-industry-code-invalid", "scope.industry_codes[0]")}),
    ("not a risk class", {"draw_mode": directed, "scope": Scope(("330106",), risk_classes=("E",))},
     {("batch-scope-risk-class-invalid", "scope.risk_classes[0]")}),
    ("undirected with a condition", {"scope": Scope(("330106",), subject_types=("enterprise",))},
     {("batch-undirected-with-conditions", "scope.subject_types")}),
    ("directed without a condition", {"draw_mode": directed},
     {("batch-directed-without-conditions", "scope")}),
    ("a domain written wrongly", {"risk_domain": "Food"}, {("batch-risk-domain-invalid", "risk_domain")}),
    ("key supervision without its item", {"origin": Origin.key_supervision},
     {("batch-origin-reference-required", "key_supervision_item_id")}),
    ("clue-targeted without its clue", {"origin": Origin.clue_targeted},
     {("batch-origin-reference-required", "clue_ref")}),
    ("clue-targeted with a blank clue", {"origin": Origin.clue_targeted, "clue_ref": "  "},
     {("batch-origin-reference-required", "clue_ref")}),
    ("random with a clue", {"clue_ref": "XS-2026-001"},
     {("batch-origin-reference-unexpected", "clue_ref")}),
    ("random with a key-supervision item", {"key_supervision_item_id": FOOD},
     {("batch-origin-reference-unexpected", "key_supervision_item_id")}),
    ("a drawn class without quantity", {"quantity": {"A": "3%", "B": "10%", "C": "30%"}},
     {("batch-quantity-class-missing", "quantity.D")}),
    ("quantity for classes not drawn",
     {"draw_mode": directed, "scope": Scope(("330106",), risk_classes=("C", "D"))},
     {("batch-quantity-class-outside-scope", "quantity.A"),
      ("batch-quantity-class-outside-scope", "quantity.B")}),
    ("quantity for the unclassified", {"quantity": {**VALID.quantity, "unclassified": "5%"}},
     {("batch-quantity-class-outside-scope", "quantity.unclassified")}),
    ("a ratio above 100%", {"quantity": {**VALID.quantity, "A": "150%"}},
     {("batch-ratio-invalid", "quantity.A")}),
    ("an unreadable ratio", {"quantity": {**VALID.quantity, "A": "some"}},
     {("batch-ratio-invalid", "quantity.A")}),
    ("a negative count", {"quantity": {**VALID.quantity, "D": -1}},
     {("batch-count-invalid", "quantity.D")}),
    ("a boolean count", {"quantity": {**VALID.quantity, "D": True}},
     {("batch-count-invalid", "quantity.D")}),
    ("below an item's floor", {"quantity": {**VALID.quantity, "A": "1%"}},
     {("batch-ratio-below-item-minimum", "quantity.A")}),
    ("nothing drawn", {"item_ids": (LABEL,), "quantity": {"A": 0, "B": "0%", "C": "0/5", "D": 0}},
     {("batch-quantity-draws-nothing", "quantity")}),
    ("window before the plan year", {"window_start": date(2025, 12, 1)},
     {("batch-window-outside-plan-year", "window_start")}),
    ("window after the plan year", {"window_end": date(2027, 1, 31)},
     {("batch-window-outside-plan-year", "window_end")}),
    ("window the wrong way round", {"window_start": date(2026, 7, 1)},
     {("batch-window-order", "window_end")}),
    ("no method", {"methods": ()}, {("batch-methods-required", "methods")}),
    ("a method an item does not allow", {"methods": (Method.on_site, Method.online)},
     {("batch-method-not-allowed-by-item", "methods[1]")}),
    ("a method twice", {"methods": (Method.on_site, Method.on_site)},
     {("batch-duplicate-value", "methods[1]")}),
    ("a station group without stations", {"selection_mode": SelectionMode.station_group},
     {("batch-station-group-required", "station_group")}),
    ("stations in another mode", {"station_group": ("330106-01",)},
     {("batch-station-group-unexpected", "station_group")}),
    ("a station of another bureau",
     {"selection_mode": SelectionMode.station_group, "station_group": ("330106-01", "330110-01")},
     {("batch-station-not-under-org", "station_group[1]")}),
    ("a station twice",
     {"selection_mode": SelectionMode.station_group, "station_group": ("330106-01", "330106-01")},
     {("batch-duplicate-value", "station_group[1]")}),
    ("a team of one", {"team_size": 1}, {("batch-team-size-too-small", "team_size")}),
    ("a team larger than a draw assigns", {"team_size": 1001},
     {("batch-team-size-too-large", "team_size")}),
    ("items needing different leads", {"item_ids": (FOOD, ELEVATOR)},
     {("batch-lead-qualification-conflict", "item_ids")}),
    ("no working days after the start", {"entry_deadline_rule": WorkdaysAfterTaskStart(0)},
     {("batch-entry-offset-invalid", "entry_deadline_rule.workdays")}),
    ("too many working days after the window", {"entry_deadline_rule": WorkdaysAfterWindowEnd(61)},
     {("batch-entry-offset-invalid", "entry_deadline_rule.workdays")}),
    ("recently inspected without its period",
     {"exclusion_policy": (ExclusionRule(ExclusionReason.INSPECTED_RECENTLY),)},
     {("batch-exclusion-months", "exclusion_policy[0].months")}),
    ("recently registered for too long",
     {"exclusion_policy": (ExclusionRule(ExclusionReason.REGISTERED_RECENTLY, months=121),)},
     {("batch-exclusion-months", "exclusion_policy[0].months")}),
    ("a period where the reason has none",
     {"exclusion_policy": (ExclusionRule(ExclusionReason.UNDER_INVESTIGATION, months=6),)},
     {("batch-exclusion-months", "exclusion_policy[0].months")}),
    ("other without its note", {"exclusion_policy": (ExclusionRule(ExclusionReason.OTHER_WITH_NOTE),)},
     {("batch-exclusion-note", "exclusion_policy[0].note")}),
    ("other with a note of two lines",
     {"exclusion_policy": (ExclusionRule(ExclusionReason.OTHER_WITH_NOTE, note="停业\n装修"),)},
     {("batch-exclusion-note", "exclusion_policy[0].note")}),
    ("a note where the reason has none",
     {"exclusion_policy": (ExclusionRule(ExclusionReason.DEREGISTERED, note="注销"),)},
     {("batch-exclusion-note", "exclusion_policy[0].note")}),
    ("a reason twice",
     {"exclusion_policy": (ExclusionRule(ExclusionReason.DEREGISTERED),
                           ExclusionRule(ExclusionReason.DEREGISTERED))},
     {("batch-duplicate-value", "exclusion_policy[1].reason")}),
    ("participants in a batch that is not joint", {"participant_org_ids": (HEALTH_ID,)},
     {("batch-participants-unexpected", "participant_org_ids")}),
    ("cross-department within one department",
     {"joint_kind": JointKind.cross_department, "participant_org_ids": (OTHER_MS_ID,)},
     {("batch-cross-department-needs-partner", "participant_org_ids")}),
    ("cross-department with nobody", {"joint_kind": JointKind.cross_department},
     {("batch-cross-department-needs-partner", "participant_org_ids")}),
    ("an unknown participant",
     {"joint_kind": JointKind.cross_department, "participant_org_ids": (HEALTH_ID, UNKNOWN)},
     {("batch-participant-unknown", "participant_org_ids[1]")}),
    ("a closed participant",
     {"joint_kind": JointKind.cross_department, "participant_org_ids": (HEALTH_ID, CLOSED_ID)},
     {("batch-participant-unknown", "participant_org_ids[1]")}),
    ("the lead as participant",
     {"joint_kind": JointKind.cross_department, "participant_org_ids": (HEALTH_ID, LEAD_ID)},
     {("batch-participant-is-lead", "participant_org_ids[1]")}),
    ("a participant twice",
     {"joint_kind": JointKind.cross_department, "participant_org_ids": (HEALTH_ID, HEALTH_ID)},
     {("batch-duplicate-value", "participant_org_ids[1]")}),
    ("internal with one item", {"joint_kind": JointKind.internal, "item_ids": (FOOD,)},
     {("batch-internal-needs-items", "item_ids")}),
    ("internal with another department",
     {"joint_kind": JointKind.internal, "participant_org_ids": (HEALTH_ID,)},
     {("batch-internal-participant-other-department", "participant_org_ids[0]")}),
    ("an item of a department not taking part", {"item_ids": (FOOD, LABEL, HYGIENE)},
     {("batch-item-department-not-taking-part", "item_ids[2]")}),
    ("a partner's items needing different leads",
     {"joint_kind": JointKind.cross_department, "participant_org_ids": (HEALTH_ID,),
      "item_ids": (FOOD, HYGIENE, HYGIENE_LAB)},
     {("batch-lead-qualification-conflict", "item_ids")}),
]  # fmt: skip


def _breaches(draft: BatchDraft, **facts: object) -> set[tuple[str, str]]:
    found = check_draft(
        draft,
        plan=facts.get("plan", PLAN),  # type: ignore[arg-type]
        lead=facts.get("lead", LEAD),  # type: ignore[arg-type]
        items=ITEMS,
        participants=ORGS,
        rules=facts.get("rules"),  # type: ignore[arg-type]
    )
    return {(b.rule, b.field) for b in found}


def test_the_valid_draft_breaks_no_rule():
    assert _breaches(VALID) == set()


@pytest.mark.parametrize(("changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_broken_rule_is_named_with_its_field(changes, expected):
    assert _breaches(replace(VALID, **changes)) == expected


VALID_VARIANTS: list[tuple[str, dict[str, object]]] = [
    ("directed by risk class", {"draw_mode": directed, "quantity": {"C": "1/5", "D": "3/5"},
                                "scope": Scope(("330106",), risk_classes=("C", "D"))}),
    ("directed by type, tag and industry",
     {"draw_mode": directed,
      "scope": Scope(("330106",), subject_types=("individual",), tag_filters=("scale:小微",),
                     industry_codes=("H62",))}),
    ("a ratio written as a fraction", {"quantity": {**VALID.quantity, "A": "3/100"}}),
    ("counts only", {"quantity": {"A": 1, "B": 5, "C": 10, "D": 20}}),
    ("key supervision with its item", {"origin": Origin.key_supervision, "key_supervision_item_id": FOOD}),
    ("clue-targeted with its clue", {"origin": Origin.clue_targeted, "clue_ref": "XS-2026-001"}),
    ("a station group", {"selection_mode": SelectionMode.station_group,
                         "station_group": ("330106-01", "330106-02")}),
    ("single station", {"selection_mode": SelectionMode.single_station}),
    ("a team of three", {"team_size": 3}),
    ("items of one qualification with one of none", {"item_ids": (ELEVATOR, LABEL)}),
    ("entry due after the task's start", {"entry_deadline_rule": WorkdaysAfterTaskStart(10)}),
    ("entry due after the window", {"entry_deadline_rule": WorkdaysAfterWindowEnd(5)}),
    ("every exclusion reason",
     {"exclusion_policy": (ExclusionRule(ExclusionReason.INSPECTED_RECENTLY, months=12),
                           ExclusionRule(ExclusionReason.REGISTERED_RECENTLY, months=3),
                           ExclusionRule(ExclusionReason.UNDER_INVESTIGATION),
                           ExclusionRule(ExclusionReason.DEREGISTERED),
                           ExclusionRule(ExclusionReason.KEY_SUPERVISION_SEPARATE),
                           ExclusionRule(ExclusionReason.OTHER_WITH_NOTE, note="停业装修"),
                           ExclusionRule(ExclusionReason.OTHER_WITH_NOTE, note="拆迁"))}),
    ("each department's items needing one lead each",
     {"joint_kind": JointKind.cross_department, "participant_org_ids": (HEALTH_ID,),
      "item_ids": (FOOD, HYGIENE)}),
    ("cross-department with the partner's item",
     {"joint_kind": JointKind.cross_department, "participant_org_ids": (HEALTH_ID,),
      "item_ids": (FOOD, LABEL, HYGIENE)}),
    ("internal with two items of the lead department",
     {"joint_kind": JointKind.internal, "item_ids": (FOOD, PRICES)}),
    ("internal with another bureau of the same department",
     {"joint_kind": JointKind.internal, "participant_org_ids": (OTHER_MS_ID,)}),
    ("the whole plan year", {"window_start": date(2026, 1, 1), "window_end": date(2026, 12, 31)}),
    ("a one-day window", {"window_start": date(2026, 5, 6), "window_end": date(2026, 5, 6)}),
]  # fmt: skip


@pytest.mark.parametrize(
    "changes", [v[1] for v in VALID_VARIANTS], ids=[v[0] for v in VALID_VARIANTS]
)
def test_what_the_rules_allow_is_accepted(changes):
    assert _breaches(replace(VALID, **changes)) == set()


def test_every_breach_comes_back_at_once():
    draft = replace(
        VALID,
        item_ids=(FOOD, UNKNOWN),
        window_start=date(2025, 6, 1),
        team_size=1,
        methods=(),
        quantity={**VALID.quantity, "A": "200%"},
    )

    assert _breaches(draft) == {
        ("batch-item-not-in-force", "item_ids[1]"),
        ("batch-window-outside-plan-year", "window_start"),
        ("batch-team-size-too-small", "team_size"),
        ("batch-methods-required", "methods"),
        ("batch-ratio-invalid", "quantity.A"),
    }


def test_a_method_may_ask_for_a_larger_team():
    rules = BatchRules(min_team_size={**BatchRules().min_team_size, Method.online: 3})
    draft = replace(VALID, item_ids=(LABEL,), methods=(Method.online,))

    assert _breaches(draft, rules=rules) == {("batch-team-size-too-small", "team_size")}
    assert _breaches(replace(draft, team_size=3), rules=rules) == set()


def test_only_the_plan_owner_leads_and_only_while_open():
    other_plan = replace(PLAN, org_id=OTHER_MS_ID)
    closed = replace(LEAD, active=False)

    assert _breaches(VALID, plan=other_plan) == {("batch-lead-not-plan-owner", "plan_id")}
    assert _breaches(VALID, lead=closed) == {("batch-org-not-active", "org_id")}


def test_a_provincial_batch_may_name_any_region_of_its_province():
    province = replace(LEAD, level="provincial", region_code="330000", station_codes=frozenset())
    draft = replace(VALID, scope=Scope(("330100", "330106", "331002")))

    assert _breaches(draft, lead=province, plan=PLAN) == set()
    assert _breaches(replace(draft, scope=Scope(("310101",))), lead=province) == {
        ("batch-scope-region-outside-jurisdiction", "scope.region_codes[0]")
    }


def test_items_needing_different_leads_are_refused_with_the_split_by_qualification():
    draft = replace(VALID, item_ids=(FOOD, ELEVATOR, LABEL))

    (breach,) = check_draft(draft, plan=PLAN, lead=LEAD, items=ITEMS, participants=ORGS)

    assert breach.rule == "batch-lead-qualification-conflict"
    # The item that needs no qualification can go with any lead: it joins the first batch.
    assert breach.proposed_split == (
        ItemGroup("food_safety", (FOOD, LABEL)),
        ItemGroup("special_equipment", (ELEVATOR,)),
    )


def test_in_a_joint_batch_the_split_is_proposed_for_the_department_that_needs_it():
    draft = replace(
        VALID,
        joint_kind=JointKind.cross_department,
        participant_org_ids=(HEALTH_ID,),
        item_ids=(FOOD, HYGIENE, HYGIENE_LAB),
    )

    (breach,) = check_draft(draft, plan=PLAN, lead=LEAD, items=ITEMS, participants=ORGS)

    assert "health" in breach.reason
    assert breach.proposed_split == (
        ItemGroup("lab_testing", (HYGIENE_LAB, FOOD)),
        ItemGroup("public_health", (HYGIENE,)),
    )


def test_a_refused_draft_raises_with_every_breach():
    with pytest.raises(BatchRefused) as refused:
        validate_draft(
            replace(VALID, team_size=1, methods=()),
            plan=PLAN, lead=LEAD, items=ITEMS, participants=ORGS,
        )  # fmt: skip

    assert {b.rule for b in refused.value.breaches} == {
        "batch-team-size-too-small",
        "batch-methods-required",
    }


def test_a_valid_draft_gives_the_draws_strata_and_lead_rule():
    valid = validate_draft(VALID, plan=PLAN, lead=LEAD, items=ITEMS, participants=ORGS)

    assert valid.strata == (
        StratumRule("A", Ratio("3", "100")),
        StratumRule("B", Ratio("1", "10")),
        StratumRule("C", Ratio("3", "10")),
        StratumRule("D", 20),
    )
    assert valid.lead_expertise == "food_safety"
    assert [i.item_id for i in valid.items] == [FOOD, LABEL]


def test_other_with_note_commits_its_note_with_the_code():
    rule = ExclusionRule(ExclusionReason.OTHER_WITH_NOTE, note="停业装修")

    assert rule.committed_reason == "OTHER_WITH_NOTE:停业装修"
    assert ExclusionRule(ExclusionReason.DEREGISTERED).committed_reason == "DEREGISTERED"


# ---- the rule codes are all tested and all documented -------------------------------------------

DOMAIN = Path(__file__).parents[2] / "src/shuangsui/planning/domain"
DOCS = Path(__file__).parents[4] / "docs/planning.md"


def _codes_in_source() -> set[str]:
    text = "".join(p.read_text() for p in DOMAIN.glob("batch*.py"))
    return set(re.findall(r'"(batch-[a-z-]+)"', text))


def test_every_draft_rule_is_exercised_by_a_case():
    lifecycle = {"batch-transition", "batch-cancel-reason", "batch-code", "batch-code-exhausted"}
    exercised = {rule for _, _, expected in CASES for rule, _ in expected} | {
        "batch-lead-not-plan-owner",
        "batch-org-not-active",
        "batch-policy-missing",  # and the conflict: publication_breaches, tested below
        "batch-unclassified-treatment-conflict",
    }
    assert _codes_in_source() - lifecycle - exercised == set()


def test_every_rule_code_is_documented():
    documented = set(re.findall(r"`(batch-[a-z-]+)`", DOCS.read_text()))

    assert _codes_in_source() - documented == set()


# ---- what publication announces --------------------------------------------------------------

SCHEMAS = Path(__file__).parents[4] / "libs/contracts/schemas"
PUBLISHED_AT = datetime(2026, 3, 15, 2, 0, tzinfo=UTC)
BATCH_ID = UUID("00000000-0000-4000-8000-0000000000d1")
PUBLICATION = Publication(
    batch_id=BATCH_ID,
    batch_code="330106202603150001",
    plan_code="33010620260001",
    plan_version=1,
    policies={
        item_id: PolicyFacts(UUID("00000000-0000-4000-8000-0000000000e1"), "province")
        for item_id in ITEMS
    },
    published_at=PUBLISHED_AT,
)
JOINT_DIRECTED = replace(
    VALID,
    item_ids=(FOOD, LABEL, HYGIENE),
    draw_mode=DrawMode.directed,
    scope=Scope(("330106",), subject_types=("enterprise",), risk_classes=("B", "C", "D")),
    quantity={"D": 20, "C": "30%", "B": "12.5%"},
    joint_kind=JointKind.cross_department,
    participant_org_ids=(HEALTH_ID,),
    selection_mode=SelectionMode.station_group,
    station_group=("330106-01", "330106-02"),
    methods=(Method.on_site, Method.documentary),
    entry_deadline_rule=WorkdaysAfterTaskStart(10),
    exclusion_policy=(
        ExclusionRule(ExclusionReason.INSPECTED_RECENTLY, months=12),
        ExclusionRule(ExclusionReason.OTHER_WITH_NOTE, note="停业装修"),
    ),
)


def _valid(draft: BatchDraft = JOINT_DIRECTED) -> ValidBatch:
    return validate_draft(draft, plan=PLAN, lead=LEAD, items=ITEMS, participants=ORGS)


def _committed(event_type: str) -> jsonschema_rs.Validator:
    schema = json.loads((SCHEMAS / f"{event_type}.json").read_text(encoding="utf-8"))
    return jsonschema_rs.validator_for(schema)


def test_the_published_payload_carries_what_the_draw_needs_and_fits_the_committed_schema():
    payload = published_payload(_valid(), PUBLICATION)
    sent = json.loads(payload.model_dump_json())

    _committed(payload.event_type).validate(sent)
    assert sent["strata"] == [
        {"stratum": "B", "ratio": "1/8", "count": None},
        {"stratum": "C", "ratio": "3/10", "count": None},
        {"stratum": "D", "ratio": None, "count": 20},
    ]
    assert sent["lead_expertise"] == "food_safety"
    # One phase B per department (B.11), each with the lead rule of the items it checks.
    assert sent["participants"] == [
        {
            "org_id": str(HEALTH_ID),
            "org_code": "330106-WJ",
            "department_type": "health",
            "lead_expertise": "public_health",
        }
    ]
    assert sent["entry_deadline_rule"] == {"kind": "workdays_after_task_start", "workdays": 10}
    assert sent["exclusion_policy"][1] == {"reason": "OTHER_WITH_NOTE", "months": None,
                                           "note": "停业装修"}  # fmt: skip
    assert [i["item_id"] for i in sent["items"]] == [str(FOOD), str(LABEL), str(HYGIENE)]
    assert sent["items"][0]["min_ratio"] == "3/100"
    assert sent["items"][0]["subject_criteria"] == {
        "subject_types": ["enterprise", "individual"],
        "subject_tags": ["format:餐饮服务"],
    }
    assert sent["unclassified_drawn_as"] == "B"
    assert [p["item_id"] for p in sent["risk_ratio_policies"]] == [
        str(FOOD),
        str(LABEL),
        str(HYGIENE),
    ]
    assert (sent["window_end"], sent["team_size"]) == ("2026-06-30", 2)


def test_the_payload_of_an_undirected_batch_without_qualification_names_no_lead_rule():
    payload = published_payload(_valid(replace(VALID, item_ids=(LABEL,))), PUBLICATION)
    sent = json.loads(payload.model_dump_json())

    _committed(payload.event_type).validate(sent)
    assert sent["lead_expertise"] is None
    assert sent["entry_deadline_rule"] == {"kind": "window_end", "workdays": None}
    assert sent["station_group"] == []


def test_the_schema_refuses_a_ratio_that_is_not_reduced():
    sent = json.loads(published_payload(_valid(), PUBLICATION).model_dump_json())
    sent["strata"][0]["ratio"] = "25/1000"

    with pytest.raises(ValidationError):
        BatchPublished.model_validate(sent)


def test_a_batch_is_published_only_with_a_policy_for_each_item_agreeing_on_the_unclassified():
    valid = _valid()
    policies = dict(PUBLICATION.policies)
    del policies[LABEL]
    policies[HYGIENE] = PolicyFacts(None, "platform_default", unclassified_drawn_as="C")

    breaches = publication_breaches(valid, policies)

    assert {(b.rule, b.field) for b in breaches} == {
        ("batch-policy-missing", "item_ids[1]"),
        ("batch-unclassified-treatment-conflict", "item_ids"),
    }
    with pytest.raises(BatchRefused):
        published_payload(valid, replace(PUBLICATION, policies=policies))


def test_the_cancelled_payload_fits_the_committed_schema():
    payload = cancelled_payload(
        batch_id=BATCH_ID,
        batch_code="330106202603150001",
        plan_id=PLAN_ID,
        reason=" 计划调整：并入联合抽查 ",
        cancelled_from=BatchStatus.drawn,
        cancelled_at=PUBLISHED_AT,
    )
    sent = json.loads(payload.model_dump_json())

    _committed(payload.event_type).validate(sent)
    assert sent["reason"] == "计划调整：并入联合抽查"


def test_a_draft_is_never_announced_as_cancelled():
    with pytest.raises(ValidationError):
        cancelled_payload(
            batch_id=BATCH_ID,
            batch_code="330106202603150001",
            plan_id=PLAN_ID,
            reason="计划调整",
            cancelled_from=BatchStatus.draft,
            cancelled_at=PUBLISHED_AT,
        )


def test_the_footprint_keeps_the_item_types_the_scope_narrows_to():
    footprint = footprint_of(BATCH_ID, _valid())

    assert footprint.subject_types == {"enterprise"}
    assert footprint.risk_classes == {"B", "C", "D"}
    assert (footprint.window_start, footprint.window_end) == (VALID.window_start, VALID.window_end)


_percent = st.decimals(min_value=0, max_value=100, places=4).map(lambda d: f"{d.normalize():f}%")
_fraction = st.integers(1, 10**6).flatmap(lambda b: st.integers(0, b).map(lambda a: f"{a}/{b}"))
_quantity = st.one_of(_percent, _fraction, st.integers(0, 10**6))


@given(quantity=st.fixed_dictionaries({c: _quantity for c in "ABCD"}))
def test_valid_drafts_publish_ratios_as_reduced_fractions_of_what_was_written(quantity):
    draft = replace(VALID, item_ids=(LABEL,), quantity=quantity)
    breaches = check_draft(draft, plan=PLAN, lead=LEAD, items=ITEMS, participants=ORGS)
    assume(not breaches)  # all zero draws nothing

    sent = json.loads(published_payload(_valid(draft), PUBLICATION).model_dump_json())

    assert [s["stratum"] for s in sent["strata"]] == ["A", "B", "C", "D"]
    for stratum in sent["strata"]:
        written = quantity[stratum["stratum"]]
        if isinstance(written, int):
            assert stratum == {"stratum": stratum["stratum"], "ratio": None, "count": written}
            continue
        a, b = (int(part) for part in stratum["ratio"].split("/"))
        assert gcd(a, b) == 1
        assert 0 <= a <= b
        share = Fraction(written[:-1]) / 100 if written.endswith("%") else Fraction(written)
        assert Fraction(a, b) == share
