"""docker-compose.yml (and the databases it creates), written from the platform's processes.

`python -m shuangsui.devstack.compose write` (`make compose`) writes the files from
`topology.platform_processes()`, the list `shuangsui dev up` starts; `… check` (in `make lint`)
fails when a committed file says anything else — a service, a worker or a migration step added
to one and not the other.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from shuangsui.devstack.config import SERVICE_GRANTS
from shuangsui.devstack.topology import GATEWAY, Kind, Process, platform_processes

PORT = 8000  # inside its container every API listens here; the gateway's is published
WHAT = {
    Kind.migrate: "migrations first (once)",
    Kind.api: "the API",
    Kind.relay: "its outbox relay",
    Kind.worker: "its worker",
}

HEAD = """\
# The same processes as `make run`, on real images, for ops teams. Settings: docs/operations.md.
# Tokens: point AUTH_ISSUER / AUTH_JWKS_URL at the province's identity provider; a service that
# calls another gets its token there too (SERVICE_TOKEN_URL, its client secret; docs/operations.md
# "Service calls").
# Written by `make compose` from the processes `make run` starts
# (libs/devstack/src/shuangsui/devstack/topology.py); `make lint` fails when they differ.
x-service: &service
  image: shuangsui:latest
  build: { context: ., dockerfile: deploy/Dockerfile }
  restart: unless-stopped

x-env: &env
  PROVINCE: "33"
  NATS_URL: nats://nats:4222
  AUTH_ISSUER: ${AUTH_ISSUER:?set AUTH_ISSUER}
  AUTH_JWKS_URL: ${AUTH_JWKS_URL:?set AUTH_JWKS_URL}
{service_urls}

services:
  postgres:
    image: postgres:18
    environment: { POSTGRES_PASSWORD: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" }
    volumes: [pgdata:/var/lib/postgresql, ./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/init.sql:ro]
    # Over TCP: while init.sql runs, the image's first server listens on its socket file only.
    healthcheck: { test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "postgres"], interval: 2s, retries: 30 }
  nats:
    image: nats:2.11
    command: ["--jetstream", "--store_dir", "/data"]
    volumes: [natsdata:/data]
"""

TAIL = """
volumes:
  pgdata:
  natsdata:
"""


def _command(process: Process) -> str:
    argv = process.command()
    if process.kind is Kind.api:
        argv += ["--host", "0.0.0.0", "--port", str(PORT)]  # inside the container
    return json.dumps(argv)


def _service_block(service: str, processes: list[Process]) -> list[str]:
    kinds = [p.kind for p in processes]
    migrated = f"*{service}-migrated" if Kind.migrate in kinds else "[nats]"
    lines = [
        "",
        f"  # {service}: {', '.join(WHAT[kind] for kind in kinds)}.",
    ]
    env_written = False
    migrated_written = Kind.migrate not in kinds
    for process in processes:
        lines += [f"  {process.name}:", "    <<: *service"]
        if process.kind is Kind.migrate:
            lines += [
                '    restart: "no"',
                "    depends_on: { postgres: { condition: service_healthy } }",
            ]
        elif not migrated_written:
            lines.append(
                f"    depends_on: &{service}-migrated {{ nats: {{ condition: service_started }}, "
                f"{service}-migrate: {{ condition: service_completed_successfully }} }}"
            )
            migrated_written = True
        else:
            lines.append(f"    depends_on: {migrated}")
        if env_written:
            lines.append(f"    environment: *{service}-env")
        else:
            database = f"postgresql://{service}:{service}@postgres/{service}"
            lines.append(
                f"    environment: &{service}-env {{ <<: *env, SERVICE_NAME: {service}, "
                f'DATABASE_URL: "{database}"{_calls_env(service)} }}'
            )
            env_written = True
        lines.append(f"    command: {_command(process)}")
    return lines


def _calls_env(service: str) -> str:
    """A service that calls others: its client at the identity provider and the scopes the
    local stack grants it (SERVICE_GRANTS), which the provider's client must hold too."""
    scopes = SERVICE_GRANTS.get(service, ())
    if not scopes:
        return ""
    secret = f"{service.upper()}_CLIENT_SECRET"
    return (
        ', SERVICE_TOKEN_URL: "${SERVICE_TOKEN_URL:?set SERVICE_TOKEN_URL}", '
        f'SERVICE_CLIENT_ID: "system:{service}", '
        f'SERVICE_CLIENT_SECRET: "${{{secret}:?set {secret}}}", '
        f'SERVICE_SCOPES: "{" ".join(scopes)}"'
    )


