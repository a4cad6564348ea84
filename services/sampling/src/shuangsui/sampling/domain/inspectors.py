"""The inspector pool a batch's teams are drawn from (R16–R19, DRAW_SPEC §8 and B.5, B.9–B.11),
as the registry's inspector events told sampling: who may be drawn for one department's team
phase, under which team scope, and which declared conflicts the draw must respect.

Pure: the directory's rows come in, the IDS-1 inputs (`Inspector`, `Conflict`, `TeamRule` of
`shuangsui.drawspec.model`) go out. The draw itself (candidates, ranking, load cap, leads) is
`shuangsui.drawspec.phase_b`'s; nothing here ranks or picks anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Generic, Literal, TypeVar
from uuid import UUID

from shuangsui.contracts.regions import InvalidRegionCode, contains
from shuangsui.drawspec.model import Conflict, Inspector, TeamRule

ACTIVE = "active"
T = TypeVar("T")
InspectorStatus = Literal["active", "suspended", "on_leave", "left"]
OrgLevel = Literal["national", "provincial", "city", "county", "station"]


class SelectionMode(StrEnum):
    """The batch's 选派模式 (R16), as `planning.batch.published.v1` names it."""

    bureau_wide = "bureau_wide"  # 全局内随机
    hq_and_stations = "hq_and_stations"  # 局机关与所随机
    station_group = "station_group"  # 若干所内随机
    single_station = "single_station"  # 单一所内随机


@dataclass(frozen=True)
class PoolInspector:
    """An officer as the latest `registry.inspector.upserted.v1` described them. No name and no
    certificate number: sampling publishes inspectors as opaque ids only, and the registry keeps
    the personal data."""

    inspector_id: UUID
    org_code: str  # the officer's bureau (局), by its public unit code
    region_code: str  # that bureau's jurisdiction
    station_code: str | None  # the station (所); None = the bureau's head office (局机关)
    department_type: str
    qualifications: tuple[str, ...]  # 执法资格: the draw's `expertise` tags
    specialties: tuple[str, ...]
    cert_valid_until: date
    status: InspectorStatus
    version: int


@dataclass(frozen=True)
class DeclaredConflict:
    """A conflict of interest (回避) as its latest `registry.inspector.conflict_declared.v1`
    left it; a withdrawn declaration is kept for the record but recuses nobody (R19)."""

    conflict_id: UUID
    inspector_id: UUID
    subject_uscc: str
    since: date
    source: Literal["directory", "inspector", "subject_application"]
    withdrawn: bool
    inspector_version: int


@dataclass(frozen=True)
class TeamPhase:
    """One department's team phase of a batch (B.5, B.11): whose officers it draws, in which
    mode, how many per team, which qualification the lead must hold and the day certificates
    must last to (`window_end`). A joint batch has one per department: the lead's with the
    batch's selection mode, each participant's over its own org (`participant_phase`)."""

    org_code: str
    org_level: OrgLevel
    org_region_code: str
    department_type: str
    selection_mode: SelectionMode
    station_group: tuple[str, ...]
    team_size: int
    lead_expertise: str | None
    task_date: date


def participant_phase(lead: TeamPhase, org_code: str, department_type: str,
                      lead_expertise: str | None) -> TeamPhase:  # fmt: skip
    """A partner department's phase (R20: each department draws from its own pool). The four
    modes are the county market-supervision bureau's choice of its own stations (R16); a
    partner has no stations of that bureau, so it draws over all its own officers."""
    return TeamPhase(
        org_code=org_code, org_level=lead.org_level, org_region_code=lead.org_region_code,
        department_type=department_type, selection_mode=SelectionMode.hq_and_stations,
        station_group=(), team_size=lead.team_size, lead_expertise=lead_expertise,
        task_date=lead.task_date,
    )  # fmt: skip


def is_eligible(inspector: PoolInspector, phase: TeamPhase) -> bool:
    """R17 for any team of the phase: active, of the phase's department, and a certificate valid
    through the window end (B.5; the draw checks it again against `task_date`). Left out here
    rather than left to the draw, the lapsed do not count in the load cap's `|I|` (§8.4)."""
    return (
        inspector.status == ACTIVE
        and inspector.department_type == phase.department_type
        and inspector.cert_valid_until >= phase.task_date
    )


