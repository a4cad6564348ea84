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
from datetime import datetime, timedelta
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
from shuangsui.sampling.domain.batches import lead_phase
from shuangsui.sampling.domain.draw_events import (
    draw_committed,
)
from shuangsui.sampling.domain.draws import (
    Draw,
    DrawAction,
    DrawKind,
    DrawRuleError,
    next_draw_code,
    next_status,
)
from shuangsui.sampling.domain.subjects import Lag
from shuangsui.sampling.service import draw_access as access
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


async def _lead_pool(uow: UnitOfWork, batch: BatchPublished) -> pool_rules.InspectorPool:
    pools = await inspectors_service.pools_of(uow, lead_phase(batch))
    if len(pools) != 1:
        raise p.Problem(
            access.DRAW_REFUSED,
            f"the batch draws one pool per county ({len(pools)} found, B.10): per-county draws "
            "are not prepared yet",
            rule="draw-county-pools", field="selection_mode",
        )  # fmt: skip
    [pool] = pools
    short = pool_rules.shortfall(pool)
    if short is not None:
        detail = f"the lead department's pool of {len(pool.members)} cannot make a team"
        if short.missing_qualification is not None:
            detail += f": nobody holds {short.missing_qualification}"
        raise p.Problem(access.DRAW_REFUSED, detail, rule=short.reason, field="inspectors")
    return pool


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


async def prepare_draw(
    uow: UnitOfWork, batch_id: UUID, by: Principal, max_lag_seconds: float,
    now: datetime | None = None,
) -> StoredDraw:  # fmt: skip
    """A batch's subject draw (`combined`, or `subjects` for a cross-department batch), its
    inputs built from the read models and frozen; nothing about it is public yet."""
    at = now or access.now()
    async with uow:
        seen = await batches_repo.batch(uow.session, batch_id)
    if seen is None:
        raise p.Problem(p.NOT_FOUND, f"no batch {batch_id} is known to sampling")
    if seen.published is not None and not access.leads(by, seen.published.org_id):
        raise p.Problem(
            p.FORBIDDEN, "a batch's draw is prepared by its lead department's admin (R14)"
        )
    batch = access.drawable(seen, shanghai_date(at))
    lag = await subjects_lag(uow, max_lag_seconds, at)
    _check_lag(lag)
    pool = None if mapping.is_joint(batch) else await _lead_pool(uow, batch)
    kind = DrawKind.subjects if mapping.is_joint(batch) else DrawKind.combined
    async with uow:
        locked = await batches_repo.batch_to_draw(uow.session, batch_id)
        assert locked is not None
        batch = access.drawable(locked, shanghai_date(at))
        try:
            earlier = await repo.summaries(uow.session, batch_id)
            code = next_draw_code(batch.batch_code, kind, earlier)
            rows = await subjects_repo.population(uow.session, population_query(batch))
            department = None
            if pool is not None:
                declared = await inspectors_repo.conflicts_of(uow.session, pool.inspector_ids)
                department = mapping.DepartmentPool(pool.members, declared)
            plan = mapping.subject_draw(batch, in_risk_classes(batch, rows), (), department)
        except DrawRuleError as error:
            raise access.rule_problem(error) from None
        draw = Draw(
            draw_id=uuid4(), draw_code=code, batch_id=batch_id, kind=plan.kind,
            org_id=plan.org_id, department_type=plan.department_type,
        )  # fmt: skip
        stored = StoredDraw(
            draw=draw, lead_org_id=batch.org_id, region_code=batch.org_region_code,
            inputs=_inputs_json(plan), population=_population(plan), revision=1,
            prepared_by=by.sub, prepared_at=at,
        )  # fmt: skip
        try:
            await repo.insert(uow.session, stored)
        except LiveDrawExists:
            raise p.Problem(
                access.DRAW_STATE, "the batch already has a live draw", rule="draw-in-progress",
                field=None,
            ) from None  # fmt: skip
        await uow.commit()
    return stored


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
        seen = await repo.draw(uow.session, draw_id)
        if seen is None or not access.visible(seen, by):
            raise p.Problem(p.NOT_FOUND, f"no draw {draw_id}")
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
            document = plan.commitment(stored.draw.draw_code, beacon, access.stamp(at))
            draw = stored.draw.commit(document, test_mode=test_mode)
        except DrawRuleError as error:
            raise access.rule_problem(error) from None
        written = await repo.update(uow.session, replace(
            stored, draw=draw, parties=parties, reveal_deadline=deadline, committed_by=by.sub,
            committed_at=at,
        ))  # fmt: skip
        event = draw_committed(draw, plan.inputs, deadline)
        uow.record(Outgoing(event, subject=str(draw.batch_id), actor=by.sub))
        await uow.commit()
    return written
