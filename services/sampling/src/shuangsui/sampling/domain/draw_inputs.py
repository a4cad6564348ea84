"""A published batch, its population and its inspector pools, as the exact IDS-1 inputs
(DRAW_SPEC §3, §4 and its platform profile, Appendix B).

Two departments that build a draw of the same batch from the same rows must commit to the same
bytes, so every choice the spec leaves to the platform is fixed here once: the subject is its
USCC (B.1), its unit the station with jurisdiction, its stratum its risk class in the batch's
`risk_domain` with the unclassified drawn as `unclassified_drawn_as` (B.2, Q4), weight 1 (B.3),
ratios as the batch published them (B.4, already reduced), the team's task date the window end
and the lead's tag the batch's (B.5), exclusion reasons the B.7 codes, the scope from the
selection mode (B.9). A cross-department batch is one subject draw for all departments (team
null), then one team draw per department over its selection (B.11, R20).

Pure: rows in, `shuangsui.drawspec` values out. Which rows are the population (R15) and which
officers form a pool (R16–R18) is decided before; this module maps, it does not select, and the
lists are read back through the verifier's own checks before anything is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol, TypeVar
from uuid import UUID

from shuangsui.contracts.events.planning_batches import BatchPublished, StratumQuantity
from shuangsui.drawspec import (
    Conflict,
    DrawInputs,
    Exclusion,
    Inspector,
    Rejected,
    StratumRule,
    Subject,
    TeamRule,
)
from shuangsui.drawspec.builder import build_commitment
from shuangsui.drawspec.commitment import parse_ratio
from shuangsui.drawspec.jsontext import JsonValue
from shuangsui.drawspec.model import Beacon, Ratio
from shuangsui.drawspec.verification import check_strata_named
from shuangsui.sampling.domain.draws import DrawKind, DrawRuleError

B7_REASONS = (
    "INSPECTED_RECENTLY",
    "REGISTERED_RECENTLY",
    "UNDER_INVESTIGATION",
    "DEREGISTERED",
    "KEY_SUPERVISION_SEPARATE",
    "OTHER_WITH_NOTE",
)
ALL = Ratio("1", "1")
T = TypeVar("T")


class PopulationRow(Protocol):
    """A subject of the population (R15), as sampling's subjects read model holds it."""

    @property
    def uscc(self) -> str: ...
    @property
    def unit_code(self) -> str | None: ...  # the station with jurisdiction; None: none applies
    @property
    def risk_classes(self) -> Mapping[str, str]: ...  # domain → class ("general" → "B")


class PoolRow(Protocol):
    """An officer of a department's pool (eligible and in the selection mode already)."""

    @property
    def inspector_id(self) -> object: ...  # published as an opaque id: its str()
    @property
    def station_code(self) -> str | None: ...  # None: the bureau's head office
    @property
    def qualifications(self) -> Sequence[str]: ...  # 执法资格, the draw's expertise tags
    @property
    def cert_valid_until(self) -> date: ...


class ConflictRow(Protocol):
    """A declared conflict of interest (回避) from the directory (R19)."""

    @property
    def inspector_id(self) -> object: ...
    @property
    def subject_uscc(self) -> str: ...
    @property
    def withdrawn(self) -> bool: ...


@dataclass(frozen=True)
class ExclusionRow:
    """A subject taken out before the manifest is built, with its B.7 code; `note` is the public
    note of `OTHER_WITH_NOTE` (None: the batch's only such note)."""

    uscc: str
    reason: str
    note: str | None = None


@dataclass(frozen=True)
class DepartmentPool:
    """One department's officers and the conflicts declared for them."""

    members: Sequence[PoolRow]
    conflicts: Sequence[ConflictRow] = ()


