"""The registry and the gateway as real uvicorn processes, started as the dev stack starts them
(same commands, on the `stack` fixture's ports), so requests and early answers cross real
sockets; in process (ASGI) a body is never in flight while an answer is sent."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from shuangsui.devstack.processes import stop_process
from shuangsui.devstack.stack import Stack
from shuangsui.devstack.supervisor import ChildSpec

# The registry under test refuses pushes over this, so a 413 needs only a few megabytes.
PUSH_LIMIT = 2 * 1024 * 1024


@contextlib.contextmanager
def serving(spec: ChildSpec, ready_url: str, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run `spec` until the block ends; ready once `ready_url` answers 200."""
    spec.log_file.parent.mkdir(parents=True, exist_ok=True)
    with spec.log_file.open("ab") as log:
        process = subprocess.Popen(
            spec.argv,
            env={**os.environ, **spec.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{spec.name} exited:\n{spec.log_file.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{spec.name} not ready:\n{spec.log_file.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process
    finally:
        stop_process(process)


def on_port(spec: ChildSpec, port: int) -> ChildSpec:
    argv = list(spec.argv)
    argv[argv.index("--port") + 1] = str(port)
    return ChildSpec(spec.name, argv, spec.env, spec.log_file)


@pytest.fixture(scope="module")
def live_gateway(stack: Stack) -> Iterator[str]:
    """The gateway's URL, with the registry behind it (the other services stay down)."""
    specs = {spec.name: spec for spec in stack.process_specs()}
    registry, gateway = stack.settings.url_of("registry"), stack.settings.url_of("gateway")
    with (
        serving(specs["registry"], f"{registry}/readyz", MAX_PUSH_BYTES=str(PUSH_LIMIT)),
        serving(specs["gateway"], f"{gateway}/healthz"),
    ):
        yield gateway


@pytest.fixture(scope="session")
def large_body() -> bytes:
    """Three times the registry's limit: far more than either server reads before answering."""
    line = json.dumps({"uscc": "91330106MA00000000", "name": "杭州大批量测试有限公司"}).encode()
    return (line + b"\n") * (3 * PUSH_LIMIT // (len(line) + 1) + 1)


@pytest.fixture
def registry_on_port(stack: Stack) -> Callable[[int], contextlib.AbstractContextManager[object]]:
    """`with registry_on_port(port): …` — a registry process of its own, on `port`."""
    spec = next(spec for spec in stack.process_specs() if spec.name == "registry")
    return lambda port: serving(on_port(spec, port), f"http://127.0.0.1:{port}/readyz")
