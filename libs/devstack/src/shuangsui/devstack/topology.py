"""The platform's processes, declared once: which services there are, which processes each runs,
and their commands. `shuangsui dev up` starts them (`Stack.process_specs`), and
docker-compose.yml is written from them (`python -m shuangsui.devstack.compose write`, checked
by `make lint`), so a service, or a service's new worker, cannot reach one and not the other.

Each service with a database has a migration step (run before the rest), its API, its outbox
relay, and a worker where it has a `shuangsui.<service>.worker` module (event consumers,
background work); the gateway is an API in front of them all.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from enum import StrEnum

from shuangsui.devstack.config import SERVICES

GATEWAY = "gateway"


class Kind(StrEnum):
    migrate = "migrate"
    api = "api"
    relay = "relay"
    worker = "worker"


@dataclass(frozen=True)
class Process:
    service: str
    kind: Kind
    module: str
    """Run as `python -m <module> <args>`; an API also gets where to listen."""
    args: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """`registry` for an API, `registry-relay` and so on for the others."""
        return self.service if self.kind is Kind.api else f"{self.service}-{self.kind}"

    def command(self, python: str = "python") -> list[str]:
        return [python, "-m", self.module, *self.args]


def has_worker(service: str) -> bool:
    return importlib.util.find_spec(f"shuangsui.{service}.worker") is not None


def api(service: str) -> Process:
    return Process(
        service, Kind.api, "uvicorn", ("--factory", f"shuangsui.{service}.main:create_app")
    )


def service_processes(service: str) -> list[Process]:
    processes = [
        Process(service, Kind.migrate, "shuangsui.kernel.migrations", ("upgrade", f"shuangsui.{service}")),
        api(service),
        Process(service, Kind.relay, "shuangsui.messaging.relay_main"),
    ]  # fmt: skip
    if has_worker(service):
        processes.append(Process(service, Kind.worker, f"shuangsui.{service}.worker"))
    return processes


def platform_processes() -> list[Process]:
    """Every process of one province's platform, in start order (migrations first per service)."""
    return [*(p for service in SERVICES for p in service_processes(service)), api(GATEWAY)]
