"""The whole platform on one machine: PostgreSQL, NATS, one database per service, every process."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from shuangsui.devstack.config import SERVICE_GRANTS, SERVICES, StackSettings
from shuangsui.devstack.errors import DevstackError
from shuangsui.devstack.issuer import DevIssuer
from shuangsui.devstack.nats import NatsServer
from shuangsui.devstack.postgres import PostgresServer
from shuangsui.devstack.supervisor import ChildSpec, Supervisor
from shuangsui.devstack.topology import GATEWAY, Kind, Process, platform_processes


def load_or_create_credentials(path: Path) -> dict[str, str]:
    """Passwords for the superuser and one login role per service, kept beside the data."""
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    credentials = {name: secrets.token_urlsafe(18) for name in ("postgres", *SERVICES)}
    path.write_text(json.dumps(credentials, indent=2))
    path.chmod(0o600)
    return credentials


async def provision_databases(superuser_dsn: str, credentials: dict[str, str]) -> None:
    """One database and one login role per service; a role can reach only its own database."""
    conn = await asyncpg.connect(superuser_dsn)
    try:
        for service in SERVICES:
            password = credentials[service].replace("'", "''")
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", service)
            verb = "ALTER" if exists else "CREATE"
            await conn.execute(f"{verb} ROLE {service} LOGIN PASSWORD '{password}'")
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", service):
                await conn.execute(f"CREATE DATABASE {service} OWNER {service}")
            await conn.execute(f"REVOKE ALL ON DATABASE {service} FROM PUBLIC")
        # The maintenance database is open to every role by default; ours have no business there.
        await conn.execute("REVOKE CONNECT ON DATABASE postgres FROM PUBLIC")
    finally:
        await conn.close()


@dataclass
class Stack:
    settings: StackSettings
    say: Callable[[str], None] = print
    postgres: PostgresServer = field(init=False)
    nats: NatsServer = field(init=False)
    issuer: DevIssuer = field(init=False)
    supervisor: Supervisor = field(init=False)
    credentials: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        data = self.settings.data_dir.resolve()
        data.mkdir(parents=True, exist_ok=True)
        self.credentials = load_or_create_credentials(data / "credentials.json")
        self.postgres = PostgresServer(
            data / "pg",
            self.settings.pg_port,
            self.credentials["postgres"],
            durable=self.settings.durable,
        )
        self.nats = NatsServer(data / "nats", self.settings.nats_port)
        self.issuer = DevIssuer(data / "dev-issuer")
        self.supervisor = Supervisor(self.say)

    @property
    def logs(self) -> Path:
        return self.settings.data_dir.resolve() / "logs"

    def database_url(self, service: str) -> str:
        return self.postgres.dsn(service, self.credentials[service], service)

    def common_env(self) -> dict[str, str]:
        self.issuer.ensure_keys()
        return {
            "PROVINCE": self.settings.province,
            "NATS_URL": self.nats.url,
            "AUTH_ISSUER": self.issuer.issuer,
            "AUTH_AUDIENCE": self.issuer.audience,
            "AUTH_JWKS_PATH": str(self.issuer.jwks_path),
            "LOG_FORMAT": "json",
            **self.service_urls(),
        }

    def service_urls(self) -> dict[str, str]:
        return {f"{s.upper()}_URL": self.settings.url_of(s) for s in SERVICES}

    def service_env(self, service: str) -> dict[str, str]:
        return {
            **self.common_env(),
            "DATABASE_URL": self.database_url(service),
            "SERVICE_NAME": service,
            **self.issuer.service_credentials_env(SERVICE_GRANTS[service]),
        }

    def gateway_env(self) -> dict[str, str]:
        return self.common_env()

    def start_infrastructure(self) -> None:
        self.say(f"starting PostgreSQL on 127.0.0.1:{self.settings.pg_port} …")
        self.postgres.start()
        self.say(f"starting NATS JetStream on 127.0.0.1:{self.settings.nats_port} …")
        self.nats.start()
        asyncio.run(provision_databases(self.postgres.dsn(), self.credentials))

    def migrate(self) -> None:
        """The migration steps, run here rather than as processes: one import, clear errors."""
        from shuangsui.kernel.migrations import upgrade

        for step in platform_processes():
            if step.kind is not Kind.migrate:
                continue
            self.say(f"migrating {step.service} …")
            try:
                upgrade(f"shuangsui.{step.service}", self.database_url(step.service))
            except Exception as exc:
                raise DevstackError(f"migrating {step.service} failed: {exc}") from exc

    def process_specs(self) -> list[ChildSpec]:
        """Every long-running process of the platform (topology.py), on this machine's ports."""
        return [self._spec(p) for p in platform_processes() if p.kind is not Kind.migrate]

    def _spec(self, process: Process) -> ChildSpec:
        argv = process.command(sys.executable)
        if process.kind is Kind.api:
            port = self.settings.port_of(process.service)
            argv += [
                "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
        env = (
            self.gateway_env() if process.service == GATEWAY else self.service_env(process.service)
        )
        return ChildSpec(process.name, argv, env, self.logs / f"{process.name}.log")

    def start_processes(self) -> None:
        for spec in self.process_specs():
            self.supervisor.start(spec)

    def wait_ready(self, timeout: float = 60.0) -> dict[str, object]:
        """Wait until the gateway's /readyz says every service is ready."""
        deadline = time.monotonic() + timeout
        last: dict[str, object] = {}
        while time.monotonic() < deadline:
            self.supervisor.tend()
            try:
                answer = httpx.get(f"{self.settings.url_of('gateway')}/readyz", timeout=3)
                last = answer.json()
                if answer.status_code == 200:
                    return last
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        raise DevstackError(f"the platform was not ready within {timeout:.0f}s: {json.dumps(last)}")

    def stop(self) -> None:
        self.supervisor.stop_all()
        self.nats.stop()
        self.postgres.stop()
