"""The shape every push from a provincial system shares: rows in chunks, a report, all or none.

Atomic mode applies all rows or none; per-row mode applies every valid row. Rows are handled in
chunks, so a million-row push never sits in memory; the report (`shuangsui.kernel.bulk`) lists
at most 1,000 errors but always counts everything.

Chunks are pipelined: while PostgreSQL works on one chunk (COPY, merge, outbox), the next one is
read and validated. The connection is still used by one chunk at a time, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError

from shuangsui.contracts.batches import RowError
from shuangsui.kernel.bulk import BulkReport
from shuangsui.kernel.db import UnitOfWork
from shuangsui.kernel.problems import Problem, problem_type
from shuangsui.registry.domain.conflicts import ChangedMeanwhile
from shuangsui.registry.domain.subjects import DuplicateGuard, PushMode

CHUNK = 5000
# Reading and validating hand the event loop back this often, so that the previous chunk's
# database replies are taken as they arrive instead of after the whole chunk is validated.
YIELD_EVERY = 250

CONCURRENT_CHANGE = problem_type(
    "concurrent-change", 409, "Changed by another push meanwhile · 并发修改",
    "Another push changed the same records at the same moment; nothing of this batch was "
    "applied. Send it again.",
)  # fmt: skip

Row = tuple[int, dict[str, Any] | RowError]
Valid = TypeVar("Valid")


class Keyed(Protocol):
    @property
    def uscc(self) -> str: ...

    @property
    def key(self) -> str: ...


K = TypeVar("K", bound=Keyed)


def read_chunk(
    chunk: list[Row],
    report: BulkReport,
    read: Callable[[dict[str, Any], int], K | list[RowError]],
    duplicates: DuplicateGuard,
) -> list[tuple[int, K]]:
    """Read each row of a chunk; unreadable, invalid and repeated rows go to the report."""
    valid = []
    for line, raw in chunk:
        report.received += 1
        if isinstance(raw, RowError):
            report.reject([raw])
            continue
        result = read(raw, line)
        if isinstance(result, list):
            report.reject(result)
            continue
        duplicate = duplicates.check(line, result.key, result.uscc)
        if duplicate is not None:
            report.reject([duplicate])
            continue
        valid.append((line, result))
    return valid


async def run_push(
    uow: UnitOfWork,
    rows: AsyncIterator[Row],
    mode: PushMode,
    validate: Callable[[list[Row], BulkReport], list[Valid]],
    apply: Callable[[list[Valid], BulkReport], Awaitable[None]],
) -> BulkReport:
    report = BulkReport(mode)

    async def apply_chunk(valid: list[Valid]) -> None:
        await apply(valid, report)
        await uow.flush_events()

    try:
        async with uow:
            writing: asyncio.Task[None] | None = None
            try:
                async for chunk in _chunks(rows):
                    valid = await _validate(chunk, report, validate)
                    if writing is not None:
                        await writing  # chunks are written one after another, in order
                        writing = None
                    if report.refused_whole:
                        continue  # keep validating to report every error; write nothing more
                    writing = asyncio.ensure_future(apply_chunk(valid))
                if writing is not None:
                    await writing
                    writing = None
            finally:
                # Never roll back under a chunk still writing: let it finish (or fail) first.
                if writing is not None:
                    await asyncio.gather(writing, return_exceptions=True)
            if report.refused_whole:
                raise report.refusal()  # leaving the block without commit rolls everything back
            await uow.commit()
    except IntegrityError as exc:
        if "idempotency_keys" in str(exc.orig):
            raise  # a retry with the same key committed first: the key answers with its result
        raise Problem(CONCURRENT_CHANGE, str(exc.orig)[:200]) from None
    except ChangedMeanwhile as exc:
        raise Problem(CONCURRENT_CHANGE, str(exc)) from None
    return report


async def _validate(
    chunk: list[Row],
    report: BulkReport,
    validate: Callable[[list[Row], BulkReport], list[Valid]],
) -> list[Valid]:
    valid: list[Valid] = []
    for start in range(0, len(chunk), YIELD_EVERY):
        valid.extend(validate(chunk[start : start + YIELD_EVERY], report))
        await asyncio.sleep(0)
    return valid


async def _chunks(rows: AsyncIterator[Row]) -> AsyncIterator[list[Row]]:
    chunk: list[Row] = []
    async for row in rows:
        chunk.append(row)
        if len(chunk) % YIELD_EVERY == 0:
            await asyncio.sleep(0)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def rows_of(items: Iterator[Row]) -> AsyncIterator[Row]:
    for item in items:
        yield item
