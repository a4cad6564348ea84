"""Use case: the population export (`registry_subjects_export`) — every subject the list's
filters select and, when asked, every officer, read in ONE snapshot and streamed as NDJSON
between a header naming the snapshot point and a trailer with the counts (ADR 0012).

The subjects are read in ranges of the table's pages by `parallelism` connections, one
transaction each, all in the snapshot the first one takes and exports (`pg_export_snapshot`):
PostgreSQL writes the lines of several ranges at once, on as many cores, while the response
sends the ranges in their order, so the answer is the same whatever the parallelism.

Every range hands its COPY's chunks over a queue of a few chunks and the response takes them
through a queue of two: memory stays constant, and a client that stops reading for
`idle_seconds` loses its export instead of pinning connections and a snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass, field, replace
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
    page_range,
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
QUEUED_BATCHES = 2  # chunks waiting for the client
CHUNK_BYTES = 256 * 1024
# Chunks a range's reader may get ahead of the response (4 MB): about a whole range, so a
# reader copies its range while the one before is still being sent instead of waiting for it.
QUEUED_CHUNKS = 16
# Heap pages per range (2 MB, some 6,000 subjects, a few MB of lines): small enough that a
# range's lines fit its queue, large enough that its query costs little beside its rows.
RANGE_PAGES = 256

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
    parallelism: int = 1  # connections (transactions in one snapshot) each export reads with


@dataclass
class ExportGate:
    """How many exports this process streams at once: each holds up to `parallelism`
    connections throughout (the settings keep that within the pool)."""

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


@dataclass
class _Part:
    """Lines of one query (a range of subjects, or the officers), as its reader copies them."""

    kind: str  # the trailer's count they add to
    query: Any
    chunks: asyncio.Queue[Any] = field(default_factory=lambda: asyncio.Queue(QUEUED_CHUNKS))

    async def copy_with(self, reader: ExportReader) -> None:
        # COPY arrives in pieces of a few dozen kB; handing on fewer, larger ones saves the
        # queues, the response and the client as much work per piece.
        pending: list[bytes] = []
        size = 0

        async def take(data: bytes) -> None:
            nonlocal size
            pending.append(data)
            size += len(data)
            if size >= CHUNK_BYTES:
                await self.chunks.put(b"".join(pending))  # bytes, copied once
                pending.clear()
                size = 0

        await reader.copy(self.query, take)
        if pending:
            await self.chunks.put(b"".join(pending))
        await self.chunks.put(_END)


@dataclass
class _Plan:
    header: dict[str, Any]
    parts: list[_Part]  # in the order the response sends them
    snapshot_id: str | None  # for the helpers, when there are any
    helpers: int
    unclaimed: Iterator[_Part] = field(init=False)  # shared: each part goes to one reader
    # Parts claimed and not yet sent: one per reader and the one being sent. What an export
    # holds in memory is at most that many queues.
    window: asyncio.Semaphore = field(init=False)
    imported: asyncio.Event = field(default_factory=asyncio.Event)
    importing: int = field(init=False)

    def __post_init__(self) -> None:
        self.unclaimed = iter(self.parts)
        self.window = asyncio.Semaphore(self.helpers + 2)
        self.importing = self.helpers
        if not self.helpers:
            self.imported.set()

    def helper_in_snapshot(self) -> None:
        self.importing -= 1
        if not self.importing:
            self.imported.set()

    async def read_with(self, reader: ExportReader) -> None:
        while True:
            await self.window.acquire()  # released when the part has been sent
            part = next(self.unclaimed, None)
            if part is None:
                self.window.release()
                return
            await part.copy_with(reader)


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
            await self._read_all(database)
            await self._put(_END)
        except asyncio.CancelledError:
            raise
        except Exception as failure:
            exc = _first_of(failure)
            if not self._ready.done():
                self._ready.set_exception(exc)
                return
            log.warning("export stopped before its end", error=repr(exc))
            # Whatever the client has not read is dropped: it gets the failure next.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(exc)

    async def _read_all(self, database: Database) -> None:
        """The first reader plans the export; helpers join its snapshot; this task sends the
        parts in order. Any of them failing cancels the others (and closes their
        connections)."""
        planned: asyncio.Future[_Plan] = asyncio.get_running_loop().create_future()
        async with asyncio.TaskGroup() as readers:
            readers.create_task(self._lead(database, planned))
            plan = await planned
            for _ in range(plan.helpers):
                readers.create_task(self._help(database, plan))
            await self._send(plan)

    def _transaction(self, database: Database, snapshot: str | None = None) -> Any:
        # PostgreSQL's own idle limit is a backstop behind ours (`_put`), for a process that
        # hangs or dies while its transaction is open.
        idle, most = self.limits.idle_seconds, self.limits.max_seconds
        return export_transaction(database, 2 * idle, most, snapshot)

    async def _lead(self, database: Database, planned: asyncio.Future[_Plan]) -> None:
        async with self._transaction(database) as reader:
            plan = await self._plan(reader)
            planned.set_result(plan)
            await plan.read_with(reader)
            # The snapshot is exported only while this transaction lasts.
            await plan.imported.wait()

    async def _help(self, database: Database, plan: _Plan) -> None:
        async with self._transaction(database, plan.snapshot_id) as reader:
            plan.helper_in_snapshot()
            await plan.read_with(reader)

    async def _plan(self, reader: ExportReader) -> _Plan:
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
        clauses = filter_clauses(request.scope, filters)
        starts = list(range(0, max(await reader.pages(), 1), RANGE_PAGES))
        ends: list[int | None] = [*starts[1:], None]  # the last range is open: rows the
        # snapshot sees are all below the size read after it, this only says so plainly
        parts = [
            _Part("subjects", subject_lines_query([*clauses, *page_range(start, end)]))
            for start, end in zip(starts, ends, strict=True)
        ]
        if request.inspectors:
            query = inspector_lines_query(_officers_of(request.by), conflicts_shown(request.by))
            parts.append(_Part("inspectors", query))
        helpers = min(self.limits.parallelism, len(parts)) - 1
        snapshot_id = await reader.export_snapshot() if helpers else None
        return _Plan(_header(snapshot, request), parts, snapshot_id, helpers)

    async def _send(self, plan: _Plan) -> None:
        """Queues each part's chunks in order, then the trailer. The answer starts once the
        first part has run (its first chunk, or its end): a query that fails, fails before,
        and is an answer of its own, not an export cut short."""
        counts: dict[str, int | None] = {"subjects": 0, "inspectors": None}
        for part in plan.parts:
            sent = 0
            while (chunk := await part.chunks.get()) is not _END:
                self._start(plan)
                sent += chunk.count(b"\n")  # one line each: JSON text holds no raw newline
                await self._put(chunk)
            self._start(plan)
            plan.window.release()
            counts[part.kind] = (counts[part.kind] or 0) + sent
        await self._put(_line({"type": "trailer", **counts, "complete": True}))

    def _start(self, plan: _Plan) -> None:
        if not self._ready.done():
            self._ready.set_result(plan.header)

    async def _put(self, item: Any) -> None:
        try:
            await asyncio.wait_for(self._queue.put(item), self.limits.idle_seconds)
        except TimeoutError:
            raise ExportAborted(
                f"the client read nothing for {self.limits.idle_seconds:.0f} s"
            ) from None


def _first_of(failure: BaseException) -> BaseException:
    """The error a reader's failure is about, out of the task group's wrapping."""
    while isinstance(failure, BaseExceptionGroup):
        failure = failure.exceptions[0]
    return failure


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
