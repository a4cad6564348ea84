"""Draws (抽取): preparing a batch's draw from sampling's own read models, committing it before
any randomness exists, and the public reads of both (DOMAIN §3.3, DRAW_SPEC §14.1).

A draw is prepared only from read models that are current (ADR 0003: never a call to the
registry or planning while drawing) and only by the batch's lead department (R14). The commitment
and `sampling.draw.committed.v1` are written in one transaction, under the batch's row lock, so
the document is public the moment it exists and before anyone could know the beacon (§14.1).
Everything IDS-1 defines is `shuangsui.drawspec`'s, through the domain modules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.contracts.regions import scope_prefix
from shuangsui.contracts.workdays import shanghai_date
from shuangsui.drawspec import DrawInputs, Rejected
from shuangsui.drawspec.commitment import read_stratum_rule, read_team
from shuangsui.drawspec.jsontext import JsonValue
from shuangsui.drawspec.model import Beacon, BeaconValue, Ratio, StratumRule, TeamRule
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.pagination import PageRequest
from shuangsui.messaging.envelope import Outgoing
from shuangsui.sampling.adapters import batches as batches_repo
from shuangsui.sampling.adapters import draws as repo
from shuangsui.sampling.adapters import inspectors as inspectors_repo
from shuangsui.sampling.adapters import subjects as subjects_repo
from shuangsui.sampling.adapters.draws import DrawQuery, LiveDrawExists, StoredDraw
from shuangsui.sampling.adapters.subjects import PopulationQuery, PopulationSubject
from shuangsui.sampling.domain import beacons
from shuangsui.sampling.domain import draw_inputs as mapping
from shuangsui.sampling.domain import inspectors as pool_rules
from shuangsui.sampling.domain.batches import StoredBatch, is_open_on, lead_phase
from shuangsui.sampling.domain.draw_events import (
    draw_committed,
    draw_completed,
    draw_failed,
    draw_voided,
    teams_assigned,
)
from shuangsui.sampling.domain.draws import (
    REASON_MAX,
    Draw,
    DrawAction,
    DrawKind,
    DrawRuleError,
    DrawStatus,
    FailReason,
    Failure,
    batch_drawn,
    next_draw_code,
    next_status,
)
from shuangsui.sampling.domain.subjects import Lag
from shuangsui.sampling.service import inspectors as inspectors_service
from shuangsui.sampling.service.subjects import subjects_lag

DRAW_REFUSED = p.problem_type(
    "draw-refused", 422, "The draw breaks a rule · 抽取不符合规则",
    "Nothing was stored: `rule` names the rule (an IDS-1 error code such as `E_SCHEMA` where "
    "the spec defines one, else a `draw-…` rule of docs/sampling.md) and `field` the input.",
)  # fmt: skip
DRAW_STATE = p.problem_type(
    "draw-state", 409, "Not allowed in the draw's or batch's state · 当前状态不允许此抽取操作",
    "`rule` names it: `draw-transition` (e.g. a draw committed twice), `draw-completed-final`, "
    "`draw-in-progress` (the batch has a live draw), `draw-already-completed` (void it first), "
    "`draw-batch-not-drawable` (the batch is cancelled, not published or its window ended).",
)  # fmt: skip
DRAW_READ_MODEL_BEHIND = p.problem_type(
    "draw-read-model-behind", 503, "The subjects read model is behind the registry · "
    "检查对象读模型延迟过大",
    "A draw is prepared only from a subjects read model within READ_MODEL_MAX_LAG_SECONDS of "
    "the registry (or never loaded): `lag_seconds` and `max_lag_seconds` say how far it is. "
    "Retry when the sampling worker has caught up (GET /api/v1/sampling/read-models).",
)  # fmt: skip

# Refusals about where a draw or its batch stands, not about what it is made of.
_STATE_RULES = frozenset({
    "draw-transition", "draw-completed-final", "draw-in-progress", "draw-already-completed",
    "draw-subjects-not-completed", "draw-batch-not-drawable", "draw-reveal-late",
    "draw-void-not-requested",
})  # fmt: skip
# How long the parties of a commit-reveal draw have to reveal unless the commit says.
REVEAL_WINDOW = timedelta(hours=24)

WRITERS = (Role.department_admin,)
# Who approves a void (R14, DOMAIN §5.2, §7): another admin of the lead department, or an
# auditor of the draw's province (they witness draws).
VOID_APPROVERS = (Role.department_admin, Role.auditor)
# What the service itself writes as the actor of a failure nobody asked for.
SYSTEM_ACTOR = "system:sampling"


def rule_problem(error: DrawRuleError) -> p.Problem:
    kind = DRAW_STATE if error.rule in _STATE_RULES else DRAW_REFUSED
    return p.Problem(kind, error.reason, rule=error.rule, field=error.field)


def _not_drawable(reason: str) -> p.Problem:
    return p.Problem(DRAW_STATE, reason, rule="draw-batch-not-drawable", field=None)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _own_org(by: Principal) -> UUID | None:
    try:
        return UUID(by.org_id) if by.org_id else None
    except ValueError:
        return None


def _leads(by: Principal, lead_org_id: UUID) -> bool:
    """Only the lead department's admin prepares and commits its batch's draw (R14, R20)."""
    return by.has_any_role(*WRITERS) and _own_org(by) == lead_org_id


def _drawable(batch: StoredBatch, today: date) -> BatchPublished:
    if batch.published is None or not batch.drawable:
        raise _not_drawable(f"batch {batch.batch_code} is {batch.status}, not published")
    if not is_open_on(batch.published, today):
        raise _not_drawable(
            f"batch {batch.batch_code}'s window ended on {batch.published.window_end}"
        )
    return batch.published


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
            DRAW_REFUSED,
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
        raise p.Problem(DRAW_REFUSED, detail, rule=short.reason, field="inspectors")
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


def plan_of(stored: StoredDraw) -> mapping.DrawPlan:
    """The plan a prepared draw stored, read back through drawspec's own readers."""
    data = stored.inputs
    strata = data["strata"]
    assert isinstance(strata, list)
    try:
        inputs = DrawInputs.from_json(
            data["manifest"], data["exclusions"], data["inspectors"], data["conflicts"]
        )
        rules = tuple(read_stratum_rule(e, f"strata[{i}]") for i, e in enumerate(strata))
        team = read_team(data["team"], "team")
    except Rejected as rejection:  # the stored lists were checked when prepared
        raise DrawRuleError(rejection.code.value, rejection.message, "inputs") from None
    draw = stored.draw
    return mapping.DrawPlan(draw.kind, draw.org_id, draw.department_type, inputs, rules, team)


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
    at = now or _now()
    async with uow:
        seen = await batches_repo.batch(uow.session, batch_id)
    if seen is None:
        raise p.Problem(p.NOT_FOUND, f"no batch {batch_id} is known to sampling")
    if seen.published is not None and not _leads(by, seen.published.org_id):
        raise p.Problem(
            p.FORBIDDEN, "a batch's draw is prepared by its lead department's admin (R14)"
        )
    batch = _drawable(seen, shanghai_date(at))
    lag = await subjects_lag(uow, max_lag_seconds, at)
    _check_lag(lag)
    pool = None if mapping.is_joint(batch) else await _lead_pool(uow, batch)
    kind = DrawKind.subjects if mapping.is_joint(batch) else DrawKind.combined
    async with uow:
        locked = await batches_repo.batch_to_draw(uow.session, batch_id)
        assert locked is not None
        batch = _drawable(locked, shanghai_date(at))
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
            raise rule_problem(error) from None
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
                DRAW_STATE, "the batch already has a live draw", rule="draw-in-progress",
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
        DRAW_READ_MODEL_BEHIND, detail, model=lag.model, lag_seconds=lag.seconds,
        max_lag_seconds=lag.max_seconds,
    )  # fmt: skip


