"""One database and one login role per service: a role reaches only its own database."""

import asyncpg
import pytest


async def test_a_service_role_connects_to_its_own_database(stack):
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        assert await conn.fetchval("SELECT current_database()") == "registry"
    finally:
        await conn.close()


@pytest.mark.parametrize("other", ["planning", "sampling", "postgres"])
async def test_a_service_role_cannot_connect_to_another_database(stack, other):
    dsn = stack.postgres.dsn("registry", stack.credentials["registry"], other)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(dsn)


async def test_a_service_role_is_not_a_superuser(stack):
    conn = await asyncpg.connect(stack.database_url("planning"))
    try:
        assert (
            await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            is False
        )
    finally:
        await conn.close()
