"""Draws (抽取): preparing a batch's draw from sampling's own read models, committing it before
any randomness exists, and the public reads of both (DOMAIN §3.3, DRAW_SPEC §14.1).

A draw is prepared only from read models that are current (ADR 0003: never a call to the
registry or planning while drawing) and only by the batch's lead department (R14). The commitment
and `sampling.draw.committed.v1` are written in one transaction, under the batch's row lock, so
the document is public the moment it exists and before anyone could know the beacon (§14.1).
Everything IDS-1 defines is `shuangsui.drawspec`'s, through the domain modules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.contracts.regions import scope_prefix
from shuangsui.contracts.workdays import shanghai_date
from shuangsui.drawspec.drand import QUICKNET_CHAIN_HASH
from shuangsui.drawspec.jsontext import JsonValue
from shuangsui.drawspec.model import Beacon, DrandBeacon, Ratio, StratumRule, TeamRule
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.faults import crash_point
from shuangsui.messaging.envelope import Outgoing
from shuangsui.sampling.adapters import batches as batches_repo
from shuangsui.sampling.adapters import draws as repo
from shuangsui.sampling.adapters import inspectors as inspectors_repo
from shuangsui.sampling.adapters import subjects as subjects_repo
from shuangsui.sampling.adapters.draws import LiveDrawExists, StoredDraw
from shuangsui.sampling.adapters.subjects import PopulationQuery, PopulationSubject
from shuangsui.sampling.domain import beacons
from shuangsui.sampling.domain import draw_inputs as mapping
from shuangsui.sampling.domain import inspectors as pool_rules
from shuangsui.sampling.domain.batches import lead_phase, team_phases
from shuangsui.sampling.domain.draw_events import (
    draw_committed,
)
from shuangsui.sampling.domain.draws import (
    Draw,
    DrawAction,
    DrawRuleError,
    DrawStatus,
    DrawSummary,
    live_subject_draw,
    next_draw_code,
    next_status,
    parse_draw_code,
    prepared_draw,
)
from shuangsui.sampling.domain.subjects import Lag
from shuangsui.sampling.service import draw_access as access
from shuangsui.sampling.service import draw_batches
from shuangsui.sampling.service import draw_exclusions as excluding
from shuangsui.sampling.service import draw_feasibility as feasibility
from shuangsui.sampling.service import inspectors as inspectors_service
from shuangsui.sampling.service.subjects import subjects_lag

# ---- the population (R15) and the lead's pool (R16–R18) ---------------------------------------


def population_query(batch: BatchPublished) -> PopulationQuery:
    """R15: active subjects of the batch's regions in scope of one of its items; a directed
    batch narrows them by the scope's conditions (the risk classes are applied on the rows)."""
    scope = batch.scope
    directed = batch.draw_mode == "directed"
    tags: dict[str, list[str]] = {}
    if directed:
        for tag in scope.tag_filters:
            dimension, value = tag.split(":", 1)
            tags.setdefault(dimension, []).append(value)
    return PopulationQuery(
        region_prefixes=[scope_prefix(code) for code in scope.region_codes],
        item_ids=[item.item_id for item in batch.items],
        risk_domain=batch.risk_domain,
        subject_types=scope.subject_types if directed else (),
        industry_codes=scope.industry_codes if directed else (),
        tags=tags,
    )


def in_risk_classes(batch: BatchPublished, rows: Sequence[PopulationSubject]) -> list[Any]:
    """A directed batch's risk classes, read as each subject's stratum (B.2, Q4)."""
    wanted = batch.scope.risk_classes
    if batch.draw_mode != "directed" or not wanted:
        return list(rows)
    return [r for r in rows if mapping.stratum_of(r, batch) in wanted]


def _checked(pool: pool_rules.InspectorPool) -> pool_rules.InspectorPool:
    """The pool, unless it cannot make any team (R18): then the draw is refused before commit."""
    short = pool_rules.shortfall(pool)
    if short is None:
        return pool
    whose = f"county {pool.county}'s" if pool.county is not None else "the department's"
    detail = f"{whose} pool of {len(pool.members)} cannot make a team"
    if short.missing_qualification is not None:
        detail += f": nobody holds {short.missing_qualification}"
    # `county_code` is null for a batch drawn from one pool.
    raise p.Problem(access.DRAW_REFUSED, detail, rule=short.reason, field="inspectors",
                    county_code=pool.county)  # fmt: skip


