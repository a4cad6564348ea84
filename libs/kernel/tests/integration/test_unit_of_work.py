"""One transaction per use case: nothing is kept unless committed, and the commit hooks (the
outbox writer) store the recorded events in the same transaction as the state change."""

from dataclasses import dataclass

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from shuangsui.kernel.db import UnitOfWork

metadata = MetaData()
subjects = Table("subjects", metadata, Column("uscc", String, primary_key=True))
outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event", String, nullable=False),
)


@dataclass(frozen=True)
class SubjectUpserted:
    uscc: str


class HookFailed(Exception):
    pass


class UseCaseFailed(Exception):
    pass


async def push_subject(uow: UnitOfWork, uscc: str) -> None:
    """A use case: store the subject and record its event, in one transaction."""
    async with uow:
        await uow.session.execute(insert(subjects).values(uscc=uscc))
        uow.record(SubjectUpserted(uscc))
        await uow.commit()


@pytest.fixture
async def db(database):
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return database


async def count(db, table: Table) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def write_outbox(session, events) -> None:
    for event in events:
        await session.execute(insert(outbox).values(event=f"SubjectUpserted:{event.uscc}"))


async def failing_hook(_session, _events) -> None:
    raise HookFailed("the outbox is full")


async def test_leaving_the_block_without_commit_rolls_back(db):
    async with UnitOfWork(db) as uow:
        await uow.session.execute(insert(subjects).values(uscc="A"))

    assert await count(db, subjects) == 0


async def test_committed_change_is_kept(db):
    async with UnitOfWork(db) as uow:
        await uow.session.execute(insert(subjects).values(uscc="A"))
        await uow.commit()

    assert await count(db, subjects) == 1


async def test_error_inside_the_block_rolls_back(db):
    async def push_then_fail() -> None:
        async with UnitOfWork(db) as uow:
            await uow.session.execute(insert(subjects).values(uscc="A"))
            raise UseCaseFailed("the batch is invalid")

    with pytest.raises(UseCaseFailed):
        await push_then_fail()

    assert await count(db, subjects) == 0


async def test_commit_hook_sees_the_uncommitted_change_of_its_transaction(db):
    seen: list[int] = []

    async def look(session, _events) -> None:
        seen.append(
            int((await session.execute(select(func.count()).select_from(subjects))).scalar_one())
        )

    async with UnitOfWork(db, [look]) as uow:
        await uow.session.execute(insert(subjects).values(uscc="A"))
        await uow.commit()

    assert seen == [1]


async def test_state_change_and_its_events_are_stored_together(db):
    await push_subject(UnitOfWork(db, [write_outbox]), "A")

    assert (await count(db, subjects), await count(db, outbox)) == (1, 1)


async def test_failing_commit_hook_rolls_back_the_state_change_too(db):
    with pytest.raises(HookFailed):
        await push_subject(UnitOfWork(db, [write_outbox, failing_hook]), "A")

    assert (await count(db, subjects), await count(db, outbox)) == (0, 0)


async def test_recorded_events_are_handed_to_the_hooks_in_order(db):
    handed: list[list[SubjectUpserted]] = []

    async def capture(_session, events) -> None:
        handed.append(list(events))

    async with UnitOfWork(db, [capture]) as uow:
        uow.record(SubjectUpserted("A"))
        uow.record(SubjectUpserted("B"))
        await uow.commit()

    assert handed == [[SubjectUpserted("A"), SubjectUpserted("B")]]


async def test_events_of_a_rolled_back_use_case_are_not_published_by_the_next(db):
    handed: list[list[SubjectUpserted]] = []

    async def capture(_session, events) -> None:
        handed.append(list(events))

    uow = UnitOfWork(db, [capture])
    async with uow:
        uow.record(SubjectUpserted("rejected"))
    async with uow:
        uow.record(SubjectUpserted("accepted"))
        await uow.commit()

    assert handed == [[SubjectUpserted("accepted")]]


async def test_hook_added_for_one_use_case_runs_at_its_commit(db):
    async def claim(session, _events) -> None:
        await session.execute(insert(subjects).values(uscc="claimed-by-hook"))

    uow = UnitOfWork(db)
    uow.add_commit_hook(claim)
    async with uow:
        await uow.commit()

    assert await count(db, subjects) == 1


async def test_nested_units_roll_back_alone_and_commit_with_the_enclosing_transaction(db):
    """An event consumer's batch: one savepoint per event, one commit for the batch."""
    template = UnitOfWork(db, [write_outbox])
    async with db.sessions() as session, session.begin():
        await push_subject(template.nested_in(session), "A")
        failing = UnitOfWork(db, [write_outbox, failing_hook]).nested_in(session)
        with pytest.raises(HookFailed):
            await push_subject(failing, "B")
        await push_subject(template.nested_in(session), "C")
        assert await count(db, subjects) == 0, "nothing is visible before the batch commits"

    async with db.engine.connect() as conn:
        stored = sorted((await conn.execute(select(subjects.c.uscc))).scalars())
    assert stored == ["A", "C"]
    assert await count(db, outbox) == 2


async def test_a_nested_unit_left_without_commit_leaves_nothing_behind(db):
    async with db.sessions() as session, session.begin():
        async with UnitOfWork(db).nested_in(session) as uow:
            await uow.session.execute(insert(subjects).values(uscc="D"))
        await push_subject(UnitOfWork(db).nested_in(session), "E")
    async with db.engine.connect() as conn:
        stored = sorted((await conn.execute(select(subjects.c.uscc))).scalars())
    assert stored == ["E"]
