"""Batches (抽查批次): what a department drafts, and every rule the draft must keep (R8–R18, R20,
DRAW_SPEC Appendix B), without I/O.

A batch is validated in the draw's own terms: its quantities become IDS-1 strata (reduced
fractions, B.4), its items' qualification the one lead rule (B.5), its exclusion policy the
reason codes of B.7. Whatever the draw could not express is refused here, before publication,
rather than at commitment time in sampling.

What the domain needs from elsewhere (the items in force, the plan, the orgs) comes in as small
fact objects; `check_draft` returns every breach at once, each with a stable rule code and the
field path it concerns, so the API can answer with field-level problem+json.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from shuangsui.drawspec.model import StratumRule
from shuangsui.planning.domain import batch_rules as rules_of
from shuangsui.planning.domain.batch_values import (
    MONTHS_REASONS,
    BatchDraft,
    BatchRefused,
    BatchRules,
    Breach,
    DrawMode,
    EntryDeadlineRule,
    ExclusionReason,
    ExclusionRule,
    ItemFacts,
    ItemGroup,
    JointKind,
    Method,
    OrgFacts,
    Origin,
    PlanFacts,
    Quantity,
    Scope,
    SelectionMode,
    ValidBatch,
    WindowEnd,
    WorkdaysAfterTaskStart,
    WorkdaysAfterWindowEnd,
    department_of,
)
from shuangsui.planning.domain.population import UNCLASSIFIED_DRAWN_AS, parse_ratio

__all__ = [
    "MONTHS_REASONS",
    "UNCLASSIFIED_DRAWN_AS",
    "BatchDraft",
    "BatchRefused",
    "BatchRules",
    "Breach",
    "DrawMode",
    "EntryDeadlineRule",
    "ExclusionReason",
    "ExclusionRule",
    "ItemFacts",
    "ItemGroup",
    "JointKind",
    "Method",
    "OrgFacts",
    "Origin",
    "PlanFacts",
    "Quantity",
    "Scope",
    "SelectionMode",
    "ValidBatch",
    "WindowEnd",
    "WorkdaysAfterTaskStart",
    "WorkdaysAfterWindowEnd",
    "check_draft",
    "department_of",
    "lead_qualification_of",
    "strata_of",
    "validate_draft",
]


def check_draft(
    draft: BatchDraft,
    *,
    plan: PlanFacts,
    lead: OrgFacts,
    items: Mapping[UUID, ItemFacts],
    participants: Mapping[UUID, OrgFacts],
    rules: BatchRules | None = None,
) -> list[Breach]:
    """Every breach of the draft, in field order; empty when it may be saved."""
    rules = rules or BatchRules()
    found: list[Breach] = []
    in_force = [items[i] for i in dict.fromkeys(draft.item_ids) if i in items and items[i].in_force]
    found += rules_of.name_breaches(draft)
    found += rules_of.items_breaches(draft, items)
    found += rules_of.scope_breaches(draft, lead, in_force)
    found += rules_of.origin_breaches(draft)
    found += rules_of.key_item_breaches(draft, items)
    found += rules_of.quantity_breaches(draft, in_force)
    found += rules_of.window_breaches(draft, plan)
    found += rules_of.methods_breaches(draft, in_force)
    found += rules_of.selection_breaches(draft, lead)
    found += rules_of.team_breaches(draft, rules)
    found += rules_of.lead_qualification_breaches(in_force, lead)
    found += rules_of.entry_deadline_breaches(draft, rules)
    found += rules_of.exclusions_breaches(draft, rules)
    found += rules_of.joint_breaches(draft, lead, participants, in_force)
    if lead.org_id != plan.org_id:
        found.append(
            Breach(
                "batch-lead-not-plan-owner",
                "plan_id",
                "the batch's lead org must be the org whose plan it belongs to",
            )
        )
    if not lead.active:
        found.append(Breach("batch-org-not-active", "org_id", "a closed org plans no batches"))
    return found


def validate_draft(
    draft: BatchDraft,
    *,
    plan: PlanFacts,
    lead: OrgFacts,
    items: Mapping[UUID, ItemFacts],
    participants: Mapping[UUID, OrgFacts],
    rules: BatchRules | None = None,
) -> ValidBatch:
    """The draft with its derived draw inputs; raises `BatchRefused` with every breach."""
    breaches = check_draft(
        draft, plan=plan, lead=lead, items=items, participants=participants, rules=rules
    )
    if breaches:
        raise BatchRefused(breaches)
    batch_items = tuple(items[i] for i in draft.item_ids)
    taking_part = tuple(participants[o] for o in draft.participant_org_ids)
    departments = {lead.department_type} | {o.department_type for o in taking_part}
    return ValidBatch(
        draft=draft,
        plan=plan,
        lead=lead,
        items=batch_items,
        participants=taking_part,
        strata=strata_of(draft.quantity),
        expertise={
            d: lead_qualification_of([i for i in batch_items if department_of(i, lead) == d])
            for d in sorted(departments)
        },
    )


def strata_of(quantity: Quantity) -> tuple[StratumRule, ...]:
    """The commitment's strata: B.4 reduced fractions or counts, ordered by class name."""
    return tuple(
        StratumRule(c, parse_ratio(v) if isinstance(v, str) else v)
        for c, v in sorted(quantity.items())
    )


def lead_qualification_of(items: Sequence[ItemFacts]) -> str | None:
    """B.5: the one qualification the items (of one department) require, or None when none
    requires one."""
    required = {i.required_qualification for i in items} - {None}
    if len(required) > 1:
        raise ValueError(
            f"items require different qualifications: {sorted(q or '' for q in required)}"
        )
    return next(iter(required), None)
