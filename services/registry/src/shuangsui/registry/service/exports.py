"""Use case: the population export (`registry_subjects_export`) — every subject the list's
filters select and, when asked, every officer, read in ONE snapshot and streamed as NDJSON
between a header naming the snapshot point and a trailer with the counts (ADR 0012).

A task of its own reads the database and hands batches of lines to the response through a
queue of two batches: memory stays constant, and a client that stops reading for
`idle_seconds` loses its export instead of pinning a connection and a snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, replace
from typing import Any
from uuid import UUID

import orjson
import structlog

from shuangsui.kernel import problems as p
from shuangsui.kernel.auth import Principal
from shuangsui.kernel.db import Database
from shuangsui.kernel.scope import RegionScope
from shuangsui.registry.adapters.exports import (
    ConflictsShown,
    ExportReader,
    Snapshot,
    export_transaction,
    inspector_lines_query,
    subject_lines_query,
)
from shuangsui.registry.adapters.inspectors import InspectorFilter
from shuangsui.registry.adapters.subjects import SubjectFilters, filter_clauses
from shuangsui.registry.service.inspectors import reader_of

log = structlog.get_logger("registry.exports")

FORMAT = "shuangsui.registry.export.v1"
# The events whose changes the lines hold: a consumer that loaded the export skips those its
# snapshot covers (SnapshotPoint.skips).
SUBJECT_EVENTS = "registry.subject."
INSPECTOR_EVENTS = "registry.inspector."
QUEUED_BATCHES = 2

EXPORTS_BUSY = p.problem_type(
    "exports-busy", 429, "Too many exports at once · 导出任务过多",
    "This registry process is already streaming as many exports as it is configured for "
    "(EXPORT_CONCURRENCY); retry after the time in Retry-After.",
)  # fmt: skip


@dataclass(frozen=True)
class ExportLimits:
    idle_seconds: float  # a client that reads nothing for this long loses its export
    max_seconds: float  # no export lasts longer (PostgreSQL's transaction_timeout)
    concurrency: int  # exports one process streams at once


@dataclass
class ExportGate:
    """How many exports this process streams at once: each holds a connection throughout."""

    size: int
    running: int = 0

    def enter(self) -> None:
        if self.running >= self.size:
            raise p.Problem(
                EXPORTS_BUSY, f"{self.running} exports are running", headers={"Retry-After": "30"}
            )
        self.running += 1

    def leave(self) -> None:
        self.running -= 1


@dataclass(frozen=True)
class ExportRequest:
    by: Principal
    scope: RegionScope
    filters: SubjectFilters
    item_id: UUID | None = None
    inspectors: bool = False


def conflicts_shown(by: Principal) -> ConflictsShown:
    """The inspector list's rule (`Reader.sees_personal_data`) as PostgreSQL applies it per
    line: keepers see every officer's conflicts, a partner admin its department's, an officer
    their own (a test holds the two equal)."""
    reader = reader_of(by)
    if reader.keeps_directory:
        return ConflictsShown(to_all=True)
    return ConflictsShown(
        to_all=False, department_type=reader.only_department, officer_id=reader.sub
    )


def _officers_of(by: Principal) -> InspectorFilter:
    """Whom the inspector list shows the caller: its region, a partner admin its department."""
    reader = reader_of(by)
    return InspectorFilter(
        region_prefix=reader.region_prefix, department_type=reader.only_department
    )


class ExportAborted(RuntimeError):
    """The export stopped before its trailer; the client's download is incomplete."""


_END = object()