def _county_parts(
    pools: Sequence[pool_rules.InspectorPool], rows: Sequence[PopulationSubject]
) -> list[tuple[pool_rules.InspectorPool, Sequence[PopulationSubject]]]:
    """B.10: each county pool with its county's subjects; a subject of no county is refused."""
    split = pool_rules.split_by_county(pools, rows, lambda r: r.region_code)
    if split.unplaced:
        named = sorted(r.uscc for r in split.unplaced)
        raise p.Problem(
            access.DRAW_REFUSED,
            f"{len(named)} subject(s) lie in no county with officers of the batch's department "
            f"(B.10), e.g. {', '.join(named[:5])}: no county's draw may take them",
            rule="draw-county-no-pool", field="population", subjects=named[:100],
        )  # fmt: skip
    if not split.drawn:
        raise p.Problem(
            access.DRAW_REFUSED, "no county of the batch has a subject to draw (B.10)",
            rule="draw-county-no-subjects", field="population",
        )  # fmt: skip
    return [(_checked(pool), part) for pool, part in split.drawn]


# ---- the stored inputs ----------------------------------------------------------------------


def _rule_json(rule: StratumRule) -> dict[str, JsonValue]:
    entry: dict[str, JsonValue] = {"stratum": rule.stratum}
    if isinstance(rule.rule, Ratio):
        entry["ratio"] = str(rule.rule)
    else:
        entry["count"] = rule.rule
    return entry


def _team_json(team: TeamRule | None) -> JsonValue:
    if team is None:
        return None
    return {"size": team.size, "lead_expertise": team.lead_expertise, "scope": team.scope,
            "task_date": team.task_date}  # fmt: skip


def _inputs_json(plan: mapping.DrawPlan) -> dict[str, JsonValue]:
    return {
        **plan.inputs.to_json(),
        "strata": [_rule_json(r) for r in plan.strata],
        "team": _team_json(plan.team),
    }


def _population(plan: mapping.DrawPlan) -> list[dict[str, Any]]:
    """Each stratum's rule and how many subjects of the manifest it draws from (R12)."""
    sizes: dict[str, int] = {}
    for subject in plan.inputs.manifest:
        sizes[subject.stratum] = sizes.get(subject.stratum, 0) + 1
    return [
        {"stratum": r.stratum, "rule": str(r.rule), "population": sizes.get(r.stratum, 0)}
        for r in plan.strata
    ]


# ---- prepare ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawRequest:
    """What a prepare asks for: the batch's subject draw (`subjects`, one per county for B.10),
    or one department's team draw over the completed subject draw of a cross-department batch
    (`teams` with the department's `org_id`, B.11)."""

    kind: Literal["subjects", "teams"] = "subjects"
    org_id: UUID | None = None
    # The subjects the department excludes, with their B.7 codes (`service.draw_exclusions`).
    exclusions: tuple[mapping.ExclusionRow, ...] = ()
    # Rebuild the decision's prepared (never committed) draw in place instead of refusing.
    refresh: bool = False


@dataclass(frozen=True)
class _Part:
    """One draw to prepare: its plan, and the county (B.10) or subject draw (B.11) it is for."""

    plan: mapping.DrawPlan
    county_code: str | None = None
    subjects_draw_code: str | None = None


