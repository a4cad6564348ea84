"""What the benchmarks stand on: a throw-away stack, and the registry API served by uvicorn."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from rich.console import Console

from shuangsui.devstack.config import StackSettings
from shuangsui.devstack.ports import free_port
from shuangsui.devstack.stack import Stack

console = Console(stderr=True)


@contextmanager
def throwaway_stack(prefix: str) -> Iterator[Stack]:
    """PostgreSQL and NATS on free ports, every service migrated, all gone afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        settings = StackSettings(
            data_dir=Path(tmp) / ".data",
            pg_port=free_port(),
            nats_port=free_port(),
            durable=True,
            demo_subjects=0,
        )
        stack = Stack(settings, say=lambda m: console.print(m))
        stack.start_infrastructure()
        stack.migrate()
        try:
            yield stack
        finally:
            stack.stop()


@contextmanager
def registry_api(stack: Stack, workers: int = 1) -> Iterator[str]:
    """The registry as production runs it (uvicorn, one process unless told otherwise); yields
    its base URL."""
    with service_api(stack, "registry", workers) as url:
        yield url


@contextmanager
def service_api(
    stack: Stack, service: str, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[str]:
    """A service's API as production runs it (uvicorn), with `env` added to the service's own
    environment; yields its base URL."""
    port = free_port()
    env = {**os.environ, **stack.service_env(service), "LOG_LEVEL": "WARNING", **(env or {})}
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", f"shuangsui.{service}.main:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
        "--workers", str(workers),
    ]  # fmt: skip
    api = subprocess.Popen(argv, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, service)
        yield url
    finally:
        api.terminate()
        api.wait()


def _wait_up(url: str, service: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the {service} did not start")
