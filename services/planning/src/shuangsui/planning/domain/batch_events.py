"""What a validated batch announces when it is published or cancelled (DOMAIN §3.2).

The published payload is built from the validated batch alone, plus what only publication knows
(its code, the plan version, the policy it was checked against, the time), so sampling draws
exactly what was validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from shuangsui.contracts.events.planning_batches import BatchCancelled, BatchPublished
from shuangsui.planning.domain.batch_documents import draft_document
from shuangsui.planning.domain.batch_lifecycle import BatchStatus, cancellation_reason
from shuangsui.planning.domain.batch_values import (
    BatchRefused,
    Breach,
    ExclusionReason,
    RiskClass,
    ValidBatch,
    WindowEnd,
)

PolicySource = Literal[
    "org_item", "province_item", "org", "province", "national", "platform_default"
]


@dataclass(frozen=True)
class PolicyFacts:
    """The risk-ratio policy an item's quantities were checked against (R11), as the policies
    module resolved it."""

    policy_id: UUID | None  # None: the platform default, which has no row
    source: PolicySource
    unclassified_drawn_as: RiskClass = "B"  # Q4, as population.UNCLASSIFIED_DRAWN_AS


@dataclass(frozen=True)
class Publication:
    """What publishing adds to a validated batch: its code, the plan version, each item's
    policy, the time."""

    batch_id: UUID
    batch_code: str
    plan_code: str
    plan_version: int
    policies: Mapping[UUID, PolicyFacts]
    published_at: datetime


def publication_breaches(batch: ValidBatch, policies: Mapping[UUID, PolicyFacts]) -> list[Breach]:
    """A batch is published only with a policy for every item, and one draw has one treatment
    of the unclassified: the items' policies must agree on it."""
    found = [
        Breach("batch-policy-missing", f"item_ids[{index}]",
               f"no risk-ratio policy was resolved for item {item.code}")
        for index, item in enumerate(batch.items)
        if item.item_id not in policies
    ]  # fmt: skip
    treatments = {
        policies[i.item_id].unclassified_drawn_as for i in batch.items if i.item_id in policies
    }
    if len(treatments) > 1:
        found.append(
            Breach("batch-unclassified-treatment-conflict", "item_ids",
                   f"the items' policies draw the unclassified as different classes "
                   f"({', '.join(sorted(treatments))}); one draw has one (R11, Q4)")
        )  # fmt: skip
    return found


def published_payload(batch: ValidBatch, publication: Publication) -> BatchPublished:
    """The `planning.batch.published.v1` payload; raises `BatchRefused` when the policies do
    not allow publication (`publication_breaches`)."""
    breaches = publication_breaches(batch, publication.policies)
    if breaches:
        raise BatchRefused(breaches)
    policies = [publication.policies[i.item_id] for i in batch.items]
    draft = batch.draft
    rule = draft.entry_deadline_rule
    return BatchPublished.model_validate(
        {
            "batch_id": publication.batch_id,
            "batch_code": publication.batch_code,
            "name": draft.name,
            "plan_id": batch.plan.plan_id,
            "plan_code": publication.plan_code,
            "plan_version": publication.plan_version,
            "org_id": batch.lead.org_id,
            "org_code": batch.lead.code,
            "org_level": batch.lead.level,
            "org_region_code": batch.lead.region_code,
            "department_type": batch.lead.department_type,
            "joint_kind": draft.joint_kind.value,
            "participants": [
                {
                    "org_id": o.org_id,
                    "org_code": o.code,
                    "department_type": o.department_type,
                    "lead_expertise": batch.expertise[o.department_type],
                }
                for o in batch.participants
            ],
            "origin": draft.origin.value,
            "key_supervision_item_id": draft.key_supervision_item_id,
            "clue_ref": draft.clue_ref,
            "draw_mode": draft.draw_mode.value,
            "items": [
                {
                    "item_id": i.item_id,
                    "list_id": i.list_id,
                    "item_version": i.version,
                    "code": i.code,
                    "name": i.name,
                    "item_category": i.item_category,
                    "subject_criteria": {
                        "subject_types": list(i.subject_types),
                        "subject_tags": list(i.subject_tags),
                    },
                    "required_qualification": i.required_qualification,
                    "min_ratio": None if i.min_ratio is None else str(i.min_ratio),
                    "department_type": i.department_type,
                }
                for i in batch.items
            ],
            "scope": draft_document(draft)["scope"],
            "risk_domain": draft.risk_domain,
            "strata": [
                {"stratum": s.stratum, "ratio": str(s.rule), "count": None}
                if not isinstance(s.rule, int)
                else {"stratum": s.stratum, "ratio": None, "count": s.rule}
                for s in batch.strata
            ],
            "unclassified_drawn_as": policies[0].unclassified_drawn_as,
            "risk_ratio_policies": [
                {"item_id": i.item_id, "policy_id": p.policy_id, "source": p.source}
                for i, p in zip(batch.items, policies, strict=True)
            ],
            "window_start": draft.window_start,
            "window_end": draft.window_end,
            "methods": [m.value for m in draft.methods],
            "selection_mode": draft.selection_mode.value,
            "station_group": list(draft.station_group),
            "team_size": draft.team_size,
            "lead_expertise": batch.lead_expertise,
            "entry_deadline_rule": {
                "kind": rule.kind,
                "workdays": None if isinstance(rule, WindowEnd) else rule.workdays,
            },
            "exclusion_policy": [
                {
                    "reason": e.reason.value,
                    "months": e.months,
                    "note": e.note if e.reason is ExclusionReason.OTHER_WITH_NOTE else None,
                }
                for e in draft.exclusion_policy
            ],
            "published_at": publication.published_at,
        }
    )


def cancelled_payload(
    *,
    batch_id: UUID,
    batch_code: str,
    plan_id: UUID,
    reason: str,
    cancelled_from: BatchStatus,
    cancelled_at: datetime,
) -> BatchCancelled:
    # The model itself refuses a status a batch is never cancelled from.
    return BatchCancelled.model_validate(
        {
            "batch_id": batch_id,
            "batch_code": batch_code,
            "plan_id": plan_id,
            "reason": cancellation_reason(reason),
            "cancelled_from": cancelled_from.value,
            "cancelled_at": cancelled_at,
        }
    )