async def prepare_draws(
    uow: UnitOfWork, batch_id: UUID, request: DrawRequest, by: Principal,
    max_lag_seconds: float, now: datetime | None = None,
) -> list[StoredDraw]:  # fmt: skip
    """Prepare the draws a request asks for, all in one transaction under the batch's lock, in
    code order: the subject draw (`combined`, or `subjects` for a cross-department batch), one
    per county pool of a multi-county `bureau_wide` batch (B.10), or one department's team draw
    (B.11). Inputs are built from the read models and frozen; nothing of them is public yet."""
    at = now or access.now()
    async with uow:
        seen = await batches_repo.batch(uow.session, batch_id)
    if seen is None:
        raise p.Problem(p.NOT_FOUND, f"no batch {batch_id} is known to sampling")
    if seen.published is not None and not access.leads(by, seen.published.org_id):
        raise p.Problem(
            p.FORBIDDEN, "a batch's draws are prepared by its lead department's admin (R14, R20)"
        )
    batch = access.drawable(seen, shanghai_date(at))
    team = None
    pools: list[pool_rules.InspectorPool] = []
    if request.kind == "teams":
        excluding.no_exclusions_for_teams(request.exclusions)
        team = await _team_pool(uow, batch, request.org_id)
    else:
        # A team draw's subjects are fixed by the subject draw; only a population is read.
        _check_lag(await subjects_lag(uow, max_lag_seconds, at))
        if not mapping.is_joint(batch):
            pools = await inspectors_service.pools_of(uow, lead_phase(batch))
    async with uow:
        locked = await batches_repo.batch_to_draw(uow.session, batch_id)
        assert locked is not None
        batch = access.drawable(locked, shanghai_date(at))
        earlier = await repo.summaries(uow.session, batch_id)
        try:
            if team is not None:
                parts = [await _team_part(uow, batch, earlier, *team)]
            else:
                parts = await _subject_parts(uow, batch, pools, request.exclusions,
                                             shanghai_date(at))  # fmt: skip
            refreshed: list[StoredDraw] = []
            if request.refresh:
                refreshed, parts = await _refreshed(uow, earlier, parts, by, at)
            try:
                coded = _coded(batch, earlier, parts) if parts else []
            except DrawRuleError:
                if not refreshed:  # a B.10 re-run whose other counties are all live
                    raise
                coded = []
        except DrawRuleError as error:
            raise access.rule_problem(error) from None
        prepared = list(refreshed)
        for code, part in coded:
            plan = part.plan
            draw = Draw(
                draw_id=uuid4(), draw_code=code, batch_id=batch_id, kind=plan.kind,
                org_id=plan.org_id, department_type=plan.department_type,
                subjects_draw_code=part.subjects_draw_code, county_code=part.county_code,
            )  # fmt: skip
            inputs = _inputs_json(plan)
            stored = StoredDraw(
                draw=draw, lead_org_id=batch.org_id, region_code=batch.org_region_code,
                inputs=inputs, population=_population(plan), revision=1,
                prepared_by=by.sub, prepared_at=at, prepared_plan=(inputs, plan),
            )  # fmt: skip
            try:
                await repo.insert(uow.session, stored)
            except LiveDrawExists:
                raise p.Problem(
                    access.DRAW_STATE, "the batch already has a live draw of this decision",
                    rule="draw-in-progress", field=None,
                ) from None  # fmt: skip
            prepared.append(stored)
        await uow.commit()
    return sorted(prepared, key=lambda d: parse_draw_code(d.draw.draw_code).sequence)


async def _refreshed(
    uow: UnitOfWork, earlier: Sequence[DrawSummary], parts: Sequence[_Part], by: Principal,
    at: datetime,
) -> tuple[list[StoredDraw], list[_Part]]:  # fmt: skip
    """Each part whose decision has a prepared draw rebuilt in place (its next revision), and
    the parts left to prepare anew. The batch's row lock is held, so no commit runs between."""
    done: list[StoredDraw] = []
    rest: list[_Part] = []
    for part in parts:
        plan = part.plan
        found = prepared_draw(earlier, plan.kind, org_id=plan.org_id,
                              subjects_draw_code=part.subjects_draw_code,
                              county_code=part.county_code)  # fmt: skip
        if found is None:
            rest.append(part)
            continue
        stored = await repo.draw_by_code(uow.session, found.draw_code)
        assert stored is not None
        done.append(await repo.update(uow.session, replace(
            stored, inputs=_inputs_json(plan), population=_population(plan),
            prepared_by=by.sub, prepared_at=at,
        ), inputs=True))  # fmt: skip
    return done, rest


async def _subject_parts(
    uow: UnitOfWork, batch: BatchPublished, pools: Sequence[pool_rules.InspectorPool],
    named: Sequence[mapping.ExclusionRow], today: date,
) -> list[_Part]:  # fmt: skip
    """The subject draw's plans: none of a pool for a cross-department batch, the one pool's,
    or one per county of a B.10 batch over that county's subjects and officers. The exclusions
    are checked against the whole population; each county's draw lists its own subjects'."""
    rows = in_risk_classes(batch, await subjects_repo.population(uow.session,
                                                                 population_query(batch)))  # fmt: skip
    out = excluding.exclusions_of(batch, rows, named, today)
    if mapping.is_joint(batch):
        return [_Part(mapping.subject_draw(batch, rows, out))]
    if len(pools) == 1 and pools[0].county is None:
        pool = _checked(pools[0])
        return [_Part(mapping.subject_draw(batch, rows, out, await _department(uow, pool)))]
    return [
        _Part(mapping.subject_draw(batch, part, out, await _department(uow, pool)), pool.county)
        for pool, part in _county_parts(pools, rows)
    ]


async def _department(uow: UnitOfWork, pool: pool_rules.InspectorPool) -> mapping.DepartmentPool:
    declared = await inspectors_repo.conflicts_of(uow.session, pool.inspector_ids)
    return mapping.DepartmentPool(pool.members, declared)