# ---- commit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyIn:
    party_id: str
    commitment: str


@dataclass(frozen=True)
class BeaconChoice:
    """What the commit names as its randomness: `fixed` (test/dev only) with its value, or
    `commit-reveal` with the parties' commitments and when their reveals are due."""

    source: Literal["fixed", "commit-reveal"]
    value: str | None = None
    parties: tuple[PartyIn, ...] = ()
    reveal_deadline: datetime | None = None


def _beacon(
    choice: BeaconChoice, at: datetime, test_mode: bool
) -> tuple[Beacon, list[dict[str, Any]] | None, datetime | None]:
    """The beacon, the parties as stored, and the reveal deadline."""
    if choice.source == "fixed":
        return beacons.fixed_beacon(choice.value or "", test_mode=test_mode), None, None
    exchange = beacons.session((party.party_id, party.commitment) for party in choice.parties)
    deadline = choice.reveal_deadline or at + REVEAL_WINDOW
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
    at = now or _now()
    async with uow:
        seen = await repo.draw(uow.session, draw_id)
        if seen is None or not _visible(seen, by):
            raise p.Problem(p.NOT_FOUND, f"no draw {draw_id}")
        if not _leads(by, seen.lead_org_id):
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
            _drawable(batch, shanghai_date(at))
            beacon, parties, deadline = _beacon(choice, at, test_mode)
            plan = plan_of(stored)
            document = plan.commitment(stored.draw.draw_code, beacon, _stamp(at))
            draw = stored.draw.commit(document, test_mode=test_mode)
        except DrawRuleError as error:
            raise rule_problem(error) from None
        written = await repo.update(uow.session, replace(
            stored, draw=draw, parties=parties, reveal_deadline=deadline, committed_by=by.sub,
            committed_at=at,
        ))  # fmt: skip
        event = draw_committed(draw, plan.inputs, deadline)
        uow.record(Outgoing(event, subject=str(draw.batch_id), actor=by.sub))
        await uow.commit()
    return written


