"""The rules a batch draft keeps, one function per part of the draft; `batches.check_draft`
runs them all and answers every breach at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from shuangsui.contracts.regions import InvalidRegionCode, validate_region_code
from shuangsui.planning.domain.batch_values import (
    CLUE_REF_MAX,
    COUNT_MAX,
    INDUSTRY_CODE,
    MONTHS_REASONS,
    NAME_MAX,
    NOTE_MAX,
    RISK_DOMAIN,
    TAG,
    TEAM_SIZE_MAX,
    UNIT_CODE,
    BatchDraft,
    BatchRules,
    Breach,
    DrawMode,
    ExclusionReason,
    ItemFacts,
    ItemGroup,
    JointKind,
    OrgFacts,
    Origin,
    PlanFacts,
    SelectionMode,
    WindowEnd,
    department_of,
)
from shuangsui.planning.domain.population import RISK_CLASSES, RatioNotValid, parse_ratio, share_of


def duplicates(values: Sequence[object], path: str) -> list[Breach]:
    seen: set[object] = set()
    found = []
    for index, value in enumerate(values):
        if value in seen:
            found.append(
                Breach("batch-duplicate-value", f"{path}[{index}]", f"{value} is named twice")
            )
        seen.add(value)
    return found


def name_breaches(draft: BatchDraft) -> list[Breach]:
    name = draft.name.strip()
    if not name or len(name) > NAME_MAX or name != draft.name:
        return [
            Breach(
                "batch-name",
                "name",
                f"1–{NAME_MAX} characters without surrounding spaces (批次名称)",
            )
        ]
    return []


def items_breaches(draft: BatchDraft, items: Mapping[UUID, ItemFacts]) -> list[Breach]:
    if not draft.item_ids:
        return [Breach("batch-items-required", "item_ids", "a batch checks at least one item (R8)")]
    found = duplicates(draft.item_ids, "item_ids")
    for index, item_id in enumerate(draft.item_ids):
        item = items.get(item_id)
        if item is None or not item.in_force:
            found.append(
                Breach(
                    "batch-item-not-in-force",
                    f"item_ids[{index}]",
                    f"item {item_id} is not in force in the plan's list (R1)",
                )
            )
    return found


def scope_breaches(draft: BatchDraft, lead: OrgFacts, items: Sequence[ItemFacts]) -> list[Breach]:
    scope = draft.scope
    found: list[Breach] = []
    if not scope.region_codes:
        found.append(
            Breach(
                "batch-scope-regions-required",
                "scope.region_codes",
                "name at least one region of your jurisdiction (R8)",
            )
        )
    prefix = lead.jurisdiction_prefix
    for index, code in enumerate(scope.region_codes):
        path = f"scope.region_codes[{index}]"
        try:
            validate_region_code(code, in_force=True)
        except InvalidRegionCode as exc:
            found.append(Breach("batch-scope-region-invalid", path, exc.detail))
            continue
        if not code.startswith(prefix):
            found.append(
                Breach(
                    "batch-scope-region-outside-jurisdiction",
                    path,
                    f"{code} lies outside the lead org's jurisdiction ({lead.region_code})",
                )
            )
    item_types = {t for i in items for t in i.subject_types}
    for index, subject_type in enumerate(scope.subject_types):
        if items and subject_type not in item_types:
            found.append(
                Breach(
                    "batch-scope-subject-type-not-in-items",
                    f"scope.subject_types[{index}]",
                    f"no item of the batch applies to {subject_type} subjects",
                )
            )
    for rule, name, values, pattern, what in (
        ("batch-scope-tag-invalid", "tag_filters", scope.tag_filters, TAG,
         "a tag is dimension:value, e.g. format:餐饮服务"),
        ("batch-scope-industry-code-invalid", "industry_codes", scope.industry_codes,
         INDUSTRY_CODE, "a GB/T 4754 code such as C or C1311"),
    ):  # fmt: skip
        for index, value in enumerate(values):
            if not pattern.fullmatch(value):
                found.append(Breach(rule, f"scope.{name}[{index}]", what))
    for index, risk_class in enumerate(scope.risk_classes):
        if risk_class not in RISK_CLASSES:
            found.append(
                Breach(
                    "batch-scope-risk-class-invalid",
                    f"scope.risk_classes[{index}]",
                    "a credit risk class is A, B, C or D",
                )
            )
    for name, values in (("region_codes", scope.region_codes), *scope.conditions.items()):
        found += duplicates(values, f"scope.{name}")
    if not RISK_DOMAIN.fullmatch(draft.risk_domain):
        found.append(
            Breach(
                "batch-risk-domain-invalid",
                "risk_domain",
                "general, or a field such as food (分类领域)",
            )
        )
    named = [name for name, values in scope.conditions.items() if values]
    if draft.draw_mode is DrawMode.undirected:
        found += [
            Breach(
                "batch-undirected-with-conditions",
                f"scope.{name}",
                "an undirected draw adds no conditions to the items' subjects (R15); make "
                "the batch directed or drop them",
            )
            for name in named
        ]
    elif not named:
        found.append(
            Breach(
                "batch-directed-without-conditions",
                "scope",
                "a directed draw names at least one condition: subject types, tags, "
                "industries or risk classes (R15)",
            )
        )
    return found


def key_item_breaches(draft: BatchDraft, items: Mapping[UUID, ItemFacts]) -> list[Breach]:
    """R9/R13: a key-supervision batch names one of its own items, a key item (重点检查事项)."""
    key = draft.key_supervision_item_id
    if draft.origin is not Origin.key_supervision or key is None:
        return []
    found = items.get(key)
    if key not in draft.item_ids or found is None or found.item_category != "key":
        return [
            Breach(
                "batch-key-supervision-item",
                "key_supervision_item_id",
                "the key-supervision item is one of the batch's items, in force and of the key "
                "category (重点检查事项, R9, R13)",
            )
        ]
    return []


def origin_breaches(draft: BatchDraft) -> list[Breach]:
    found: list[Breach] = []
    wants_key = draft.origin is Origin.key_supervision
    wants_clue = draft.origin is Origin.clue_targeted
    if wants_key and draft.key_supervision_item_id is None:
        found.append(
            Breach(
                "batch-origin-reference-required",
                "key_supervision_item_id",
                "a key-supervision batch names its key-supervision item (R9)",
            )
        )
    if not wants_key and draft.key_supervision_item_id is not None:
        found.append(
            Breach(
                "batch-origin-reference-unexpected",
                "key_supervision_item_id",
                f"only a key_supervision batch names one; this is {draft.origin}",
            )
        )
    clue = draft.clue_ref
    if wants_clue and (clue is None or not clue.strip() or len(clue) > CLUE_REF_MAX):
        found.append(
            Breach(
                "batch-origin-reference-required",
                "clue_ref",
                f"a clue-targeted batch names its clue record, 1–{CLUE_REF_MAX} characters (R9)",
            )
        )
    if not wants_clue and clue is not None:
        found.append(
            Breach(
                "batch-origin-reference-unexpected",
                "clue_ref",
                f"only a clue_targeted batch names one; this is {draft.origin}",
            )
        )
    return found


def quantity_breaches(draft: BatchDraft, items: Sequence[ItemFacts]) -> list[Breach]:
    found: list[Breach] = []
    drawn = draft.scope.drawn_classes
    floors = [i.min_ratio for i in items if i.min_ratio is not None]
    floor = max((share_of(r) for r in floors), default=None)
    draws_something = False
    for risk_class in drawn:
        if risk_class not in draft.quantity:
            found.append(
                Breach(
                    "batch-quantity-class-missing",
                    f"quantity.{risk_class}",
                    f"class {risk_class} is drawn, so it needs a ratio or a count "
                    "(R11; 0 draws none)",
                )
            )
    for named, value in draft.quantity.items():
        path = f"quantity.{named}"
        if named not in drawn:
            found.append(
                Breach(
                    "batch-quantity-class-outside-scope",
                    path,
                    f"class {named} is not drawn by this batch's scope",
                )
            )
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            found.append(Breach("batch-count-invalid", path, "a ratio such as 5% or a count"))
        elif isinstance(value, int):
            if not 0 <= value <= COUNT_MAX:
                found.append(
                    Breach(
                        "batch-count-invalid",
                        path,
                        "a count is a whole number of subjects, at least 0",
                    )
                )
            draws_something |= value > 0
        else:
            try:
                ratio = parse_ratio(value)
            except RatioNotValid as exc:
                found.append(Breach("batch-ratio-invalid", path, str(exc)))
                continue
            taken = share_of(ratio)
            draws_something |= taken > 0
            if floor is not None and taken < floor:
                found.append(
                    Breach(
                        "batch-ratio-below-item-minimum",
                        path,
                        f"{ratio} is below {floor}, the least share an item of the "
                        "batch requires (R11)",
                    )
                )
    if not found and not draws_something:
        found.append(
            Breach(
                "batch-quantity-draws-nothing",
                "quantity",
                "every class has 0: the batch would draw no subject",
            )
        )
    return found


def window_breaches(draft: BatchDraft, plan: PlanFacts) -> list[Breach]:
    found = [
        Breach(
            "batch-window-outside-plan-year",
            name,
            f"the window lies within {plan.year}, the plan's year",
        )
        for name, day in (("window_start", draft.window_start), ("window_end", draft.window_end))
        if day.year != plan.year
    ]
    if draft.window_start > draft.window_end:
        found.append(Breach("batch-window-order", "window_end", "the window ends before it starts"))
    return found


def methods_breaches(draft: BatchDraft, items: Sequence[ItemFacts]) -> list[Breach]:
    if not draft.methods:
        return [Breach("batch-methods-required", "methods", "at least one method (检查方式, R8)")]
    found = duplicates(draft.methods, "methods")
    for index, method in enumerate(draft.methods):
        refusing = [i.code for i in items if method not in i.allowed_methods]
        if refusing:
            found.append(
                Breach(
                    "batch-method-not-allowed-by-item",
                    f"methods[{index}]",
                    f"{method} is not a method of item {', '.join(refusing)} (R23)",
                )
            )
    return found


def selection_breaches(draft: BatchDraft, lead: OrgFacts) -> list[Breach]:
    group = draft.station_group
    if draft.selection_mode is not SelectionMode.station_group:
        if group:
            return [
                Breach(
                    "batch-station-group-unexpected",
                    "station_group",
                    "only the station_group mode names stations (R16)",
                )
            ]
        return []
    if not group:
        return [
            Breach(
                "batch-station-group-required",
                "station_group",
                "the station_group mode names the stations it draws from (R16)",
            )
        ]
    found = duplicates(group, "station_group")
    for index, code in enumerate(group):
        if not UNIT_CODE.fullmatch(code) or code not in lead.station_codes:
            found.append(
                Breach(
                    "batch-station-not-under-org",
                    f"station_group[{index}]",
                    f"{code} is not a station of {lead.code}",
                )
            )
    return found


def team_breaches(draft: BatchDraft, rules: BatchRules) -> list[Breach]:
    least = max((rules.min_team_size.get(m, 2) for m in draft.methods), default=2)
    if draft.team_size < least:
        return [
            Breach(
                "batch-team-size-too-small",
                "team_size",
                f"a team has at least {least} law-enforcement officers (R18)",
            )
        ]
    if draft.team_size > TEAM_SIZE_MAX:
        return [
            Breach(
                "batch-team-size-too-large",
                "team_size",
                f"a team has at most {TEAM_SIZE_MAX} officers (IDS-1)",
            )
        ]
    return []


def lead_qualification_breaches(items: Sequence[ItemFacts], lead: OrgFacts) -> list[Breach]:
    """B.5: one draw has one lead rule per team phase. A joint batch makes one phase B per
    department (B.11), so the items each department checks must agree on one qualification."""
    found = []
    for department in sorted({department_of(i, lead) for i in items}):
        own = [i for i in items if department_of(i, lead) == department]
        by_qualification: dict[str, list[UUID]] = {}
        for item in own:
            if item.required_qualification is not None:
                by_qualification.setdefault(item.required_qualification, []).append(item.item_id)
        if len(by_qualification) < 2:
            continue
        # Items that need no qualification of this department's lead can go with any group;
        # they join the first one.
        grouped = {i for ids in by_qualification.values() for i in ids}
        rest = tuple(i.item_id for i in items if i.item_id not in grouped)
        groups = sorted(by_qualification.items())
        split = tuple(
            ItemGroup(q, tuple(ids) + (rest if index == 0 else ()))
            for index, (q, ids) in enumerate(groups)
        )
        found.append(
            Breach(
                "batch-lead-qualification-conflict",
                "item_ids",
                f"the items {department} checks require different qualifications "
                f"({', '.join(q for q, _ in groups)}); one draw has one lead rule (DRAW_SPEC "
                "B.5): split the batch by qualification",
                proposed_split=split,
            )
        )
    return found


def entry_deadline_breaches(draft: BatchDraft, rules: BatchRules) -> list[Breach]:
    rule = draft.entry_deadline_rule
    if isinstance(rule, WindowEnd):
        return []
    if not 1 <= rule.workdays <= rules.max_entry_offset_workdays:
        return [
            Breach(
                "batch-entry-offset-invalid",
                "entry_deadline_rule.workdays",
                f"1–{rules.max_entry_offset_workdays} working days (R26)",
            )
        ]
    return []


def exclusions_breaches(draft: BatchDraft, rules: BatchRules) -> list[Breach]:
    found: list[Breach] = []
    seen: set[str] = set()
    for index, rule in enumerate(draft.exclusion_policy):
        path = f"exclusion_policy[{index}]"
        if rule.reason in MONTHS_REASONS:
            if rule.months is None or not 1 <= rule.months <= rules.max_exclusion_months:
                found.append(
                    Breach(
                        "batch-exclusion-months",
                        f"{path}.months",
                        f"{rule.reason} needs its period: 1–"
                        f"{rules.max_exclusion_months} months (B.7, R15)",
                    )
                )
        elif rule.months is not None:
            found.append(
                Breach("batch-exclusion-months", f"{path}.months", f"{rule.reason} has no period")
            )
        note = rule.note
        if rule.reason is ExclusionReason.OTHER_WITH_NOTE:
            if (
                note is None
                or not note.strip()
                or note != note.strip()
                or len(note) > NOTE_MAX
                or any(ch < " " for ch in note)
            ):
                found.append(
                    Breach(
                        "batch-exclusion-note",
                        f"{path}.note",
                        f"OTHER_WITH_NOTE needs a short public note, 1–{NOTE_MAX} "
                        "characters on one line (B.7)",
                    )
                )
        elif note is not None:
            found.append(
                Breach(
                    "batch-exclusion-note",
                    f"{path}.note",
                    f"only OTHER_WITH_NOTE carries a note, not {rule.reason}",
                )
            )
        key = (
            rule.committed_reason if rule.reason is ExclusionReason.OTHER_WITH_NOTE else rule.reason
        )
        if key in seen:
            found.append(
                Breach("batch-duplicate-value", f"{path}.reason", f"{rule.reason} is named twice")
            )
        seen.add(key)
    return found


def joint_breaches(
    draft: BatchDraft,
    lead: OrgFacts,
    participants: Mapping[UUID, OrgFacts],
    items: Sequence[ItemFacts],
) -> list[Breach]:
    kind = draft.joint_kind
    ids = draft.participant_org_ids
    if kind is JointKind.none:
        found = (
            [
                Breach(
                    "batch-participants-unexpected",
                    "participant_org_ids",
                    "a batch that is not joint has no participants",
                )
            ]
            if ids
            else []
        )
    else:
        found = duplicates(ids, "participant_org_ids")
    known: list[OrgFacts] = []
    for index, org_id in enumerate(ids if kind is not JointKind.none else ()):
        path = f"participant_org_ids[{index}]"
        org = participants.get(org_id)
        if org_id == lead.org_id:
            found.append(
                Breach(
                    "batch-participant-is-lead",
                    path,
                    "the lead org leads; it does not take part as well",
                )
            )
        elif org is None or not org.active:
            found.append(
                Breach(
                    "batch-participant-unknown", path, f"{org_id} is no active org of the directory"
                )
            )
        elif kind is JointKind.internal and org.department_type != lead.department_type:
            found.append(
                Breach(
                    "batch-internal-participant-other-department",
                    path,
                    f"an internal joint batch stays within {lead.department_type}; "
                    "another department makes it cross_department (R10, R20)",
                )
            )
        else:
            known.append(org)
    if kind is JointKind.cross_department and not any(
        o.department_type != lead.department_type for o in known
    ):
        found.append(
            Breach(
                "batch-cross-department-needs-partner",
                "participant_org_ids",
                "a cross-department batch has at least one participant of another "
                "department type (R20)",
            )
        )
    lead_items = [i for i in items if i.department_type in (None, lead.department_type)]
    if kind is JointKind.internal and len(lead_items) < 2:
        found.append(
            Breach(
                "batch-internal-needs-items",
                "item_ids",
                "an internal joint batch combines at least two items of the lead "
                "department in one visit (R10)",
            )
        )
    taking_part = {lead.department_type} | {o.department_type for o in known}
    for index, item_id in enumerate(draft.item_ids):
        item = next((i for i in items if i.item_id == item_id), None)
        if item is not None and item.department_type not in (None, *taking_part):
            found.append(
                Breach(
                    "batch-item-department-not-taking-part",
                    f"item_ids[{index}]",
                    f"item {item.code} is checked by {item.department_type}, which "
                    "does not take part in the batch",
                )
            )
    return found