def _coded(
    batch: BatchPublished, earlier: Sequence[DrawSummary], parts: Sequence[_Part]
) -> list[tuple[str, _Part]]:
    """Each part's code, consecutive in the batch (B.6). Of a B.10 batch only the counties
    without a live or completed draw are prepared again (a re-run after one county's draw
    failed or was voided); if no county is left, the first county's refusal stands."""
    seen = list(earlier)
    coded: list[tuple[str, _Part]] = []
    refused: DrawRuleError | None = None
    for part in parts:
        plan = part.plan
        try:
            code = next_draw_code(
                batch.batch_code, plan.kind, seen, org_id=plan.org_id,
                subjects_draw_code=part.subjects_draw_code, county_code=part.county_code,
            )  # fmt: skip
        except DrawRuleError as error:
            if part.county_code is None or error.rule not in _REPEATED:
                raise
            refused = refused or error
            continue
        seen.append(DrawSummary(code, plan.kind, DrawStatus.prepared, plan.org_id,
                                part.subjects_draw_code, part.county_code))  # fmt: skip
        coded.append((code, part))
    if not coded and refused is not None:
        raise refused
    return coded


# A decision already taken: skipped by a B.10 re-run, refused for a draw of its own.
_REPEATED = frozenset({"draw-in-progress", "draw-already-completed"})


async def _team_pool(
    uow: UnitOfWork, batch: BatchPublished, org_id: UUID | None
) -> tuple[UUID, pool_rules.InspectorPool]:
    """The department's own pool for its team draw (R20): the lead's in the batch's mode, a
    participant's over all its officers (`domain.batches.team_phases`)."""
    if not mapping.is_joint(batch):
        raise p.Problem(
            access.DRAW_REFUSED, "only a cross-department batch has team draws: a batch of one "
            "department draws its teams in its combined draw (B.11)",
            rule="draw-not-joint", field="kind",
        )  # fmt: skip
    orgs = [org for org, _ in mapping.departments(batch)]
    if org_id not in orgs:
        raise p.Problem(
            access.DRAW_REFUSED, f"org {org_id} takes no part in batch {batch.batch_code}",
            rule="draw-not-a-department", field="org_id",
        )  # fmt: skip
    assert org_id is not None
    phase = team_phases(batch)[orgs.index(org_id)]
    if pool_rules.draws_per_county(phase):
        raise p.Problem(
            access.DRAW_REFUSED, "the department draws one pool per county (B.10): per-county "
            "team draws of a joint batch are not prepared yet",
            rule="draw-county-pools", field="org_id",
        )  # fmt: skip
    [pool] = await inspectors_service.pools_of(uow, phase)
    return org_id, _checked(pool)


async def _team_part(
    uow: UnitOfWork, batch: BatchPublished, earlier: Sequence[DrawSummary], org_id: UUID,
    pool: pool_rules.InspectorPool,
) -> _Part:  # fmt: skip
    """B.11: the department's team draw over the batch's live subject draw, once completed."""
    over = live_subject_draw(earlier)
    if over is None or over.status is not DrawStatus.completed:
        state = (
            "no subject draw" if over is None else f"subject draw {over.draw_code} is {over.status}"
        )
        raise DrawRuleError(
            "draw-subjects-not-completed",
            f"a team draw goes over the batch's completed subject draw (B.11); {state}",
            "subjects_draw_code",
        )  # fmt: skip
    subjects = await repo.draw_by_code(uow.session, over.draw_code)
    assert subjects is not None
    assert subjects.draw.result is not None
    plan = mapping.team_draw(batch, access.plan_of(subjects), subjects.draw.result, org_id,
                             await _department(uow, pool))  # fmt: skip
    return _Part(plan, subjects_draw_code=over.draw_code)


def _check_lag(lag: Lag) -> None:
    if lag.within_bound:
        return
    if not lag.loaded:
        detail = "the subjects read model was never loaded from the registry's export"
    elif lag.seconds is None:
        detail = "the subjects read model's lag is unknown: the worker has not checked it"
    else:
        detail = (
            f"the subjects read model is {lag.seconds:.0f} s behind the registry, more than "
            f"the {lag.max_seconds:.0f} s a draw may be prepared within"
        )
    raise p.Problem(
        access.DRAW_READ_MODEL_BEHIND, detail, model=lag.model, lag_seconds=lag.seconds,
        max_lag_seconds=lag.max_seconds,
    )  # fmt: skip