# ---- reveal, compute, complete ----------------------------------------------------------------


@dataclass(frozen=True)
class SecretIn:
    """A commit-reveal party's opening of its commitment (§5.2)."""

    party_id: str
    secret: str


def _exchange(stored: StoredDraw) -> beacons.CommitReveal:
    """The commit-reveal session as stored: sealed at commit, with the reveals so far."""
    parties = stored.parties or []
    assert stored.reveal_deadline is not None
    exchange = beacons.session((e["party_id"], e["commitment"]) for e in parties)
    exchange = exchange.seal(stored.reveal_deadline)
    for entry in parties:
        if entry.get("secret") is not None:
            revealed = datetime.fromisoformat(entry["revealed_at"])
            exchange = exchange.reveal(entry["party_id"], entry["secret"], revealed)
    return exchange


def _with_reveal(parties: list[dict[str, Any]], secret: SecretIn, at: datetime) -> list[Any]:
    return [
        {**e, "secret": secret.secret, "revealed_at": at.isoformat()}
        if e["party_id"] == secret.party_id
        else e
        for e in parties
    ]


def _fixed_value(draw: Draw) -> str:
    assert draw.commitment is not None
    beacon = draw.commitment["beacon"]
    assert isinstance(beacon, dict)
    value = beacon["value"]
    assert isinstance(value, str)
    return value


async def reveal_draw(
    uow: UnitOfWork, draw_id: UUID, secret: SecretIn | None, if_match: str | None,
    by: Principal, *, now: datetime | None = None,
) -> StoredDraw:  # fmt: skip
    """The randomness arrives after the commitment: a fixed beacon's value at once (test mode),
    or a party's reveal; with the last one the draw is computed by the verifier's own code and
    completed (`sampling.draw.completed.v1` and one `sampling.team.assigned.v1` per subject),
    or fails as `verification_rejected` if the verifier refuses the bundle."""
    at = now or _now()
    async with uow:
        seen = await repo.draw(uow.session, draw_id)
        if seen is None or not _visible(seen, by):
            raise p.Problem(p.NOT_FOUND, f"no draw {draw_id}")
        if not _leads(by, seen.lead_org_id):
            raise p.Problem(
                p.FORBIDDEN, "reveals are handed in by the batch's lead department's admin"
            )
        batch = await batches_repo.batch_to_draw(uow.session, seen.draw.batch_id)
        stored = await repo.draw(uow.session, draw_id, lock=True)
        assert batch is not None
        assert batch.published is not None
        assert stored is not None
        check_if_match(if_match, stored.revision)
        if _overdue(stored, at):
            assert stored.reveal_deadline is not None
            # The deadline passed with a reveal missing: the draw has failed (§5.2), whoever
            # notices first; the late reveal itself is refused.
            await _fail(uow, stored, _missing_reveal(stored), at, by.sub)
            await uow.commit()
            raise p.Problem(
                DRAW_STATE, f"the reveal deadline {_stamp(stored.reveal_deadline)} has passed; "
                "the draw failed (missing_reveal) and is re-run as a new draw",
                rule="draw-reveal-late", field="secret",
            )  # fmt: skip
        draw = stored.draw
        try:
            next_status(draw.status, DrawAction.reveal)
            if draw.beacon_source == "fixed":
                value: BeaconValue = _fixed_value(draw)
            else:
                if secret is None:
                    raise DrawRuleError("E_SCHEMA", "a reveal names its party and secret", "secret")
                exchange = _exchange(stored).reveal(secret.party_id, secret.secret, at)
                stored = replace(stored, parties=_with_reveal(stored.parties or [], secret, at))
                if not exchange.complete:
                    written = await repo.update(uow.session, stored)
                    await uow.commit()
                    return written
                value = exchange.beacon_value()
            draw = draw.reveal(value)
        except DrawRuleError as error:
            raise rule_problem(error) from None
        events: list[Any]
        try:
            draw = draw.compute(plan_of(stored).inputs).complete()
        except DrawRuleError as error:
            failure = Failure(
                FailReason.verification_rejected, detail=f"{error.rule}: {error.reason}"
            )
            draw = draw.fail(failure)
            events = [draw_failed(draw, at)]
            ended = replace(stored, draw=draw, revealed_at=at, ended_at=at)
        else:
            events = await _completion_events(uow, batch.published, draw, at)
            ended = replace(stored, draw=draw, revealed_at=at, completed_at=at)
        written = await repo.update(uow.session, ended)
        for event in events:
            uow.record(Outgoing(event, subject=str(draw.batch_id), actor=by.sub))
        await uow.commit()
    return written


