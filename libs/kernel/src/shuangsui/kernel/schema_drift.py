"""Do the tables a service's code declares match the tables its migrations create?

The adapters describe tables with SQLAlchemy `MetaData` to build their queries; the migrations
create them. Nothing ties the two together, so they drift apart silently (a column nullable in
one and not the other, an index declared but never created) until a query fails in production.
`schema_drift` migrates a database and names every difference, for a test to assert there is
none:

    assert await schema_drift("shuangsui.registry", fresh_database, declared_metadata(
        "shuangsui.registry.adapters", "shuangsui.messaging.tables", "shuangsui.kernel.idempotency"
    )) == []

Compared: tables, column names, types, nullability, primary keys, and the indexes, unique
constraints and foreign keys the code declares (the database may have more of those: an index
made only for speed need not be declared).
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from collections.abc import Sequence
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shuangsui.kernel.migrations import _async_url, upgrade

# What the database has and the code does not declare, that is not drift.
_UNDECLARED_IS_FINE = {"remove_index", "remove_constraint", "remove_fk"}


def declared_metadata(*modules: str) -> list[MetaData]:
    """Every `MetaData` defined at the top of `modules` (for a package, of each module in it)."""
    found: dict[int, MetaData] = {}
    for name in modules:
        module = importlib.import_module(name)
        names = [name]
        if hasattr(module, "__path__"):
            names += [f"{name}.{m.name}" for m in pkgutil.iter_modules(module.__path__)]
        for each in names:
            for value in vars(importlib.import_module(each)).values():
                if isinstance(value, MetaData):
                    found[id(value)] = value
    return list(found.values())


async def schema_drift(package: str, database_url: str, metadata: Sequence[MetaData]) -> list[str]:
    """Migrate the (empty) database at `database_url` with `package`'s migrations, then one line
    per difference from `metadata`; `[]` when they agree."""
    await asyncio.to_thread(upgrade, package, database_url)
    return await table_differences(database_url, metadata)


async def table_differences(database_url: str, metadata: Sequence[MetaData]) -> list[str]:
    """One line per difference between the database's tables and `metadata`, sorted."""
    engine = create_async_engine(_async_url(database_url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_differences, list(metadata))
    finally:
        await engine.dispose()


def _differences(connection: Connection, metadata: list[MetaData]) -> list[str]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    lines = []
    # Autogenerate compares several MetaData at once (as env.py's target_metadata may be a
    # list); only this function's annotation says one.
    for diff in compare_metadata(context, metadata):  # type: ignore[arg-type]
        # A column's modifications come as a list of tuples; everything else as one tuple.
        for change in diff if isinstance(diff, list) else [diff]:
            if change[0] not in _UNDECLARED_IS_FINE:
                lines.append(_describe(change))
    lines += _primary_key_differences(connection, metadata)
    return sorted(lines)


def _describe(change: tuple[Any, ...]) -> str:
    kind = change[0]
    if kind == "add_table":
        return f"table {change[1].name}: declared, but the migrations do not create it"
    if kind == "remove_table":
        return f"table {change[1].name}: created by the migrations, but declared nowhere"
    if kind == "add_column":
        return f"{change[2]}.{change[3].name}: declared, but the migrations do not create it"
    if kind == "remove_column":
        return f"{change[2]}.{change[3].name}: in the database, but not declared"
    if kind == "modify_nullable":
        _, _, table, column, _, in_database, declared = change
        return (
            f"{table}.{column}: declared {_nullable(declared)}, "
            f"the database has it {_nullable(in_database)}"
        )
    if kind == "modify_type":
        _, _, table, column, _, in_database, declared = change
        return f"{table}.{column}: declared {declared}, the database has {in_database}"
    if kind == "add_index":
        index = change[1]
        columns = ", ".join(getattr(c, "name", None) or str(c) for c in index.expressions)
        return f"index {index.name} on {index.table.name} ({columns}): declared, not created"
    if kind == "add_constraint":
        constraint = change[1]
        columns = ", ".join(c.name for c in constraint.columns)
        return f"{constraint.table.name}: unique ({columns}) declared, not created"
    if kind == "add_fk":
        fk = change[1]
        columns = ", ".join(c.name for c in fk.columns)
        return f"{fk.table.name}: foreign key ({columns}) declared, not created"
    return f"{kind}: {change[1:]}"


def _nullable(nullable: bool) -> str:
    return "nullable" if nullable else "NOT NULL"


def _primary_key_differences(connection: Connection, metadata: list[MetaData]) -> list[str]:
    """Alembic's comparison leaves primary keys out; a wrong one breaks every upsert."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    lines = []
    for table in (t for m in metadata for t in m.sorted_tables if t.name in existing):
        declared = [c.name for c in table.primary_key.columns]
        in_database = inspector.get_pk_constraint(table.name)["constrained_columns"]
        if declared != in_database:
            lines.append(
                f"{table.name}: primary key declared ({', '.join(declared)}), "
                f"the database has ({', '.join(in_database)})"
            )
    return lines
