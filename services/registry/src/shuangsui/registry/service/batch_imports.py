"""Batches planned whole (a CSV/XLSX sheet of a directory or an item list, the justice sync),
unlike a push's chunks.

Two steps are the same for every one of them: reading the uploaded sheet, where a file that
cannot be imported at all is refused before any row is looked at, and finishing the planned
batch — refused whole in atomic mode, else applied and committed — with the report every bulk
write answers with. How rows are planned and saved stays with each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Generic, Protocol, TypeVar

from shuangsui.contracts.batches import ChangeKind, RowError
from shuangsui.kernel import problems as p
from shuangsui.kernel.bulk import BulkReport
from shuangsui.kernel.db import UnitOfWork
from shuangsui.registry.adapters.sheets import TooManyRows, UnreadableSheet, read_sheet
from shuangsui.registry.domain.sheets import BadHeader, Sheet

# A sheet is read and checked whole (an XLSX cannot be streamed anyway), so its size is capped.
MAX_ROWS = 20_000

R = TypeVar("R")
Report = TypeVar("Report", bound=BulkReport)


class PlannedRow(Protocol):
    @property
    def line(self) -> int: ...

    @property
    def kind(self) -> ChangeKind: ...


Planned = TypeVar("Planned", bound=PlannedRow)


@dataclass(frozen=True)
class SheetRows(Generic[R]):
    header: Sequence[str]
    received: int  # data rows in the file, valid or not
    valid: list[tuple[int, R]]
    invalid: list[RowError]


def read_rows(
    media_type: str,
    body: bytes,
    parse: Callable[[Sheet], tuple[list[tuple[int, R]], list[RowError]]],
) -> SheetRows[R]:
    """The sheet's valid rows and the errors of the others; 415 for a file that is not of its
    type, 413 for too many rows, 422 for an unusable header or no data rows at all."""
    try:
        sheet = read_sheet(media_type, body, MAX_ROWS)
    except UnreadableSheet as exc:
        raise p.Problem(p.UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
    except TooManyRows as exc:
        raise p.Problem(p.PAYLOAD_TOO_LARGE, f"at most {MAX_ROWS} rows per import: {exc}") from None
    try:
        valid, invalid = parse(sheet)
    except BadHeader as bad:
        header_errors = [p.FieldError(f, r) for f, r in bad.errors]
        raise p.Problem(
            p.VALIDATION, "the header row is not usable", errors=header_errors
        ) from None
    if not sheet.rows:
        raise p.Problem(p.VALIDATION, errors=[p.FieldError("body", "the sheet has no data rows")])
    return SheetRows(sheet.header, len(sheet.rows), valid, invalid)


async def finish_batch(
    uow: UnitOfWork,
    report: Report,
    changes: Sequence[Planned],
    errors: Iterable[RowError],
    apply: Callable[[Sequence[Planned]], Awaitable[None]],
) -> Report:
    """Inside the unit of work: refuse the batch (atomic mode, any row rejected) by raising the
    report's problem, or count and apply its changes and commit."""
    _reject_rows(report, errors)
    if report.refused_whole:
        raise report.refusal()  # leaving the unit of work without commit rolls back
    for change in changes:
        # These rows carry no source time, so none is ever stale: no key to list.
        report.count(change.kind, change.line, key="")
    await apply(changes)
    await uow.commit()
    return report


def _reject_rows(report: BulkReport, errors: Iterable[RowError]) -> None:
    """A batch's errors are found all at once, not row by row: each row with any is rejected
    once, in line order, with all its errors, so the listed errors are the first rows' ones."""
    in_order = sorted(errors, key=lambda e: (e.line, e.field))
    for _, row_errors in groupby(in_order, key=lambda e: e.line):
        report.reject(list(row_errors))