async def _completion_events(
    uow: UnitOfWork, batch: BatchPublished, draw: Draw, at: datetime
) -> list[Any]:
    assert draw.result is not None
    strata = draw.result["strata"]
    assert isinstance(strata, list)
    selected = [str(u) for s in strata if isinstance(s, dict) for u in _items(s["selected"])]
    ids = await subjects_repo.subject_ids(uow.session, selected)
    earlier = [d for d in await repo.summaries(uow.session, draw.batch_id)
               if d.draw_code != draw.draw_code]  # fmt: skip
    drawn = batch_drawn(
        mapping.is_joint(batch), [org for org, _ in mapping.departments(batch)],
        [*earlier, draw.summary()],
    )  # fmt: skip
    events: list[Any] = [draw_completed(draw, ids, completes_batch=drawn, at=at)]
    if draw.kind is not DrawKind.subjects:
        events += teams_assigned(draw, ids, batch.selection_mode)
    return events


def _items(value: object) -> list[object]:
    assert isinstance(value, list)
    return value


async def get_bundle(uow: UnitOfWork, draw_id: UUID) -> dict[str, JsonValue]:
    """The bundle (§10.1) of a computed draw: everything anyone needs to recompute it."""
    stored = await get_draw(uow, draw_id, None)
    if stored.draw.bundle is None:
        raise p.Problem(p.NOT_FOUND, f"draw {draw_id} has no computed bundle")
    return stored.draw.bundle


async def get_result(uow: UnitOfWork, draw_id: UUID) -> dict[str, JsonValue]:
    """The result (§10.2) the verifier computed from the bundle."""
    stored = await get_draw(uow, draw_id, None)
    if stored.draw.result is None:
        raise p.Problem(p.NOT_FOUND, f"draw {draw_id} has no result")
    return stored.draw.result


# ---- public reads -----------------------------------------------------------------------------


def _visible(stored: StoredDraw, by: Principal | None) -> bool:
    """A committed draw is public evidence (R14); a prepared one is its lead department's."""
    if stored.draw.status is not DrawStatus.prepared:
        return True
    return by is not None and _leads(by, stored.lead_org_id)


async def get_draw(uow: UnitOfWork, draw_id: UUID, by: Principal | None) -> StoredDraw:
    """The draw; one found past its reveal deadline is failed first (`missing_reveal`), so no
    read ever shows an overdue draw as still waiting."""
    async with uow:
        stored = await repo.draw(uow.session, draw_id)
    if stored is None or not _visible(stored, by):
        raise p.Problem(p.NOT_FOUND, f"no draw {draw_id}")
    if _overdue(stored, _now()):
        return await _current(uow, stored)
    return stored


