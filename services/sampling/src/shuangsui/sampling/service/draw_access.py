"""What every step of a draw checks the same way: who may act for a batch, whether its batch may
still be drawn, who sees a draw before it is public, and the draw's stored plan and commit-reveal
session read back (DOMAIN §3.3, R14)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.drawspec import DrawInputs, Rejected
from shuangsui.drawspec.commitment import read_stratum_rule, read_team
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.db import UnitOfWork
from shuangsui.sampling.adapters import batches as batches_repo
from shuangsui.sampling.adapters import draws as repo
from shuangsui.sampling.adapters.draws import StoredDraw
from shuangsui.sampling.domain import beacons
from shuangsui.sampling.domain import draw_inputs as mapping
from shuangsui.sampling.domain.batches import BatchStatus, StoredBatch, is_open_on
from shuangsui.sampling.domain.draws import (
    DrawRuleError,
    DrawStatus,
)

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
# How long after a drand round's time it may still be accepted unless BEACON_DEADLINE_SECONDS says.
BEACON_GRACE = timedelta(hours=1)

# A drand draw's randomness is its round, a commit-reveal's the parties' secrets: neither
# takes the other's step.
NOT_DRAND_REVEAL = DrawRuleError(
    "draw-beacon-source", "a drand draw is revealed by its round (`…:round`), not a reveal",
    "beacon",
)  # fmt: skip

WRITERS = (Role.department_admin,)
# Who approves a void (R14, DOMAIN §5.2, §7): another admin of the lead department, or an
# auditor of the draw's province (they witness draws).
VOID_APPROVERS = (Role.department_admin, Role.auditor)
# What the service itself writes as the actor of a failure nobody asked for.
SYSTEM_ACTOR = "system:sampling"


def rule_problem(error: DrawRuleError) -> p.Problem:
    kind = DRAW_STATE if error.rule in _STATE_RULES else DRAW_REFUSED
    return p.Problem(kind, error.reason, rule=error.rule, field=error.field)


def not_drawable(reason: str) -> p.Problem:
    return p.Problem(DRAW_STATE, reason, rule="draw-batch-not-drawable", field=None)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def own_org(by: Principal) -> UUID | None:
    try:
        return UUID(by.org_id) if by.org_id else None
    except ValueError:
        return None


def leads(by: Principal, lead_org_id: UUID) -> bool:
    """Only the lead department's admin prepares and commits its batch's draw (R14, R20)."""
    return by.has_any_role(*WRITERS) and own_org(by) == lead_org_id


def drawable(batch: StoredBatch, today: date) -> BatchPublished:
    if batch.status is BatchStatus.drawn:
        raise p.Problem(
            DRAW_STATE, f"batch {batch.batch_code} is drawn: a completed draw is never re-run; "
            "void it first (R14)", rule="draw-already-completed", field=None,
        )  # fmt: skip
    if batch.published is None or not batch.drawable:
        raise not_drawable(f"batch {batch.batch_code} is {batch.status}, not published")
    if not is_open_on(batch.published, today):
        raise not_drawable(
            f"batch {batch.batch_code}'s window ended on {batch.published.window_end}"
        )
    return batch.published


def plan_of(stored: StoredDraw) -> mapping.DrawPlan:
    """The plan a prepared draw stored, read back through drawspec's own readers (or the plan
    it was written from, if this process just prepared it: the same lists, already read)."""
    data = stored.inputs
    known = stored.prepared_plan
    if known is not None and known[0] is data:
        plan: mapping.DrawPlan = known[1]
        return plan
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


def exchange_of(stored: StoredDraw) -> beacons.CommitReveal:
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


def visible(stored: StoredDraw, by: Principal | None) -> bool:
    """A committed draw is public evidence (R14); a prepared one is its lead department's."""
    if stored.draw.status is not DrawStatus.prepared:
        return True
    return by is not None and leads(by, stored.lead_org_id)


async def draw_key(uow: UnitOfWork, draw_code: str) -> UUID:
    """The draw a public code names (the API's paths name draws by code, B.6); 404 if none."""
    async with uow:
        found = await repo.draw_id_of(uow.session, draw_code)
    if found is None:
        raise p.Problem(p.NOT_FOUND, f"no draw {draw_code}")
    return found


async def seen_by(uow: UnitOfWork, draw_id: UUID, by: Principal | None) -> StoredDraw:
    """The draw as stored, unlocked and without its manifest (checks need neither); 404 unless
    `by` sees it (`visible`)."""
    seen = await repo.draw(uow.session, draw_id, manifest=False)
    if seen is None or not visible(seen, by):
        raise p.Problem(p.NOT_FOUND, "no such draw")
    return seen


async def locked(
    uow: UnitOfWork, draw_id: UUID, by: Principal | None, may: Callable[[StoredDraw], bool],
    forbidden: str,
) -> tuple[BatchPublished, StoredDraw]:  # fmt: skip
    """A draw's published batch and the draw itself, locked in the order every draw write takes
    (the batch first): 404 unless `by` sees it, 403 with `forbidden` unless `may` allows."""
    seen = await seen_by(uow, draw_id, by)
    if not may(seen):
        raise p.Problem(p.FORBIDDEN, forbidden)
    batch = await batches_repo.batch_to_draw(uow.session, seen.draw.batch_id)
    stored = await repo.draw(uow.session, draw_id, lock=True)
    assert batch is not None
    assert batch.published is not None
    assert stored is not None
    return batch.published, stored