@dataclass(frozen=True)
class DrawPlan:
    """Everything one IDS-1 draw commits to except its code, beacon and time."""

    kind: DrawKind
    org_id: UUID | None  # the department whose teams it draws; None for a subject draw
    department_type: str | None
    inputs: DrawInputs
    strata: tuple[StratumRule, ...]
    team: TeamRule | None

    def commitment(self, draw_code: str, beacon: Beacon, committed_at: str) -> dict[str, JsonValue]:
        """The commitment document (§4), checked as a verifier checks it."""
        return _checked(
            lambda: build_commitment(
                self.inputs,
                draw_id=draw_code,
                strata=self.strata,
                team=self.team,
                beacon=beacon,
                committed_at=committed_at,
            )
        )


def _checked(build: Callable[[], T]) -> T:
    """Run a drawspec check; its rejection becomes a refusal with the IDS-1 code as rule."""
    try:
        return build()
    except Rejected as rejection:
        raise DrawRuleError(rejection.code.value, rejection.message) from None


def _bytes(text: str) -> bytes:
    return text.encode("utf-8")


# ---- strata, subjects, exclusions ------------------------------------------------------------


def stratum_rule(quantity: StratumQuantity) -> StratumRule:
    """A batch stratum as the commitment's (B.4: the ratio is already the reduced fraction)."""
    if quantity.ratio is not None:
        return StratumRule(quantity.stratum, parse_ratio(quantity.ratio, "strata.ratio"))
    assert quantity.count is not None
    return StratumRule(quantity.stratum, quantity.count)


def strata_rules(batch: BatchPublished) -> tuple[StratumRule, ...]:
    return tuple(stratum_rule(q) for q in batch.strata)


def stratum_of(row: PopulationRow, batch: BatchPublished) -> str:
    """B.2: the class in the batch's classification; the unclassified as the batch says (Q4)."""
    return row.risk_classes.get(batch.risk_domain) or batch.unclassified_drawn_as


def manifest(batch: BatchPublished, population: Iterable[PopulationRow]) -> tuple[Subject, ...]:
    """§3.1 entries in byte order of USCC; a USCC twice, or a stratum the batch does not draw,
    is refused: the population and the batch disagree, and the draw would be rejected anyway."""
    named = {q.stratum for q in batch.strata}
    entries: dict[str, Subject] = {}
    outside: list[str] = []
    domain, unclassified = batch.risk_domain, batch.unclassified_drawn_as
    for row in population:
        if row.uscc in entries:
            raise DrawRuleError(
                "E_DUPLICATE", f"subject {row.uscc} is twice in the population", "population"
            )
        stratum = row.risk_classes.get(domain) or unclassified  # stratum_of, once per row
        if stratum not in named:
            outside.append(row.uscc)
        entries[row.uscc] = Subject(row.uscc, stratum, row.unit_code or "")
    if outside:
        raise DrawRuleError(
            "E_UNKNOWN_STRATUM",
            f"{len(outside)} subject(s) fall in a risk class the batch does not draw "
            f"(first: {outside[0]})",
            "population",
        )
    return tuple(entries[k] for k in sorted(entries, key=str.encode))  # _bytes, as a C method


def exclusion_reason(row: ExclusionRow, batch: BatchPublished) -> str:
    """The committed reason string (B.7): the code, or `OTHER_WITH_NOTE:<note>`; only a reason
    the batch's exclusion policy names may be used."""
    policy = [p for p in batch.exclusion_policy if p.reason == row.reason]
    if row.reason not in B7_REASONS or not policy:
        raise DrawRuleError(
            "draw-exclusion-reason",
            f"{row.uscc}: {row.reason!r} is not a reason of the batch's exclusion policy (B.7)",
            "exclusions",
        )
    if row.reason != "OTHER_WITH_NOTE":
        return row.reason
    notes = [p.note for p in policy if p.note]
    note = row.note if row.note is not None else (notes[0] if len(notes) == 1 else None)
    if note is None or note not in notes:
        raise DrawRuleError(
            "draw-exclusion-reason",
            f"{row.uscc}: OTHER_WITH_NOTE needs one of the batch's notes",
            "exclusions",
        )
    return f"OTHER_WITH_NOTE:{note}"


