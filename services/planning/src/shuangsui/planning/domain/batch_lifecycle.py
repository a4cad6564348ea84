"""A batch's life (DOMAIN §5.2) and its public code.

The transitions are a table, so that what is legal can be read, listed and tested in one place.
A drawn batch is never edited: it can only be cancelled with a reason, which keeps it in history
and cancels its open tasks (R7).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from shuangsui.contracts.workdays import shanghai_date

REASON_MAX = 2000
SEQUENCE_MAX = 9999
BATCH_CODE = re.compile(r"^(?P<region>[0-9]{6})(?P<day>[0-9]{8})(?P<sequence>[0-9]{4})$")


class BatchStatus(StrEnum):
    draft = "draft"
    published = "published"
    drawing = "drawing"
    drawn = "drawn"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


class BatchAction(StrEnum):
    publish = "publish"  # the plan version holding the batch is published
    commit_draw = "commit_draw"  # sampling commits the draw (R14)
    complete_draw = "complete_draw"  # the draw completed and teams were assigned
    fail_draw = "fail_draw"  # missing reveal, beacon not available in time
    void_draw = "void_draw"  # voided with reason and approval (R14)
    reopen_draw = "reopen_draw"  # one of several draws voided while the others stand
    start = "start"  # the first task was started
    complete = "complete"  # every task is terminal
    cancel = "cancel"  # a plan adjustment cancels it (R7)


TERMINAL = frozenset({BatchStatus.completed, BatchStatus.cancelled})

# (from, action) → to; anything else is refused.
TRANSITIONS: Mapping[tuple[BatchStatus, BatchAction], BatchStatus] = {
    (BatchStatus.draft, BatchAction.publish): BatchStatus.published,
    (BatchStatus.published, BatchAction.commit_draw): BatchStatus.drawing,
    (BatchStatus.drawing, BatchAction.complete_draw): BatchStatus.drawn,
    # A failed draw leaves the batch drawable again; a new draw needs a new commitment.
    (BatchStatus.drawing, BatchAction.fail_draw): BatchStatus.published,
    (BatchStatus.drawn, BatchAction.void_draw): BatchStatus.published,
    # A batch drawn by several draws (one per county, B.10; per department, B.11): a void of one
    # while others stand leaves it drawing until that one is drawn again; of the last, published.
    (BatchStatus.drawing, BatchAction.void_draw): BatchStatus.published,
    (BatchStatus.drawn, BatchAction.reopen_draw): BatchStatus.drawing,
    (BatchStatus.drawn, BatchAction.start): BatchStatus.in_progress,
    (BatchStatus.in_progress, BatchAction.complete): BatchStatus.completed,
    (BatchStatus.published, BatchAction.cancel): BatchStatus.cancelled,
    (BatchStatus.drawn, BatchAction.cancel): BatchStatus.cancelled,
    (BatchStatus.in_progress, BatchAction.cancel): BatchStatus.cancelled,
}


DRAW_ACTIONS = (
    BatchAction.commit_draw, BatchAction.complete_draw, BatchAction.fail_draw,
    BatchAction.void_draw, BatchAction.reopen_draw,
)  # fmt: skip


def follow_draws(status: BatchStatus, drawn_as: BatchStatus) -> BatchAction | None:
    """The draw step that takes the batch where sampling says its draws leave it (the
    `batch_status` of every draw event: sampling holds all of a batch's draws). None when the
    batch is there already (a copy of the event) or no draw step leads there (it moved on:
    cancelled, in progress), and the event changes nothing."""
    return next((a for a in DRAW_ACTIONS if TRANSITIONS.get((status, a)) is drawn_as), None)


class BatchRuleError(ValueError):
    """A rule of the batch's life refused a change; `rule` is stable, `field` the input's path."""

    def __init__(self, rule: str, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason
        self.field = field


class IllegalBatchTransition(BatchRuleError):
    def __init__(self, status: BatchStatus, action: BatchAction) -> None:
        allowed = sorted(a for (s, a) in TRANSITIONS if s is status)
        super().__init__(
            "batch-transition",
            f"a {status} batch cannot {action.replace('_', ' ')}"
            + (f"; it can {', '.join(allowed)}" if allowed else "; it is final"),
        )
        self.status = status
        self.action = action


def next_status(
    status: BatchStatus, action: BatchAction, *, reason: str | None = None
) -> BatchStatus:
    """The status after `action`; a cancellation needs its reason (R7)."""
    try:
        after = TRANSITIONS[status, action]
    except KeyError:
        raise IllegalBatchTransition(status, action) from None
    if action is BatchAction.cancel:
        cancellation_reason(reason)
    return after


def cancellation_reason(reason: str | None) -> str:
    """The reason, cleaned; a cancellation without one is refused (R7)."""
    cleaned = (reason or "").strip()
    if not cleaned:
        raise BatchRuleError(
            "batch-cancel-reason", "a cancellation states its reason (R7)", "reason"
        )
    if len(cleaned) > REASON_MAX:
        raise BatchRuleError("batch-cancel-reason", f"at most {REASON_MAX} characters", "reason")
    return cleaned


def can_edit(status: BatchStatus) -> bool:
    """Only a draft is edited; from publication on a change is a cancellation and a new batch
    in the next plan version (R7)."""
    return status is BatchStatus.draft


def allowed_actions(status: BatchStatus) -> frozenset[BatchAction]:
    return frozenset(a for (s, a) in TRANSITIONS if s is status)


# ---- the public code: region(6) + date(8, Asia/Shanghai) + sequence(4) ------------------------


@dataclass(frozen=True)
class BatchCode:
    region_code: str
    day: date
    sequence: int

    def __str__(self) -> str:
        d = self.day
        return f"{self.region_code}{d.year:04d}{d.month:02d}{d.day:02d}{self.sequence:04d}"


def batch_code(region_code: str, on: date | datetime, sequence: int) -> str:
    """The public code; `on` is the day the code is given, an instant read in Asia/Shanghai."""
    day = shanghai_date(on) if isinstance(on, datetime) else on
    if not re.fullmatch(r"[0-9]{6}", region_code):
        raise BatchRuleError("batch-code", f"{region_code!r} is not a 6-digit region code")
    if not 1 <= sequence <= SEQUENCE_MAX:
        raise BatchRuleError(
            "batch-code-exhausted",
            f"region {region_code} has used all {SEQUENCE_MAX} batch codes of {day:%Y-%m-%d}",
        )
    return str(BatchCode(region_code, day, sequence))


def parse_batch_code(code: str) -> BatchCode:
    """The parts of a public batch code; raises `BatchRuleError` for anything else."""
    match = BATCH_CODE.fullmatch(code)
    if match is None:
        raise BatchRuleError(
            "batch-code",
            "a batch code is 18 digits: region(6) + date(8) + sequence(4)",
            "batch_code",
        )
    digits = match["day"]
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise BatchRuleError("batch-code", f"{digits} is not a date", "batch_code") from None
    sequence = int(match["sequence"])
    if sequence == 0:
        raise BatchRuleError("batch-code", "sequences start at 0001", "batch_code")
    return BatchCode(match["region"], day, sequence)