class Export:
    """One export in flight: `open()` takes the snapshot, then `stream()` sends the lines."""

    def __init__(self, request: ExportRequest, limits: ExportLimits) -> None:
        self.request = request
        self.limits = limits
        self.header: dict[str, Any] = {}
        self._queue: asyncio.Queue[Any] = asyncio.Queue(QUEUED_BATCHES)
        self._ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._task: asyncio.Task[None] | None = None

    async def open(self, database: Database, gate: ExportGate) -> None:
        """Starts reading and waits for the snapshot: a refusal (an unknown item, too many
        exports) is an answer of its own, before any line is sent."""
        gate.enter()
        self._task = asyncio.create_task(self._read(database))
        _RUNNING.add(self._task)  # the loop holds tasks weakly
        self._task.add_done_callback(lambda task: self._finished(task, gate))
        try:
            self.header = await asyncio.shield(self._ready)
        except BaseException:
            self._task.cancel()
            raise

    async def stream(self) -> AsyncIterator[bytes]:
        """The NDJSON body: header, lines, trailer. Closing it early (the client went away)
        cancels the reading task, which rolls back and closes its connection."""
        try:
            yield _line(self.header)
            while (chunk := await self._queue.get()) is not _END:
                if isinstance(chunk, BaseException):
                    raise ExportAborted("the export stopped before its end") from chunk
                yield chunk
        finally:
            if self._task is not None:
                self._task.cancel()

    def _finished(self, task: asyncio.Task[None], gate: ExportGate) -> None:
        gate.leave()
        _RUNNING.discard(task)
        if not self._ready.done():  # cancelled before it could even start
            self._ready.cancel()

    async def _read(self, database: Database) -> None:
        try:
            # PostgreSQL's own idle limit is a backstop behind ours (`_put`), for a process
            # that hangs or dies while its transaction is open.
            idle, most = self.limits.idle_seconds, self.limits.max_seconds
            async with export_transaction(database, 2 * idle, most) as reader:
                await self._read_in(reader)
            await self._put(_END)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
                return
            log.warning("export stopped before its end", error=repr(exc))
            # Whatever the client has not read is dropped: it gets the failure next.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(exc)

    async def _read_in(self, reader: ExportReader) -> None:
        request = self.request
        snapshot = await reader.snapshot()
        filters = request.filters
        if request.item_id is not None:
            key = await reader.item_key(request.item_id)
            if key is None:
                raise p.Problem(
                    p.NOT_FOUND, f"item {request.item_id} is not among the items in force here"
                )
            filters = replace(filters, item_key=key)
        subjects = reader.lines(subject_lines_query(filter_clauses(request.scope, filters)))
        # The query runs, and fails if it must, before the answer starts: then a failure is an
        # answer of its own, not an export cut short.
        first: list[bytes] = await anext(subjects, [])
        self._ready.set_result(_header(snapshot, request))
        counts: dict[str, int | None] = {"subjects": await self._send(subjects, first)}
        counts["inspectors"] = None
        if request.inspectors:
            query = inspector_lines_query(_officers_of(request.by), conflicts_shown(request.by))
            counts["inspectors"] = await self._send(reader.lines(query))
        await self._put(_line({"type": "trailer", **counts, "complete": True}))

    async def _send(self, batches: AsyncIterator[list[bytes]], *read: list[bytes]) -> int:
        """Queues the batches already `read`, then the others; the number of lines."""
        sent = 0
        for lines in read:
            sent += await self._put_lines(lines)
        async for lines in batches:
            sent += await self._put_lines(lines)
        return sent

    async def _put_lines(self, lines: list[bytes]) -> int:
        if lines:
            await self._put(b"\n".join(lines) + b"\n")
        return len(lines)

    async def _put(self, item: Any) -> None:
        try:
            await asyncio.wait_for(self._queue.put(item), self.limits.idle_seconds)
        except TimeoutError:
            raise ExportAborted(
                f"the client read nothing for {self.limits.idle_seconds:.0f} s"
            ) from None


_RUNNING: set[asyncio.Task[None]] = set()


def _header(snapshot: Snapshot, request: ExportRequest) -> dict[str, Any]:
    filters = {k: v for k, v in asdict(request.filters).items() if v not in (None, ())}
    if request.filters.risk_class is None:
        filters.pop("risk_domain", None)
    if request.item_id is not None:
        filters["item_id"] = str(request.item_id)
    covers = [SUBJECT_EVENTS, *([INSPECTOR_EVENTS] if request.inspectors else [])]
    return {
        "type": "header",
        "format": FORMAT,
        "snapshot": snapshot.snapshot,
        "taken_at": snapshot.taken_at,
        "last_outbox_seq": snapshot.last_seq,
        "last_event_id": snapshot.last_event_id,
        "region_scope": request.scope.prefix,
        "includes": ["subjects", *(["inspectors"] if request.inspectors else [])],
        "covers": covers,
        "filters": filters,
    }


def _line(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_UTC_Z, default=str) + b"\n"