def draws_per_county(phase: TeamPhase) -> bool:
    """B.10: a `bureau_wide` phase of a bureau above the counties is one draw per county pool."""
    return phase.selection_mode is SelectionMode.bureau_wide and phase.org_level in (
        "national", "provincial", "city",
    )  # fmt: skip


def in_mode(inspector: PoolInspector, phase: TeamPhase) -> bool:
    """Whether the officer belongs to the phase's pool under its selection mode (R16, B.9).

    - `bureau_wide`, `hq_and_stations`: the bureau's head office and all its stations, one pool
      (Q7: no composition rule). A bureau above the counties draws `bureau_wide` per county
      (B.10): its pool is the officers of the bureaus within its jurisdiction (not its own head
      office's), split by their region in `county_pools`.
    - `station_group`: the bureau's officers at the stations the batch lists.
    - `single_station`: the bureau's station officers; the draw keeps each subject to its own
      station (`scope = "same-unit"`). Head-office officers have no station and would match
      only subjects without one, so they are left out.
    A station leading a batch draws from its own officers in every mode.
    """
    if phase.org_level == "station":
        return inspector.station_code == phase.org_code
    if draws_per_county(phase):
        # The bureau's own head office is no county's: B.10 pools the counties' officers.
        return inspector.org_code != phase.org_code and _within(
            phase.org_region_code, inspector.region_code
        )
    if inspector.org_code != phase.org_code:
        return False
    if phase.selection_mode is SelectionMode.station_group:
        return inspector.station_code in phase.station_group
    if phase.selection_mode is SelectionMode.single_station:
        return inspector.station_code is not None
    return True


def _within(scope: str, region: str) -> bool:
    try:
        return contains(scope, region)
    except InvalidRegionCode:
        return False


def scope_of(phase: TeamPhase) -> Literal["all", "same-unit"]:
    """B.9: only `single_station` keeps a team to the subject's own station."""
    return "same-unit" if phase.selection_mode is SelectionMode.single_station else "all"


def team_rule(phase: TeamPhase) -> TeamRule:
    """The commitment's `team` object for the phase (§4.1, B.5)."""
    return TeamRule(
        size=phase.team_size,
        lead_expertise=phase.lead_expertise,
        scope=scope_of(phase),
        task_date=phase.task_date.isoformat(),
    )


@dataclass(frozen=True)
class InspectorPool:
    """The officers one phase-B draw commits to, in manifest order (byte order of their ids).
    `county` names the county of a B.10 per-county pool; None when the phase has one pool."""

    phase: TeamPhase
    members: tuple[PoolInspector, ...]
    county: str | None = None

    @property
    def inspector_ids(self) -> frozenset[UUID]:
        return frozenset(m.inspector_id for m in self.members)

    def manifest(self) -> tuple[Inspector, ...]:
        """The inspector list of §3.3: opaque ids, the station as `unit` (`""` at the head
        office), the qualifications (执法资格) as `expertise`, the certificate's last day."""
        return tuple(draw_inspector(m) for m in self.members)

    def team_rule(self) -> TeamRule:
        return team_rule(self.phase)


def draw_inspector(inspector: PoolInspector) -> Inspector:
    return Inspector(
        inspector_id=str(inspector.inspector_id),
        unit=inspector.station_code or "",
        # §3.3 wants the tags strictly ascending by bytes; str order is code-point order, which
        # is UTF-8 byte order. The registry sends them sorted, but a copy costs nothing.
        expertise=tuple(sorted(set(inspector.qualifications))),
        cert_valid_until=inspector.cert_valid_until.isoformat(),
    )


def _manifest_order(inspectors: Iterable[PoolInspector]) -> tuple[PoolInspector, ...]:
    return tuple(sorted(inspectors, key=lambda i: str(i.inspector_id).encode()))


def pool_of(phase: TeamPhase, inspectors: Iterable[PoolInspector]) -> InspectorPool:
    """The phase's whole pool: eligible (R17) and within its selection mode (R16)."""
    found = (i for i in inspectors if is_eligible(i, phase) and in_mode(i, phase))
    return InspectorPool(phase, _manifest_order(found))