def _gateway_block(gateway: Process, services: list[str]) -> list[str]:
    return [
        "",
        "  # The gateway: the province's one API, in front of every service.",
        f"  {gateway.name}:",
        "    <<: *service",
        f"    depends_on: [{', '.join(services)}]",
        "    environment: *env",
        f"    command: {_command(gateway)}",
        f'    ports: ["{PORT}:{PORT}"]',
    ]


def render_compose(processes: Sequence[Process]) -> str:
    by_service: dict[str, list[Process]] = {}
    for process in processes:
        if process.service != GATEWAY:
            by_service.setdefault(process.service, []).append(process)
    lines: list[str] = []
    for service, own in by_service.items():
        lines += _service_block(service, sorted(own, key=lambda p: list(Kind).index(p.kind)))
    lines += _gateway_block(next(p for p in processes if p.service == GATEWAY), list(by_service))
    # Every process may call any service (the gateway all of them), at its compose name.
    urls = "".join(f"  {s.upper()}_URL: http://{s}:{PORT}\n" for s in by_service)
    return HEAD.replace("{service_urls}\n", urls) + "\n".join(lines) + "\n" + TAIL


def render_init_sql(processes: Sequence[Process]) -> str:
    """One database and login role per service that migrates one (compose's passwords)."""
    services = [p.service for p in processes if p.kind is Kind.migrate]
    return "".join(
        [
            "-- One database and one login role per service; a role reaches only its own database.\n",
            "-- Passwords here are for a local compose stack only; production takes them from secrets.\n",
            "-- Written by `make compose` with docker-compose.yml.\n",
            *(f"CREATE ROLE {s} LOGIN PASSWORD '{s}';\n" for s in services),
            *(f"CREATE DATABASE {s} OWNER {s};\n" for s in services),
            f"REVOKE ALL ON DATABASE {', '.join(services)} FROM PUBLIC;\n",
        ]
    )  # fmt: skip


def source_root() -> Path:
    """The checkout this package runs from (the files are committed, not installed)."""
    # src/shuangsui/devstack/compose.py -> the repository
    root = Path(__file__).resolve().parents[5]
    if not (root / "docker-compose.yml").is_file():
        raise FileNotFoundError(f"no docker-compose.yml in {root}: pass --root")
    return root


def expected_files(root: Path) -> dict[Path, str]:
    processes = platform_processes()
    return {
        root / "docker-compose.yml": render_compose(processes),
        root / "deploy" / "postgres" / "init.sql": render_init_sql(processes),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shuangsui.devstack.compose",
        description="Write or check docker-compose.yml from the processes `make run` starts.",
    )
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument("--root", type=Path, help="the repository (default: this checkout)")
    args = parser.parse_args(argv)
    root: Path = args.root or source_root()
    stale = 0
    for path, text in expected_files(root).items():
        current = path.read_text() if path.exists() else ""
        if current == text:
            continue
        if args.command == "write":
            path.write_text(text)
            print(f"wrote {path}")
            continue
        stale += 1
        diff = difflib.unified_diff(
            current.splitlines(keepends=True), text.splitlines(keepends=True),
            str(path), f"{path} (from topology.py)",
        )  # fmt: skip
        sys.stderr.writelines(diff)
        print(f"{path} differs from the platform's processes: run `make compose`", file=sys.stderr)
    if args.command == "check" and not stale:
        print("docker-compose.yml and init.sql match the processes `make run` starts")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
