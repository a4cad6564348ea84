"""Crash points (`shuangsui.kernel.faults`): inert unless armed in test mode, SIGKILL when armed."""

import signal
import subprocess
import sys

import pytest

from shuangsui.kernel import faults

POINT = "relay.acked"

# A process reaching an unnamed point, then the point the variable names.
SCRIPT = """
import sys
from shuangsui.kernel import faults
if sys.argv[1] != "never-armed":
    faults.arm(test_mode=sys.argv[1] == "test")
faults.crash_point("sampling.draw.computed")
print("past an unnamed point", flush=True)
faults.crash_point("relay.acked")
print("past the named point", flush=True)
"""


def reached(mode: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The run, and the points its process got past."""
    env = {"PATH": "/usr/bin:/bin", faults.FAULTS_VARIABLE: f" {POINT} , other.point"}
    run = subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    return run, [line for line in run.stdout.splitlines() if line.startswith("past")]


def test_an_armed_point_kills_its_process_with_sigkill_and_nothing_after_it_runs():
    run, past = reached("test")

    assert run.returncode == -signal.SIGKILL
    assert past == ["past an unnamed point"]
    assert f"crash point {POINT} reached" in run.stderr


@pytest.mark.parametrize("mode", ["production", "never-armed"])
def test_the_variable_does_nothing_in_production_or_a_process_that_never_armed(mode):
    run, past = reached(mode)

    assert run.returncode == 0, run.stderr
    assert past == ["past an unnamed point", "past the named point"]
    if mode == "production":  # ops see that the variable was set and ignored
        assert "ignored outside test mode" in run.stdout


def test_no_point_is_armed_without_the_variable_or_outside_test_mode():
    try:
        assert faults.arm(test_mode=True, environ={}) == frozenset()
        assert faults.arm(test_mode=False, environ={faults.FAULTS_VARIABLE: POINT}) == frozenset()
        assert faults.armed() == frozenset()
        faults.crash_point(POINT)  # this test's own process lives on
    finally:
        faults.arm(test_mode=False, environ={})


def test_test_mode_arms_exactly_the_points_named():
    try:
        named = faults.arm(test_mode=True, environ={faults.FAULTS_VARIABLE: f"{POINT},,b.c "})
        assert named == frozenset({POINT, "b.c"})
    finally:
        faults.arm(test_mode=False, environ={})
    assert faults.armed() == frozenset()
