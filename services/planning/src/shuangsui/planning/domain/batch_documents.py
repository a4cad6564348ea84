"""A batch draft as a JSON document, in the draft's own field names: what the API reads and
answers and what the database keeps, so the three never drift apart."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from shuangsui.planning.domain.batch_values import (
    BatchDraft,
    DrawMode,
    EntryDeadlineRule,
    ExclusionReason,
    ExclusionRule,
    JointKind,
    Method,
    Origin,
    Scope,
    SelectionMode,
    WindowEnd,
    WorkdaysAfterTaskStart,
    WorkdaysAfterWindowEnd,
)


def draft_document(draft: BatchDraft) -> dict[str, Any]:
    scope = draft.scope
    rule = draft.entry_deadline_rule
    return {
        "name": draft.name,
        "item_ids": [str(i) for i in draft.item_ids],
        "scope": {
            "region_codes": list(scope.region_codes),
            "subject_types": list(scope.subject_types),
            "tag_filters": list(scope.tag_filters),
            "industry_codes": list(scope.industry_codes),
            "risk_classes": list(scope.risk_classes),
        },
        "quantity": dict(draft.quantity),
        "window_start": draft.window_start.isoformat(),
        "window_end": draft.window_end.isoformat(),
        "methods": [m.value for m in draft.methods],
        "selection_mode": draft.selection_mode.value,
        "origin": draft.origin.value,
        "key_supervision_item_id": _text(draft.key_supervision_item_id),
        "clue_ref": draft.clue_ref,
        "draw_mode": draft.draw_mode.value,
        "station_group": list(draft.station_group),
        "team_size": draft.team_size,
        "entry_deadline_rule": {
            "kind": rule.kind,
            "workdays": None if isinstance(rule, WindowEnd) else rule.workdays,
        },
        "exclusion_policy": [
            {"reason": e.reason.value, "months": e.months, "note": e.note}
            for e in draft.exclusion_policy
        ],
        "joint_kind": draft.joint_kind.value,
        "participant_org_ids": [str(o) for o in draft.participant_org_ids],
        "risk_domain": draft.risk_domain,
    }


def draft_of(document: Mapping[str, Any]) -> BatchDraft:
    """The draft a document describes; the document has been validated for its types (the API's
    model, or the database that only ever holds `draft_document`'s output)."""
    scope = document["scope"]
    key_item = document.get("key_supervision_item_id")
    return BatchDraft(
        name=document["name"],
        item_ids=tuple(UUID(str(i)) for i in document["item_ids"]),
        scope=Scope(
            region_codes=tuple(scope["region_codes"]),
            subject_types=tuple(scope.get("subject_types", ())),
            tag_filters=tuple(scope.get("tag_filters", ())),
            industry_codes=tuple(scope.get("industry_codes", ())),
            risk_classes=tuple(scope.get("risk_classes", ())),
        ),
        quantity=dict(document["quantity"]),
        window_start=_date(document["window_start"]),
        window_end=_date(document["window_end"]),
        methods=tuple(Method(m) for m in document["methods"]),
        selection_mode=SelectionMode(document["selection_mode"]),
        origin=Origin(document.get("origin", Origin.random)),
        key_supervision_item_id=UUID(str(key_item)) if key_item else None,
        clue_ref=document.get("clue_ref"),
        draw_mode=DrawMode(document.get("draw_mode", DrawMode.undirected)),
        station_group=tuple(document.get("station_group", ())),
        team_size=document.get("team_size", 2),
        entry_deadline_rule=_entry_rule(document.get("entry_deadline_rule")),
        exclusion_policy=tuple(
            ExclusionRule(ExclusionReason(e["reason"]), e.get("months"), e.get("note"))
            for e in document.get("exclusion_policy", ())
        ),
        joint_kind=JointKind(document.get("joint_kind", JointKind.none)),
        participant_org_ids=tuple(UUID(str(o)) for o in document.get("participant_org_ids", ())),
        risk_domain=document.get("risk_domain", "general"),
    )


def _entry_rule(rule: Mapping[str, Any] | None) -> EntryDeadlineRule:
    if rule is None or rule["kind"] == "window_end":
        return WindowEnd()
    # A workdays kind without its number is 0 days, which the rule refuses by name.
    workdays = rule.get("workdays") or 0
    if rule["kind"] == "workdays_after_window_end":
        return WorkdaysAfterWindowEnd(workdays)
    return WorkdaysAfterTaskStart(workdays)


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)