def exclusions(
    batch: BatchPublished, rows: Iterable[ExclusionRow], population: Iterable[str]
) -> tuple[Exclusion, ...]:
    """§3.2 entries in byte order, one per subject: a subject with several reasons keeps the
    first in the batch's policy order, so every department commits the same string. Only
    subjects of the population are listed: excluding anyone else removes nobody and would only
    publish a business's circumstances."""
    members = set(population)
    order: dict[str, int] = {}
    for i, p in enumerate(batch.exclusion_policy):
        order.setdefault(p.reason, i)
    chosen: dict[str, tuple[int, str]] = {}
    for row in rows:
        reason = exclusion_reason(row, batch)
        if row.uscc not in members:
            continue
        rank = order[row.reason]
        if row.uscc not in chosen or rank < chosen[row.uscc][0]:
            chosen[row.uscc] = (rank, reason)
    return tuple(Exclusion(k, chosen[k][1]) for k in sorted(chosen, key=_bytes))


# ---- inspectors, conflicts, team rules -------------------------------------------------------


def inspectors(pool: DepartmentPool) -> tuple[Inspector, ...]:
    """§3.3 entries: opaque id, the station as unit (`""` at the head office), qualifications as
    sorted unique tags, the certificate's last day; in byte order of the ids."""
    entries = [
        Inspector(
            inspector_id=str(m.inspector_id),
            unit=m.station_code or "",
            expertise=tuple(sorted(set(m.qualifications), key=_bytes)),
            cert_valid_until=m.cert_valid_until.isoformat(),
        )
        for m in pool.members
    ]
    return tuple(sorted(entries, key=lambda i: _bytes(i.inspector_id)))


def conflicts(
    pool: DepartmentPool, officers: Iterable[Inspector], subjects: Iterable[Subject]
) -> tuple[Conflict, ...]:
    """§3.4 pairs that can matter: not withdrawn, an officer of this pool and a subject of this
    manifest, each pair once, in (subject, inspector) byte order. Other pairs change nothing
    (§3.4) but would publish an officer's relationships."""
    ids = {i.inspector_id for i in officers}
    usccs = {s.subject_id for s in subjects}
    pairs = {
        (c.subject_uscc, str(c.inspector_id))
        for c in pool.conflicts
        if not c.withdrawn and str(c.inspector_id) in ids and c.subject_uscc in usccs
    }
    ordered = sorted(pairs, key=lambda p: (_bytes(p[0]), _bytes(p[1])))
    return tuple(Conflict(s, i) for s, i in ordered)


def team_rule(batch: BatchPublished, org_id: UUID) -> TeamRule:
    """§4.1 `team` for one department (B.5, B.9, B.11): the batch's team size, that department's
    lead qualification, certificates valid through the window end. The lead department keeps to
    the subject's station only in `single_station` mode; a partner department draws over all its
    own officers (it has no stations of the lead's bureau)."""
    scope: Literal["all", "same-unit"] = "all"
    if org_id == batch.org_id:
        lead = batch.lead_expertise
        if batch.selection_mode == "single_station":
            scope = "same-unit"
    else:
        participant = next((p for p in batch.participants if p.org_id == org_id), None)
        if participant is None:
            raise DrawRuleError(
                "draw-not-a-department", f"org {org_id} takes no part in the batch", "org_id"
            )
        lead = participant.lead_expertise
    return TeamRule(
        size=batch.team_size,
        lead_expertise=lead,
        scope=scope,
        task_date=batch.window_end.isoformat(),
    )


def departments(batch: BatchPublished) -> tuple[tuple[UUID, str], ...]:
    """The departments that draw teams, lead first then participants in the batch's order. Only
    a cross-department batch has several (R20); an internal joint batch is one department."""
    lead = ((batch.org_id, batch.department_type),)
    if batch.joint_kind != "cross_department":
        return lead
    return lead + tuple((p.org_id, p.department_type) for p in batch.participants)


def is_joint(batch: BatchPublished) -> bool:
    return batch.joint_kind == "cross_department"


