"""The drift check names every way declared tables and a real database disagree, and nothing
when they agree (the workspace test `tests/test_schema_drift.py` runs it on every service)."""

import asyncpg
from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text

from shuangsui.kernel import idempotency
from shuangsui.kernel.schema_drift import declared_metadata, table_differences

CREATED = """
CREATE TABLE things (
    id integer PRIMARY KEY,
    name text NOT NULL,
    note text,
    extra text,
    made_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX things_note ON things (note);
CREATE TABLE pairs (a integer NOT NULL, b integer NOT NULL, PRIMARY KEY (a, b));
CREATE TABLE stray (id integer PRIMARY KEY);
"""


def matching() -> MetaData:
    metadata = MetaData()
    Table(
        "things",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", Text, nullable=False),
        Column("note", Text),
        Column("extra", Text),
        Column("made_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "pairs",
        metadata,
        Column("a", Integer, primary_key=True),
        Column("b", Integer, primary_key=True),
    )
    Table("stray", metadata, Column("id", Integer, primary_key=True))
    return metadata


async def created(database_url: str) -> str:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(CREATED)
    finally:
        await connection.close()
    return database_url


async def test_tables_declared_as_created_have_no_drift(fresh_database):
    # The index on `note` exists only in the database: an index kept for speed need no declaring.
    assert await table_differences(await created(fresh_database), [matching()]) == []


async def test_every_difference_is_named(fresh_database):
    metadata = MetaData()
    Table(
        "things",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", Text),
        Column("note", String(10)),
        Column("made_at", DateTime(timezone=True), nullable=False),
        Column("missing", Text),
        Index("things_name", "name"),
    )
    Table(
        "pairs",
        metadata,
        Column("a", Integer, primary_key=True),
        Column("b", Integer, nullable=False),
    )
    Table("ghost", metadata, Column("id", Integer, primary_key=True))

    drift = await table_differences(await created(fresh_database), [metadata])

    assert drift == [
        "index things_name on things (name): declared, not created",
        "pairs: primary key declared (a), the database has (a, b)",
        "table ghost: declared, but the migrations do not create it",
        "table stray: created by the migrations, but declared nowhere",
        "things.extra: in the database, but not declared",
        "things.missing: declared, but the migrations do not create it",
        "things.name: declared nullable, the database has it NOT NULL",
        "things.note: declared VARCHAR(10), the database has TEXT",
    ]


async def test_tables_may_be_declared_across_several_metadata(fresh_database):
    first, second = MetaData(), MetaData()
    full = matching()
    for table in full.sorted_tables:
        table.to_metadata(first if table.name == "things" else second)
    assert await table_differences(await created(fresh_database), [first, second]) == []


def test_the_metadata_of_a_module_and_of_a_package_are_found():
    assert declared_metadata("shuangsui.kernel.idempotency") == [idempotency.metadata]
    assert idempotency.metadata in declared_metadata("shuangsui.kernel")
