"""Pytest fixtures: real PostgreSQL and NATS, started once per test session on free ports.

Loaded for the whole workspace through `-p shuangsui.devstack.pytest_plugin` (root pyproject).
Fixtures:
- `stack` — PostgreSQL + NATS + one migrated database per service (no service processes).
- `issuer` — the development token issuer of that stack; `mint_token(roles=…, region=…)`;
  `bearer("provincial_admin", region=…)` — the Authorization header of such a token.
- `service_app(name)` — a service's ASGI app built in-process against the real stack.
- `fresh_database()` — an empty database of its own for a test (library tests).
- `platform` — the whole platform as real processes through `shuangsui dev up`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest

from shuangsui.devstack.config import SERVICES, StackSettings
from shuangsui.devstack.issuer import DevIssuer, authorization
from shuangsui.devstack.ports import free_port
from shuangsui.devstack.stack import Stack

E2E_DEMO_SUBJECTS = 300
E2E_DEMO_INSPECTORS = 30


def _quiet(_message: str) -> None:
    return None


@contextlib.contextmanager
def server_directory(purpose: str) -> Iterator[Path]:
    """A directory for a session's servers, outside pytest's own temporary tree.

    Run as root, PostgreSQL runs as an unprivileged user, so the path to its data directory is
    made traversable. Every pytest session that starts makes `/tmp/pytest-of-<user>` private
    again (pytest's own safeguard), which would cut a server of another session, still running,
    off from its files (PostgreSQL panics at its next checkpoint). So the servers live here."""
    path = Path(tempfile.mkdtemp(prefix=f"shuangsui-{purpose}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    # Free ports for everything, services included: the URLs the gateway is given must not
    # reach a developer's own `make run` on the default ports.
    ports = {f"{name}_port": free_port() for name in (*SERVICES, "gateway", "pg", "nats")}
    with server_directory("stack") as directory:
        settings = StackSettings.model_validate(
            {"data_dir": directory / ".data", "durable": False, **ports}
        )
        stack = Stack(settings, say=_quiet)
        stack.start_infrastructure()
        try:
            stack.migrate()
            yield stack
        finally:
            stack.stop()


@pytest.fixture(scope="session")
def issuer(stack: Stack) -> DevIssuer:
    stack.issuer.ensure_keys()
    return stack.issuer


@pytest.fixture(scope="session")
def mint_token(issuer: DevIssuer) -> Callable[..., str]:
    """`mint_token(roles=["provincial_admin"], region="330000", scopes=[…], exp=…, iss=…)`."""

    return issuer.token_for


@pytest.fixture(scope="session")
def bearer(issuer: DevIssuer) -> Callable[..., dict[str, str]]:
    """`bearer("provincial_admin", region="440000", scopes=[…])`: the Authorization header of a
    token holding those roles (any claim of `mint_token` as a keyword; region 330000 unless
    told)."""

    def headers(*roles: str, region: str = "330000", **claims: Any) -> dict[str, str]:
        return authorization(issuer.token_for(roles=list(roles), region=region, **claims))

    return headers


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@pytest.fixture(scope="session")
def service_env(stack: Stack) -> Callable[[str], dict[str, str]]:
    return lambda service: (
        stack.gateway_env() if service == "gateway" else stack.service_env(service)
    )


@pytest.fixture
async def service_client(
    service_env: Callable[[str], dict[str, str]],
) -> AsyncIterator[Callable[[str], Any]]:
    """`client = await service_client("registry")`: httpx against the app, lifespan running."""
    import importlib

    stack_exit = contextlib.AsyncExitStack()

    async def open_client(service: str) -> httpx.AsyncClient:
        with environment(service_env(service)):
            app = importlib.import_module(f"shuangsui.{service}.main").create_app()
        await stack_exit.enter_async_context(app.router.lifespan_context(app))
        await _wait_components_ready(app)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://{service}"
        )
        await stack_exit.enter_async_context(client)
        return client

    async with stack_exit:
        yield open_client


async def _wait_components_ready(app: Any, timeout: float = 10.0) -> None:
    import asyncio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Only the app's own links are waited for; a gateway's upstreams may be down on purpose.
        own = [c for c in app.state.components if c.name in ("database", "broker")]
        if all([(await c.ready())[0] for c in own]):
            return
        await asyncio.sleep(0.05)


@pytest.fixture
async def fresh_database(stack: Stack) -> AsyncIterator[str]:
    """A new empty database for one test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(stack.postgres.dsn())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield stack.postgres.dsn(database=name)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


class RunningPlatform:
    def __init__(
        self, settings: StackSettings, process: subprocess.Popen[bytes], log: Path
    ) -> None:
        self.settings = settings
        self.process = process
        self.log = log
        self.issuer = DevIssuer(settings.data_dir.resolve() / "dev-issuer")

    @property
    def gateway(self) -> str:
        return self.settings.url_of("gateway")

    def token(self, *, roles: list[str], region: str = "330000", **options: Any) -> str:
        return self.issuer.token_for(roles=roles, region=region, **options)

    def descendants(self) -> list[psutil.Process]:
        try:
            children: list[psutil.Process] = psutil.Process(self.process.pid).children(
                recursive=True
            )
            return children
        except psutil.NoSuchProcess:
            return []


@pytest.fixture(scope="session")
def platform() -> Iterator[RunningPlatform]:
    """The whole platform through the real `shuangsui dev up`, on free ports."""
    with server_directory("platform") as directory:
        yield from _running_platform(directory / ".data")


def _running_platform(data: Path) -> Iterator[RunningPlatform]:
    ports = {
        f"SHUANGSUI_{s.upper()}_PORT": str(free_port())
        for s in (*SERVICES, "gateway", "pg", "nats")
    }
    env = {
        **os.environ,
        **ports,
        "SHUANGSUI_DATA_DIR": str(data),
        "SHUANGSUI_DURABLE": "false",
        "SHUANGSUI_DEMO_SUBJECTS": str(E2E_DEMO_SUBJECTS),
        "SHUANGSUI_DEMO_INSPECTORS": str(E2E_DEMO_INSPECTORS),
    }
    settings = StackSettings.model_validate(
        {
            "data_dir": data,
            **{k.removeprefix("SHUANGSUI_").lower(): int(v) for k, v in ports.items()},
        }
    )
    log = data.parent / "dev-up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shuangsui.cli.main", "dev", "up"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = RunningPlatform(settings, process, log)
    try:
        _wait_for_gateway(running, timeout=180)
        yield running
    finally:
        children = running.descendants()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        _, alive = psutil.wait_procs(children, timeout=10)
        if alive:
            for orphan in alive:
                orphan.kill()
            pytest.fail(f"`shuangsui dev up` left processes behind: {[p.pid for p in alive]}")


def _wait_for_gateway(running: RunningPlatform, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"shuangsui dev up exited early:\n{running.log.read_text()[-4000:]}")
        # `dev up` says so once the demo province is loaded too: the gateway answers earlier.
        announced = "the platform is ready" in running.log.read_text(errors="replace")
        with contextlib.suppress(httpx.HTTPError):
            if announced and httpx.get(f"{running.gateway}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"platform not ready in {timeout}s:\n{running.log.read_text()[-4000:]}")