async def _current(uow: UnitOfWork, stored: StoredDraw) -> StoredDraw:
    """The overdue draw failed: by us, or by whoever got its lock first (then read it again)."""
    failed = await fail_if_overdue(uow, stored.draw.draw_id)
    if failed is not None:
        return failed
    async with uow:
        again = await repo.draw(uow.session, stored.draw.draw_id)
    return again or stored


async def get_commitment(uow: UnitOfWork, draw_id: UUID) -> dict[str, JsonValue]:
    """Exactly the committed document; none exists before the commit."""
    stored = await get_draw(uow, draw_id, None)
    if stored.draw.commitment is None:
        raise p.Problem(p.NOT_FOUND, f"draw {draw_id} is not committed yet")
    return stored.draw.commitment


@dataclass(frozen=True)
class DrawFilters:
    batch_id: UUID | None = None
    status: DrawStatus | None = None
    region_code: str | None = None


async def list_draws(
    uow: UnitOfWork, by: Principal | None, filters: DrawFilters, page: PageRequest
) -> tuple[list[StoredDraw], str | None]:
    """Every committed draw (public evidence: the same for everyone, logged in or not), and the
    caller's own department's prepared ones, in code order: a batch's draws together, in the
    order they were made."""
    region = scope_prefix(filters.region_code) if filters.region_code is not None else ""
    own = _own_org(by) if by is not None and by.has_any_role(*WRITERS) else None
    query = DrawQuery(
        led_by=(own,) if own is not None else (), batch_id=filters.batch_id,
        statuses=(filters.status,) if filters.status is not None else None,
        region_prefix=region, after_code=page.position("draw_code", str), limit=page.limit + 1,
    )  # fmt: skip
    async with uow:
        rows = await repo.search(uow.session, query)
    at = _now()
    rows = [await _current(uow, d) if _overdue(d, at) else d for d in rows]
    return page.page(rows, lambda d: {"draw_code": d.draw.draw_code})


# ---- end states: failures and voiding (R14, DRAW_SPEC §5.2, §14.2) ---------------------------


def _overdue(stored: StoredDraw, at: datetime) -> bool:
    if (
        stored.draw.status is not DrawStatus.committed
        or stored.draw.beacon_source != "commit-reveal"
    ):
        return False
    return stored.reveal_deadline is not None and _exchange(stored).overdue(at)


def _missing_reveal(stored: StoredDraw) -> Failure:
    assert stored.reveal_deadline is not None
    return Failure(
        FailReason.missing_reveal, _exchange(stored).missing(),
        f"reveal deadline {_stamp(stored.reveal_deadline)} passed",
    )  # fmt: skip


async def _fail(
    uow: UnitOfWork, stored: StoredDraw, failure: Failure, at: datetime, actor: str
) -> StoredDraw:
    """Fail a draw locked by the caller and record `sampling.draw.failed.v1` with it: one
    transaction, so a failure is published exactly when it is stored."""
    draw = stored.draw.fail(failure)
    written = await repo.update(uow.session, replace(stored, draw=draw, ended_at=at))
    uow.record(Outgoing(draw_failed(draw, at), subject=str(draw.batch_id), actor=actor))
    return written


async def fail_if_overdue(
    uow: UnitOfWork, draw_id: UUID, now: datetime | None = None
) -> StoredDraw | None:
    """Fail the draw if it is past its reveal deadline with a reveal missing; None if not
    (anymore). Under the batch's then the draw's lock, and decided on the locked row: two
    workers, or a worker and a read, make one failure and one event."""
    at = now or _now()
    async with uow:
        seen = await repo.draw(uow.session, draw_id)
        if seen is None:
            return None
        await batches_repo.batch_to_draw(uow.session, seen.draw.batch_id)
        stored = await repo.draw(uow.session, draw_id, lock=True)
        if stored is None or not _overdue(stored, at):
            return None
        written = await _fail(uow, stored, _missing_reveal(stored), at, SYSTEM_ACTOR)
        await uow.commit()
    return written


async def fail_overdue_draws(
    new_uow: Callable[[], UnitOfWork], now: datetime | None = None
) -> list[StoredDraw]:
    """The sampling worker's periodic check: every committed commit-reveal draw past its reveal
    deadline without every reveal fails (`missing_reveal`, naming the parties), each in its own
    transaction."""
    at = now or _now()
    async with new_uow() as uow:
        due = await repo.overdue(uow.session, at)
    failed = [await fail_if_overdue(new_uow(), draw_id, at) for draw_id in due]
    return [d for d in failed if d is not None]


