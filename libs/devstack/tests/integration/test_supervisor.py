"""The supervisor restarts a child that dies, after a backoff that doubles while it keeps dying,
tells the operator through `say`, and leaves no process behind when stopped.

The children are real processes; the supervisor's clock is a fake one the test moves, so the
backoff is observed without waiting for it.
"""

import re
import sys
import types

import psutil
import pytest

from shuangsui.devstack import supervisor as supervisor_module
from shuangsui.devstack.supervisor import HEALTHY_AFTER, ChildSpec, Supervisor

CRASHES = [sys.executable, "-c", "raise SystemExit(3)"]
RUNS = [sys.executable, "-c", "import time; time.sleep(120)"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(supervisor_module, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


@pytest.fixture
def said() -> list[str]:
    return []


@pytest.fixture
def supervisor(clock, said):
    running = Supervisor(say=said.append)
    yield running
    running.stop_all()


def spec(tmp_path, name: str, argv: list[str]) -> ChildSpec:
    return ChildSpec(name, argv, {}, tmp_path / "logs" / f"{name}.log")


def wait_until_exited(supervisor: Supervisor, name: str) -> None:
    proc = supervisor.children[name].proc
    assert proc is not None, f"{name} is not running"
    proc.wait(timeout=30)


def announced_delays(said: list[str]) -> list[int]:
    return [int(m.group(1)) for line in said if (m := re.search(r"restarting in (\d+)s", line))]


def crash_and_restart(supervisor: Supervisor, clock: FakeClock, said: list[str], name: str) -> int:
    """Let the child die, wait out the delay the supervisor announced, return that delay."""
    wait_until_exited(supervisor, name)
    supervisor.tend()
    delay = announced_delays(said)[-1]
    clock.advance(delay)
    supervisor.tend()
    return delay


def test_child_that_exits_is_not_restarted_before_its_backoff(tmp_path, supervisor, clock):
    supervisor.start(spec(tmp_path, "relay", CRASHES))
    wait_until_exited(supervisor, "relay")

    supervisor.tend()
    clock.advance(0.9)
    supervisor.tend()

    assert supervisor.pid("relay") is None


def test_child_that_exits_is_restarted_after_its_backoff(tmp_path, supervisor, clock):
    supervisor.start(spec(tmp_path, "relay", CRASHES))
    wait_until_exited(supervisor, "relay")

    supervisor.tend()
    clock.advance(1.0)
    supervisor.tend()

    assert supervisor.pid("relay") is not None
    assert supervisor.children["relay"].restarts == 1


def test_exit_and_restart_are_reported_to_the_operator(tmp_path, supervisor, clock, said):
    supervisor.start(spec(tmp_path, "relay", CRASHES))

    crash_and_restart(supervisor, clock, said, "relay")

    assert said[0].startswith("relay exited with code 3; restarting in 1s")
    assert str(tmp_path / "logs" / "relay.log") in said[0]
    assert said[1] == "relay restarted (restart #1)"


def test_backoff_doubles_while_the_child_keeps_dying(tmp_path, supervisor, clock, said):
    supervisor.start(spec(tmp_path, "relay", CRASHES))

    delays = [crash_and_restart(supervisor, clock, said, "relay") for _ in range(4)]

    assert delays == [1, 2, 4, 8]


def test_backoff_is_reset_after_a_healthy_run(tmp_path, supervisor, clock, said):
    supervisor.start(spec(tmp_path, "relay", CRASHES))
    crash_and_restart(supervisor, clock, said, "relay")
    crash_and_restart(supervisor, clock, said, "relay")

    wait_until_exited(supervisor, "relay")
    clock.advance(HEALTHY_AFTER + 1)  # this run lasted longer than a crash loop's
    supervisor.tend()

    assert announced_delays(said) == [1, 2, 1]


def test_stop_all_leaves_no_child_running(tmp_path, supervisor):
    for name in ("registry", "registry-relay", "gateway"):
        supervisor.start(spec(tmp_path, name, RUNS))
    pids = [supervisor.pid(name) for name in ("registry", "registry-relay", "gateway")]

    supervisor.stop_all()

    assert [pid for pid in pids if psutil.pid_exists(pid)] == []


def test_stopped_children_are_not_restarted(tmp_path, supervisor, clock, said):
    supervisor.start(spec(tmp_path, "registry", RUNS))
    supervisor.stop_all()

    clock.advance(3600)
    supervisor.tend()

    assert supervisor.pid("registry") is None
    assert not any("restarted" in line for line in said)


def test_child_gets_its_own_environment(tmp_path, supervisor):
    probe = [sys.executable, "-c", "import os; print(os.environ['DATABASE_URL'])"]
    env = {"DATABASE_URL": "postgresql://registry@127.0.0.1/registry"}
    supervisor.start(ChildSpec("registry", probe, env, tmp_path / "logs" / "registry.log"))

    wait_until_exited(supervisor, "registry")

    logged = (tmp_path / "logs" / "registry.log").read_text()
    assert logged.strip() == "postgresql://registry@127.0.0.1/registry"