# ---- commit -----------------------------------------------------------------------------------

# A crash point (`shuangsui.kernel.faults`): the commitment and its event stored, nothing answered.
COMMITTED_POINT = "sampling.draw.committed"


@dataclass(frozen=True)
class PartyIn:
    party_id: str
    commitment: str


@dataclass(frozen=True)
class BeaconChoice:
    """What the commit names as its randomness: `fixed` (test/dev only) with its value,
    `commit-reveal` with the parties' commitments and when their reveals are due, or
    `drand-quicknet` with its round (default: the earliest allowed) and how long after the
    round's time it may still be accepted (BEACON_DEADLINE_SECONDS)."""

    source: Literal["fixed", "commit-reveal", "drand-quicknet"]
    value: str | None = None
    parties: tuple[PartyIn, ...] = ()
    reveal_deadline: datetime | None = None
    round: int | None = None
    beacon_grace: timedelta = access.BEACON_GRACE


def _drand(choice: BeaconChoice, at: datetime) -> tuple[DrandBeacon, datetime]:
    """The round, due at least 10 minutes after `at` (§5.1) and within the horizon, and the
    deadline its value must be accepted by."""
    if choice.round is None:
        beacon = beacons.drand_beacon(at)
    else:
        beacon = DrandBeacon(QUICKNET_CHAIN_HASH, choice.round)
    beacons.check_round_ahead(beacon, at)
    beacons.check_round_horizon(beacon, at)
    return beacon, beacons.round_due(beacon) + choice.beacon_grace


def _beacon(
    choice: BeaconChoice, at: datetime, test_mode: bool
) -> tuple[Beacon, list[dict[str, Any]] | None, datetime | None]:
    """The beacon, the parties as stored, and the reveal deadline (drand: the round's)."""
    if choice.source == "fixed":
        return beacons.fixed_beacon(choice.value or "", test_mode=test_mode), None, None
    if choice.source == "drand-quicknet":
        beacon, deadline = _drand(choice, at)
        return beacon, None, deadline
    exchange = beacons.session((party.party_id, party.commitment) for party in choice.parties)
    deadline = choice.reveal_deadline or at + access.REVEAL_WINDOW
    if deadline <= at:
        raise DrawRuleError("draw-reveal-deadline", "the reveal deadline has passed", "beacon")
    exchange = exchange.seal(deadline)
    parties = [{"party_id": c.party_id, "commitment": c.commitment} for c in exchange.commitments]
    return exchange.beacon(), parties, deadline


async def commit_draw(
    uow: UnitOfWork, draw_id: UUID, choice: BeaconChoice, if_match: str | None, by: Principal,
    *, test_mode: bool, now: datetime | None = None,
) -> StoredDraw:  # fmt: skip
    """Fix the draw: its document stored and `sampling.draw.committed.v1` recorded in the same
    transaction, before any party reveals or any round is due (§14.1)."""
    at = now or access.now()
    async with uow:
        seen = await access.seen_by(uow, draw_id, by)
        if not access.leads(by, seen.lead_org_id):
            raise p.Problem(
                p.FORBIDDEN, "a draw is committed by its batch's lead department's admin (R14)"
            )
        # The batch first, then the draw: the order every draw write locks in.
        batch = await batches_repo.batch_to_draw(uow.session, seen.draw.batch_id)
        stored = await repo.draw(uow.session, draw_id, lock=True)
        assert batch is not None
        assert stored is not None
        check_if_match(if_match, stored.revision)
        try:
            next_status(stored.draw.status, DrawAction.commit)  # a draw is committed once
            access.drawable(batch, shanghai_date(at))
            beacon, parties, deadline = _beacon(choice, at, test_mode)
            plan = access.plan_of(stored)
            feasibility.check_feasible(plan)  # R18: before anything is committed
            document = plan.commitment(stored.draw.draw_code, beacon, access.stamp(at))
            draw = stored.draw.commit(document, test_mode=test_mode)
        except DrawRuleError as error:
            raise access.rule_problem(error) from None
        written = await repo.update(uow.session, replace(
            stored, draw=draw, parties=parties, reveal_deadline=deadline, committed_by=by.sub,
            committed_at=at,
        ))  # fmt: skip
        status = await draw_batches.follow_draws(uow, draw.batch_id, at)
        event = draw_committed(draw, plan.inputs, deadline, status)
        uow.record(Outgoing(event, subject=str(draw.batch_id), actor=by.sub))
        await uow.commit()
    crash_point(COMMITTED_POINT)
    return written