async def fail_cancelled_batch(uow: UnitOfWork, batch_id: UUID, at: datetime) -> int:
    """In the consumer's transaction that stores planning's cancellation (the batch's row is
    locked by it): every draw of the batch not yet completed fails as `batch_cancelled` (R7). A
    redelivered cancellation finds them failed and records nothing."""
    failed = 0
    for draw_id in await repo.live_of_batch(uow.session, batch_id):
        stored = await repo.draw(uow.session, draw_id, lock=True)
        assert stored is not None
        if stored.draw.status not in (DrawStatus.prepared, DrawStatus.committed,
                                      DrawStatus.revealed):  # fmt: skip
            continue
        failure = Failure(FailReason.batch_cancelled, detail="planning cancelled the batch")
        await _fail(uow, stored, failure, at, SYSTEM_ACTOR)
        failed += 1
    return failed


def _void_reason(reason: str | None) -> str:
    """The reason as the domain's `voiding` will hold it (non-empty, at most REASON_MAX)."""
    cleaned = (reason or "").strip()
    if not cleaned or len(cleaned) > REASON_MAX:
        raise DrawRuleError(
            "draw-void-reason", f"a void states its reason, 1–{REASON_MAX} characters (R14)",
            "reason",
        )  # fmt: skip
    return cleaned


def _province_of(stored: StoredDraw) -> str:
    return stored.region_code[:2]


def _approves(by: Principal, stored: StoredDraw) -> bool:
    """Another admin of the lead department, or an auditor of the draw's province."""
    if by.has_any_role(Role.department_admin) and _own_org(by) == stored.lead_org_id:
        return True
    return by.has_any_role(Role.auditor) and by.province == _province_of(stored)


async def void_draw(
    uow: UnitOfWork, draw_id: UUID, reason: str | None, approve: bool, if_match: str | None,
    by: Principal, *, now: datetime | None = None,
) -> StoredDraw:  # fmt: skip
    """Void a completed draw in two steps (R14): the lead department's admin asks with a reason
    (the draw stays completed, the request is stored with it), then another person approves: an
    admin of the same department or an auditor of its province, never who asked. With the
    approval the draw is `voided` and `sampling.draw.voided.v1` recorded; it stays public, and
    the batch's next draw is a new prepare and commit under the next code (B.6)."""
    at = now or _now()
    async with uow:
        seen = await repo.draw(uow.session, draw_id)
        if seen is None or not _visible(seen, by):
            raise p.Problem(p.NOT_FOUND, f"no draw {draw_id}")
        allowed = _approves(by, seen) if approve else _leads(by, seen.lead_org_id)
        if not allowed:
            raise p.Problem(
                p.FORBIDDEN,
                "a void is approved by another admin of the lead department or an auditor of "
                "its province" if approve else
                "a void is asked for by the batch's lead department's admin (R14)",
            )  # fmt: skip
        await batches_repo.batch_to_draw(uow.session, seen.draw.batch_id)
        stored = await repo.draw(uow.session, draw_id, lock=True)
        assert stored is not None
        check_if_match(if_match, stored.revision)
        try:
            next_status(stored.draw.status, DrawAction.void)
            if not approve:
                asked = {"reason": _void_reason(reason), "requested_by": by.sub,
                         "requested_at": at.isoformat()}  # fmt: skip
                written = await repo.update(uow.session, replace(stored, void_request=asked))
                await uow.commit()
                return written
            request = stored.void_request
            if request is None:
                raise DrawRuleError(
                    "draw-void-not-requested",
                    "no void is asked for: the lead department's admin asks with a reason first",
                )
            if reason is not None and reason.strip() != request["reason"]:
                raise DrawRuleError(
                    "draw-void-reason", "the approval is for the reason asked for", "reason"
                )
            draw = stored.draw.void(request["reason"], request["requested_by"], by.sub)
        except DrawRuleError as error:
            raise rule_problem(error) from None
        written = await repo.update(
            uow.session, replace(stored, draw=draw, void_request=None, ended_at=at)
        )
        uow.record(Outgoing(draw_voided(draw, at), subject=str(draw.batch_id), actor=by.sub))
        await uow.commit()
    return written
