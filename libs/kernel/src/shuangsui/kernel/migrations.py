"""Alembic, driven from code: each service keeps its migrations inside its package.

A service's `migrations/env.py` is two lines (`from shuangsui.kernel.migrations import run_env;
run_env()`); `upgrade(package)` runs them against DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import os

from alembic import command, context
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def _async_url(url: str) -> str:
    return "postgresql+asyncpg://" + url.split("://", 1)[1]


def alembic_config(package: str, database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    url = database_url or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("DATABASE_URL is not set (the service's own PostgreSQL database)")
    config.set_main_option("sqlalchemy.url", _async_url(url).replace("%", "%%"))
    return config


def upgrade(package: str, database_url: str | None = None, revision: str = "heads") -> None:
    command.upgrade(alembic_config(package, database_url), revision)


def _run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run_migrations)
    await engine.dispose()


def run_env() -> None:
    """The body of every service's alembic env.py."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    asyncio.run(_run_online(url))


def main(argv: list[str] | None = None) -> None:
    """`python -m shuangsui.kernel.migrations upgrade shuangsui.registry` (uses DATABASE_URL)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "upgrade":
        raise SystemExit("usage: python -m shuangsui.kernel.migrations upgrade <package>")
    upgrade(args[1])


if __name__ == "__main__":
    main()
