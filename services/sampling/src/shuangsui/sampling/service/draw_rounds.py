"""A drand draw's round (DRAW_SPEC §5.1, §14.1): fetched by the worker from drand's relays, or
pushed by an operator on an offline deployment; either way accepted by one function, only when
checks (a)–(d) pass with the BLS signature under the pinned quicknet key, and then the draw is
revealed, computed and completed exactly as after a last commit-reveal reveal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

import httpx
import structlog

from shuangsui.drawspec.commitment import read_commitment
from shuangsui.drawspec.drand import round_time
from shuangsui.drawspec.model import DrandBeacon
from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal, Role
from shuangsui.kernel.concurrency import check_if_match
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.faults import crash_point
from shuangsui.sampling.adapters import draws as repo
from shuangsui.sampling.adapters.drand_relays import RelayUnavailable, fetch_round
from shuangsui.sampling.adapters.draws import StoredDraw
from shuangsui.sampling.domain import beacons
from shuangsui.sampling.domain.beacons import OfferedRound
from shuangsui.sampling.domain.draws import DrawAction, DrawRuleError, next_status
from shuangsui.sampling.service import draw_access as access
from shuangsui.sampling.service import draw_ends as ends
from shuangsui.sampling.service.draw_reveals import COMPLETED_POINT, settle

log = structlog.get_logger("sampling.drand")

# Who may push a round: the lead department's admin, who runs the draw, and a provincial admin
# of the draw's province, who runs the deployment (DOMAIN §7: province configuration). The
# round's authenticity rests on its BLS signature, never on who carries it; the role only keeps
# the operation from being anyone's to call.
PUSHERS = (Role.department_admin, Role.provincial_admin)
# What a relay's wrong answer is refused with: the next relay may answer the genuine round.
RELAY_FAULTS = frozenset({"E_BEACON", "E_SCHEMA"})
NOT_DRAND = DrawRuleError(
    "draw-beacon-source", "only a drand-quicknet draw takes a round", "beacon"
)


def pushes_rounds(by: Principal, stored: StoredDraw) -> bool:
    if access.leads(by, stored.lead_org_id):
        return True
    return by.has_any_role(Role.provincial_admin) and by.province == stored.region_code[:2]


def _drand_beacon(stored: StoredDraw) -> DrandBeacon:
    assert stored.draw.commitment is not None
    beacon = read_commitment(stored.draw.commitment).beacon
    assert isinstance(beacon, DrandBeacon)
    return beacon


async def accept_round(
    uow: UnitOfWork, draw_id: UUID, offered: OfferedRound, *, by: Principal | None,
    if_match: str | None = None, now: datetime | None = None,
) -> StoredDraw:  # fmt: skip
    """Accept the committed round of a drand draw and complete the draw with it, or refuse it
    with nothing stored: another round or a value failing checks (a)–(d) is `E_BEACON`, a
    malformed one `E_SCHEMA`, a draw not waiting for a round `draw-beacon-source` or
    `draw-transition`. `by` is the operator who pushed it (permission and `If-Match` checked),
    or None for the worker's fetcher, which decides on the locked row alone. Past the deadline
    the draw fails as `beacon_unavailable` instead (whoever notices first)."""
    at = now or access.now()
    actor = by.sub if by is not None else access.SYSTEM_ACTOR
    async with uow:
        batch, stored = await access.locked(
            uow, draw_id, by, lambda seen: by is None or pushes_rounds(by, seen),
            "a drand round is pushed by the batch's lead department's admin or a provincial "
            "admin of the draw's province",
        )  # fmt: skip
        if by is not None:
            check_if_match(if_match, stored.revision)
        if stored.draw.beacon_source != "drand-quicknet":
            raise access.rule_problem(NOT_DRAND)
        if ends.overdue(stored, at):
            raise await ends.refuse_late(uow, stored, at, actor, rule="draw-beacon-late",
                                         field="round")  # fmt: skip
        try:
            next_status(stored.draw.status, DrawAction.reveal)
            assert stored.draw.commitment is not None
            committed_at = stored.draw.commitment["committed_at"]
            assert isinstance(committed_at, str)
            value = beacons.accept_offered(_drand_beacon(stored), offered, committed_at)
        except DrawRuleError as error:
            raise access.rule_problem(error) from None
        written = await settle(uow, stored, batch, value, at, actor)
        await uow.commit()
    crash_point(COMPLETED_POINT)
    return written


def due(round_number: int, at: datetime) -> bool:
    """Whether drand has published the round by `at` (its time, §5.1 (b))."""
    return round_time(round_number) <= at.timestamp()


async def fetch_due_rounds(
    new_uow: Callable[[], UnitOfWork], relays: Sequence[str], client: httpx.AsyncClient,
    now: datetime | None = None,
) -> list[StoredDraw]:  # fmt: skip
    """The worker's fetcher: for every committed drand draw whose round is due, ask the relays
    in turn until one's answer is accepted. A relay that is down or answers a round that fails
    verification is logged and the next one asked; the draw waits for the next check (or its
    deadline). No relays (an offline deployment): nothing is fetched."""
    at = now or access.now()
    if not relays:
        return []
    async with new_uow() as uow:
        waiting = await repo.awaiting_rounds(uow.session, at)
    completed = []
    for draw_id, round_number in waiting:
        if not due(round_number, at):
            continue
        accepted = await _from_relays(new_uow, draw_id, round_number, relays, client, at)
        if accepted is not None:
            completed.append(accepted)
    return completed


async def _from_relays(
    new_uow: Callable[[], UnitOfWork], draw_id: UUID, round_number: int, relays: Sequence[str],
    client: httpx.AsyncClient, at: datetime,
) -> StoredDraw | None:  # fmt: skip
    for relay in relays:
        try:
            offered = await fetch_round(client, relay, round_number)
            return await accept_round(new_uow(), draw_id, offered, by=None, now=at)
        except RelayUnavailable as exc:
            log.warning("drand relay unavailable", relay=relay, round=round_number,
                        error=str(exc))  # fmt: skip
        except p.Problem as refused:
            rule = refused.extensions.get("rule")
            log.warning("drand round refused", relay=relay, round=round_number,
                        draw_id=str(draw_id), rule=rule, detail=refused.detail)  # fmt: skip
            if rule not in RELAY_FAULTS:  # the draw moved on (completed, failed): stop asking
                return None
    return None
