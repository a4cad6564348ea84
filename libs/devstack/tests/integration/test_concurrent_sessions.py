"""Another pytest session starting while this one runs (a developer's second terminal, or CI
running two suites) does not take this session's servers down."""

import subprocess
import sys

import asyncpg


async def test_a_second_pytest_session_leaves_this_sessions_postgresql_running(stack, tmp_path):
    (tmp_path / "test_nothing.py").write_text("def test_nothing(tmp_path):\n    pass\n")
    # A pytest session makes its temporary root private again when it starts.
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip

    conn = await asyncpg.connect(stack.postgres.dsn())
    try:
        # A checkpoint rewrites pg_control: it fails (and the server panics) if PostgreSQL's
        # user can no longer reach its data directory.
        await conn.execute("CHECKPOINT")
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
