"""Crash points for the crash tests: a process killed at a named seam, in test mode only.

A process that knows it runs in test mode (sampling: DRAW_TEST_MODE, a relay: RELAY_TEST_MODE)
calls `arm(test_mode=…)` once at start; the points that SHUANGSUI_TEST_FAULTS names (comma-
separated, e.g. `relay.acked,sampling.draw.computed`) are then armed, and reaching one kills the
process with SIGKILL, so nothing runs after it: no `finally`, no rollback sent, no answer, just
what a power cut or the OOM killer leaves. Outside test mode the variable is ignored (with a
warning), and a process that never calls `arm` has no point armed, so in production
`crash_point` is a set lookup that does nothing."""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

import structlog

FAULTS_VARIABLE = "SHUANGSUI_TEST_FAULTS"

log = structlog.get_logger("faults")

_armed: frozenset[str] = frozenset()


def arm(*, test_mode: bool, environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """Arm the crash points SHUANGSUI_TEST_FAULTS names if `test_mode`, else none; the armed set
    (replacing any armed before)."""
    global _armed
    named = frozenset(
        name.strip()
        for name in (os.environ if environ is None else environ).get(FAULTS_VARIABLE, "").split(",")
        if name.strip()
    )
    if named and not test_mode:
        log.warning(f"{FAULTS_VARIABLE} is ignored outside test mode", points=sorted(named))
        named = frozenset()
    elif named:
        log.warning("crash points armed: the process kills itself on reaching one",
                    points=sorted(named))  # fmt: skip
    _armed = named
    return named


def armed() -> frozenset[str]:
    return _armed


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL here if the point `name` is armed; otherwise nothing."""
    if name not in _armed:
        return
    # Written straight to the descriptor: SIGKILL flushes no buffer.
    os.write(2, f"crash point {name} reached: killing process {os.getpid()}\n".encode())
    os.kill(os.getpid(), signal.SIGKILL)