def county_pools(phase: TeamPhase, inspectors: Iterable[PoolInspector]) -> list[InspectorPool]:
    """The pools the phase's draws use: one per county for a `bureau_wide` batch of a bureau
    above the counties (B.10: `scope = "all"` would otherwise mix the counties' officers), in
    county code order, else the one pool of `pool_of`. A county with no eligible officer has no
    pool: its subjects' draw is refused as infeasible before commit (R18)."""
    whole = pool_of(phase, inspectors)
    if not draws_per_county(phase):
        return [whole]
    by_county: dict[str, list[PoolInspector]] = {}
    for member in whole.members:
        by_county.setdefault(member.region_code, []).append(member)
    return [
        InspectorPool(phase, tuple(members), county)
        for county, members in sorted(by_county.items())
    ]


@dataclass(frozen=True)
class CountySplit(Generic[T]):
    """A B.10 batch's population split over its county pools: each pool with the subjects of
    its county (a county without subjects has nothing to draw and is left out), and the
    subjects of no county pool."""

    drawn: tuple[tuple[InspectorPool, tuple[T, ...]], ...]
    unplaced: tuple[T, ...]


def split_by_county(
    pools: Iterable[InspectorPool], subjects: Iterable[T], region_of: Callable[[T], str]
) -> CountySplit[T]:
    """Each subject to the pool of the county its region lies in (B.10: each county's subjects
    form the manifest of that county's draw). A subject of a region no pool covers (the
    bureau's own district without a county bureau's officers, say) is unplaced: no county's
    officers may be drawn for it, so the caller refuses rather than guess."""
    counties = [pool for pool in pools if pool.county is not None]
    found: dict[str, list[T]] = {}
    unplaced: list[T] = []
    for subject in subjects:
        home = next((p.county for p in counties if _within(p.county or "", region_of(subject))),
                    None)  # fmt: skip
        if home is None:
            unplaced.append(subject)
        else:
            found.setdefault(home, []).append(subject)
    drawn = tuple((p, tuple(found[p.county])) for p in counties if p.county in found)
    return CountySplit(drawn, tuple(unplaced))


def live_conflicts(
    pool: InspectorPool,
    declared: Iterable[DeclaredConflict],
    subject_ids: Collection[str] | None = None,
) -> tuple[Conflict, ...]:
    """The conflict list of §3.4 for a draw over `pool`: every declaration not withdrawn (R19)
    between one of its officers and, when `subject_ids` is given, one of the draw's subjects
    (by USCC, B.1), sorted by (subject, inspector) bytes, each pair once. Pairs naming others
    would change nothing (§3.4) yet publish the officer's relationships, so they stay out."""
    members = pool.inspector_ids
    pairs = {
        (c.subject_uscc, str(c.inspector_id))
        for c in declared
        if not c.withdrawn
        and c.inspector_id in members
        and (subject_ids is None or c.subject_uscc in subject_ids)
    }
    ordered = sorted(pairs, key=lambda p: (p[0].encode(), p[1].encode()))
    return tuple(Conflict(subject_id=s, inspector_id=i) for s, i in ordered)


@dataclass(frozen=True)
class PoolShortfall:
    """Why a pool cannot give any subject a full team, whatever the draw (R18, §8.6): fewer
    eligible officers than the team size, or none holding the lead's qualification. Per-subject
    feasibility (conflicts, same-station pools) is the draw preparation's to check."""

    pool: InspectorPool
    reason: Literal["insufficient_candidates", "no_qualified_lead"]
    missing_qualification: str | None = None


def shortfall(pool: InspectorPool) -> PoolShortfall | None:
    """The pool-wide shortfall, if any, with the spec's infeasibility names (§8.6)."""
    if len(pool.members) < pool.phase.team_size:
        return PoolShortfall(pool, "insufficient_candidates")
    lead = pool.phase.lead_expertise
    if lead is not None and not any(lead in m.qualifications for m in pool.members):
        return PoolShortfall(pool, "no_qualified_lead", lead)
    return None


def station_pools(pool: InspectorPool) -> Mapping[str, int]:
    """How many officers each station holds in a `single_station` pool (`same-unit`): a
    subject's team can only come from its own station's officers."""
    counts: dict[str, int] = {}
    for member in pool.members:
        if member.station_code is not None:
            counts[member.station_code] = counts.get(member.station_code, 0) + 1
    return counts
