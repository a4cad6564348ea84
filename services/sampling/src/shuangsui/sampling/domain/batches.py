"""The batches sampling may draw (R14), as planning's batch events told it: the published batch
exactly as published, whether a plan adjustment cancelled it, and what sampling adds as it draws.

A published batch never changes (ADR 0017, ADR 0018); a cancellation is final. So the read model
needs no versions: the first copy of the publication is the batch, and a cancellation wins
whenever it arrives, even before the publication it cancels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from shuangsui.contracts.events.planning_batches import BatchPublished
from shuangsui.sampling.domain.draws import ENDED, DrawStatus, DrawSummary, batch_drawn
from shuangsui.sampling.domain.inspectors import SelectionMode, TeamPhase, participant_phase


class BatchStatus(StrEnum):
    """Where the batch stands for sampling. Planning's own `drawing`/`drawn`/… follow from
    sampling's draw events; these are sampling's side of the same lifecycle (DOMAIN §5.2)."""

    published = "published"  # may be drawn
    cancelled = "cancelled"  # by a plan adjustment (R7); never drawn from now on
    drawing = "drawing"  # a draw is committed and not finished (set by the draw lifecycle)
    drawn = "drawn"  # a draw completed (set by the draw lifecycle)


@dataclass(frozen=True)
class Cancellation:
    """`planning.batch.cancelled.v1` as received."""

    reason: str
    cancelled_from: str
    cancelled_at: datetime


@dataclass(frozen=True)
class StoredBatch:
    """A row of the `batches` read model. `published` is None while only a cancellation has
    arrived: the batch is known to be cancelled, not what it was."""

    batch_id: UUID
    batch_code: str
    plan_id: UUID
    status: BatchStatus
    published: BatchPublished | None
    cancellation: Cancellation | None
    drawn_at: datetime | None = None

    @property
    def drawable(self) -> bool:
        """Published, or being drawn: a B.10 batch's other counties and a joint batch's team
        draws are prepared and committed while it is `drawing`."""
        drawing = (BatchStatus.published, BatchStatus.drawing)
        return self.status in drawing and self.published is not None


def is_open_on(batch: BatchPublished, today: date) -> bool:
    """A draw is committed no later than the window's last day (DOMAIN §5.2: today ≤ window_end)."""
    return today <= batch.window_end


def lead_phase(batch: BatchPublished) -> TeamPhase:
    """The lead department's team phase (B.5, B.9): its org, the batch's selection mode, team
    size and lead qualification, certificates valid through the window end."""
    return TeamPhase(
        org_code=batch.org_code,
        org_level=batch.org_level,
        org_region_code=batch.org_region_code,
        department_type=batch.department_type,
        selection_mode=SelectionMode(batch.selection_mode),
        station_group=tuple(batch.station_group),
        team_size=batch.team_size,
        lead_expertise=batch.lead_expertise,
        task_date=batch.window_end,
    )


def team_phases(batch: BatchPublished) -> list[TeamPhase]:
    """Every team phase of the batch: the lead's, then each cross-department participant's over
    its own officers (B.11, R20), in the order the batch names them. An internal joint batch
    (R10) has one department and so one phase. A participant's officers are found by its unit
    code (`org_code`), which the inspectors name their bureau by."""
    lead = lead_phase(batch)
    if batch.joint_kind != "cross_department":
        return [lead]
    return [lead] + [
        participant_phase(lead, p.org_code, p.department_type, p.lead_expertise)
        for p in batch.participants
    ]


def status_after_draws(
    joint: bool, departments: Iterable[UUID], draws: Sequence[DrawSummary]
) -> BatchStatus:
    """The batch's status as its draws leave it (DOMAIN §5.2): `drawn` once `batch_drawn`
    holds, `drawing` while a draw of it is committed or later and not failed or voided (a
    completed one included), else `published` again, so that a re-run can start."""
    if batch_drawn(joint, departments, draws):
        return BatchStatus.drawn
    if any(d.status is not DrawStatus.prepared and d.status not in ENDED for d in draws):
        return BatchStatus.drawing
    return BatchStatus.published
