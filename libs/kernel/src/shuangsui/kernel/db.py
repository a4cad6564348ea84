"""The database: an async SQLAlchemy engine and the unit of work that owns each transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Self

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    AsyncSessionTransaction,
    async_sessionmaker,
    create_async_engine,
)

from shuangsui.kernel.settings import DatabaseSettings

CommitHook = Callable[[AsyncSession, list[Any]], Awaitable[None]]
EventWriter = CommitHook

# SQLSTATEs by which PostgreSQL refuses a value it was given, as opposed to failing itself: too
# long, out of range, not a number/date/UUID, a character the encoding lacks (NUL), a bad LIKE
# escape or pattern, an index entry over the size limit. Division by zero and the like are the
# server's own doing and stay internal errors.
REFUSED_VALUE_STATES = frozenset({
    "22001", "22003", "22007", "22008", "22021", "22025", "22026", "2201B", "22P02", "22P05",
    "54000",
})  # fmt: skip


def refused_value(exc: BaseException) -> bool:
    """Whether `exc` is (or wraps) the database or its driver refusing a value a query was
    given: one of `REFUSED_VALUE_STATES`, or asyncpg failing to encode an argument for its
    parameter's type (a number out of range, text for an integer, a lone surrogate), which it
    reports as a plain `DataError` caused by the conversion's own error. Looks through
    SQLAlchemy's wrapping to the asyncpg error."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) in REFUSED_VALUE_STATES:
            return True
        if isinstance(seen, asyncpg.DataError) and isinstance(
            seen.__cause__, TypeError | ValueError | OverflowError
        ):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


class Database:
    """One engine per process; also a readiness component."""

    name = "database"

    def __init__(self, url: str, pool_size: int = 10) -> None:
        # No pre-ping: it costs a round trip on every checkout (a third of a short transaction).
        # After a database restart the first use of each stale connection fails once, and
        # SQLAlchemy then discards the whole pool; requests and consumers retry.
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> Database:
        return cls(settings.async_database_url, settings.database_pool_size)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.engine.dispose()

    async def ready(self) -> tuple[bool, str]:
        try:
            async with asyncio.timeout(2):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:  # readiness reports any failure, it never raises
            return False, f"unreachable: {type(exc).__name__}"
        return True, "ok"


class UnitOfWork:
    """One transaction per use case. Leaving the block without `commit()` rolls back.

    Events recorded with `record()` are handed to the commit hooks (the outbox writer) inside the
    same transaction, so a state change and its events are stored together or not at all.

    A bulk use case calls `flush_events()` every few thousand rows, so a million events never
    sit in memory; they are still written inside the one transaction.

    `nested_in(session)` gives the same unit of work as a savepoint of a larger transaction: an
    event consumer applies a whole fetched batch in one transaction, one savepoint per event, so
    one failing event rolls back alone and the batch pays for one commit instead of many.

    `shared_in(session)` gives it as a plain part of a larger transaction, without a savepoint:
    `commit()` writes the events and runs the hooks but commits nothing (the owner of the
    transaction does, or rolls the whole back). A block left without `commit()` cannot undo
    what it wrote, so it marks the unit of work `abandoned`, and the owner must roll back.
    """

    def __init__(
        self,
        database: Database,
        commit_hooks: list[CommitHook] | None = None,
        *,
        event_writer: EventWriter | None = None,
        within: AsyncSession | None = None,
        shared: bool = False,
    ) -> None:
        self._database = database
        self._commit_hooks = list(commit_hooks or [])
        self._event_writer = event_writer
        self._within = within
        self._shared = shared
        self._savepoint: AsyncSessionTransaction | None = None
        self._events: list[Any] = []
        self._session: AsyncSession | None = None
        self.committed = False
        self.abandoned = False

    def nested_in(self, session: AsyncSession) -> UnitOfWork:
        return UnitOfWork(
            self._database, self._commit_hooks, event_writer=self._event_writer, within=session
        )

    def shared_in(self, session: AsyncSession) -> UnitOfWork:
        return UnitOfWork(
            self._database,
            self._commit_hooks,
            event_writer=self._event_writer,
            within=session,
            shared=True,
        )

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `async with uow:`")
        return self._session

    def add_commit_hook(self, hook: CommitHook) -> None:
        self._commit_hooks.append(hook)

    def record(self, event: Any) -> None:
        self._events.append(event)

    async def __aenter__(self) -> Self:
        self._events = []
        self.committed = False
        if self._within is not None:
            self._session = self._within
            if self._shared:
                return self
            self._savepoint = await self._within.begin_nested()
            return self
        self._session = self._database.sessions()
        await self._session.begin()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._session is not None
        if self._shared:
            if not self.committed:
                self.abandoned = True
            self._session = None
            return
        if self._savepoint is not None:
            if not self.committed and self._savepoint.is_active:
                await self._savepoint.rollback()
            self._savepoint = None
            self._session = None
            return
        try:
            if not self.committed:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def flush_events(self) -> None:
        """Write the events recorded so far, inside the current transaction."""
        if self._event_writer is not None and self._events:
            await self._event_writer(self.session, self._events)
            self._events = []

    async def commit(self) -> None:
        await self.flush_events()
        for hook in self._commit_hooks:
            await hook(self.session, self._events)
        if self._shared:
            pass  # the enclosing transaction's owner commits it
        elif self._savepoint is not None:
            await self._savepoint.commit()  # released; the enclosing transaction commits it
        else:
            await self.session.commit()
        self._events = []
        self.committed = True