def _inputs(
    subjects: tuple[Subject, ...],
    excluded: tuple[Exclusion, ...],
    officers: tuple[Inspector, ...],
    pairs: tuple[Conflict, ...],
    strata: tuple[StratumRule, ...],
) -> DrawInputs:
    """The lists, read back through the verifier's own steps 1, 2, 4 and 5, so that a list it
    would reject (a tag with a comma, an empty id, a wrong order) is refused before the commit
    rather than found after the randomness exists."""
    lists = DrawInputs(subjects, excluded, officers, pairs).to_json()

    def check() -> DrawInputs:
        inputs = DrawInputs.from_json(
            lists["manifest"], lists["exclusions"], lists["inspectors"], lists["conflicts"]
        )
        check_strata_named(strata, inputs.manifest)
        return inputs

    return _checked(check)


# ---- the draws of a batch --------------------------------------------------------------------


def subject_draw(
    batch: BatchPublished,
    population: Iterable[PopulationRow],
    excluded: Iterable[ExclusionRow] = (),
    pool: DepartmentPool | None = None,
) -> DrawPlan:
    """The batch's subject draw. `population` is every subject R15 admits, the excluded among
    them too: they leave the manifest here and are listed, with their reason, in the committed
    exclusions (§3.2). A single-department batch draws its teams in the same draw (`combined`,
    `pool` required); a cross-department batch draws subjects only (`team = null`, B.11)."""
    rows = list(population)
    removed = exclusions(batch, excluded, (r.uscc for r in rows))
    gone = {e.subject_id for e in removed}
    subjects = manifest(batch, (r for r in rows if r.uscc not in gone))
    strata = strata_rules(batch)
    if is_joint(batch):
        return DrawPlan(
            DrawKind.subjects, None, None, _inputs(subjects, removed, (), (), strata), strata, None
        )
    if pool is None:
        raise DrawRuleError("draw-no-pool", "a combined draw needs the department's pool", "pool")
    officers = inspectors(pool)
    pairs = conflicts(pool, officers, subjects)
    return DrawPlan(
        DrawKind.combined,
        batch.org_id,
        batch.department_type,
        _inputs(subjects, removed, officers, pairs, strata),
        strata,
        team_rule(batch, batch.org_id),
    )


def team_draw(
    batch: BatchPublished,
    subjects_plan: DrawPlan,
    subjects_result: Mapping[str, JsonValue],
    org_id: UUID,
    pool: DepartmentPool,
) -> DrawPlan:
    """One department's team draw over a completed subject draw (B.11): its manifest is the
    selected subjects with their strata and units, every stratum `1/1`, no exclusions, the
    department's own officers and conflicts and team parameters. Phase A then selects everyone
    and phase B assigns that department's teams (R20)."""
    if subjects_plan.kind is not DrawKind.subjects:
        raise DrawRuleError(
            "draw-subjects-not-completed", "team draws follow a joint batch's subject draw"
        )
    by_id = {s.subject_id: s for s in subjects_plan.inputs.manifest}
    strata = subjects_result.get("strata")
    assert isinstance(strata, list)
    selected: list[Subject] = []
    for stratum in strata:
        assert isinstance(stratum, dict)
        assert isinstance(stratum["selected"], list)
        selected += [by_id[str(uscc)] for uscc in stratum["selected"]]
    subjects = tuple(sorted(selected, key=lambda s: _bytes(s.subject_id)))
    rules = tuple(StratumRule(r.stratum, ALL) for r in subjects_plan.strata)
    officers = inspectors(pool)
    pairs = conflicts(pool, officers, subjects)
    department = dict(departments(batch)).get(org_id)
    if department is None:
        raise DrawRuleError(
            "draw-not-a-department", f"org {org_id} takes no part in the batch", "org_id"
        )
    return DrawPlan(
        DrawKind.teams,
        org_id,
        department,
        _inputs(subjects, (), officers, pairs, rules),
        rules,
        team_rule(batch, org_id),
    )
