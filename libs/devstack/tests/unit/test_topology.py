"""One list of the platform's processes: `make run` starts it, docker-compose.yml is written
from it, and the committed compose file says the same."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shuangsui.devstack.compose import expected_files, render_compose
from shuangsui.devstack.config import SERVICE_GRANTS, SERVICES, StackSettings
from shuangsui.devstack.stack import Stack
from shuangsui.devstack.topology import GATEWAY, Kind, Process, platform_processes

ROOT = Path(__file__).parents[4]
INFRASTRUCTURE = {"postgres", "nats"}


def compose_services(text: str) -> dict[str, dict]:
    services: dict[str, dict] = yaml.safe_load(text)["services"]
    return {name: spec for name, spec in services.items() if name not in INFRASTRUCTURE}


def listening_command(process: Process) -> list[str]:
    extra = ["--host", "0.0.0.0", "--port", "8000"] if process.kind is Kind.api else []
    return process.command() + extra


@pytest.fixture
def stack(tmp_path) -> Stack:
    return Stack(StackSettings(data_dir=tmp_path / ".data"), say=lambda _: None)


def test_every_service_migrates_serves_and_relays_and_the_gateway_fronts_them():
    by_service: dict[str, set[Kind]] = {}
    for process in platform_processes():
        by_service.setdefault(process.service, set()).add(process.kind)
    assert set(by_service) == {*SERVICES, GATEWAY}
    assert by_service[GATEWAY] == {Kind.api}
    for service in SERVICES:
        assert {Kind.migrate, Kind.api, Kind.relay} <= by_service[service]
    assert Kind.worker in by_service["registry"], "the registry's worker module is found"


def test_the_dev_stack_starts_every_process_but_the_migrations_it_runs_itself(stack):
    started = {spec.name: spec for spec in stack.process_specs()}
    declared = {p.name: p for p in platform_processes() if p.kind is not Kind.migrate}
    assert set(started) == set(declared)
    relay = started["planning-relay"]
    assert relay.argv[1:] == ["-m", "shuangsui.messaging.relay_main"]
    assert relay.env["SERVICE_NAME"] == "planning"
    registry = started["registry"]
    assert registry.argv[registry.argv.index("--port") + 1] == str(stack.settings.registry_port)
    assert started[GATEWAY].env["REGISTRY_URL"] == stack.settings.url_of("registry")


def test_the_committed_compose_files_are_the_ones_written_from_the_processes():
    for path, text in expected_files(ROOT).items():
        assert path.read_text() == text, f"{path.name} is stale: run `make compose`"


def test_compose_runs_each_process_make_run_starts_and_nothing_else():
    committed = compose_services((ROOT / "docker-compose.yml").read_text())
    declared = {p.name: p for p in platform_processes()}
    assert set(committed) == set(declared)
    for name, process in declared.items():
        assert committed[name]["command"] == listening_command(process), name


def test_a_service_that_gains_a_worker_gets_one_in_compose_after_its_migration():
    worker = Process("sampling", Kind.worker, "shuangsui.sampling.worker")
    processes = [p for p in platform_processes() if p != worker]
    with_worker = compose_services(render_compose([*processes, worker]))
    without = compose_services(render_compose(processes))
    assert set(with_worker) - set(without) == {"sampling-worker"}
    added = with_worker["sampling-worker"]
    assert added["command"] == ["python", "-m", "shuangsui.sampling.worker"]
    assert added["depends_on"]["sampling-migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert added["environment"]["DATABASE_URL"].endswith("@postgres/sampling")
    assert added["environment"]["NATS_URL"] == "nats://nats:4222"


def test_compose_starts_a_service_only_after_its_migration_and_the_gateway_after_all():
    committed = compose_services((ROOT / "docker-compose.yml").read_text())
    for service in SERVICES:
        migration = committed[f"{service}-migrate"]
        assert migration["restart"] == "no"
        assert migration["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for process in platform_processes():
        if process.service != GATEWAY and process.kind is not Kind.migrate:
            after = committed[process.name]["depends_on"][f"{process.service}-migrate"]
            assert after == {"condition": "service_completed_successfully"}, process.name
    gateway = committed[GATEWAY]
    assert set(gateway["depends_on"]) == set(SERVICES)
    assert {gateway["environment"][f"{s.upper()}_URL"] for s in SERVICES} == {
        f"http://{s}:8000" for s in SERVICES
    }


def test_a_service_that_calls_others_gets_its_client_credentials_in_compose():
    """Its token endpoint and client secret must be set, and it asks for what the local stack
    grants it; a service that calls nobody carries no credentials."""
    services = compose_services(render_compose(platform_processes()))
    for service in SERVICES:
        env = services[service]["environment"]
        assert env["REGISTRY_URL"] == "http://registry:8000"
        if SERVICE_GRANTS[service]:
            assert env["SERVICE_CLIENT_ID"] == f"system:{service}"
            assert env["SERVICE_TOKEN_URL"].startswith("${SERVICE_TOKEN_URL:?")
            assert env["SERVICE_SCOPES"].split() == list(SERVICE_GRANTS[service])
        else:
            assert "SERVICE_TOKEN_URL" not in env
