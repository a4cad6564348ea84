"""Run child processes, restart the ones that die (with backoff), stop them all cleanly."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shuangsui.devstack.processes import die_with_parent, stop_process

MAX_BACKOFF = 30.0
HEALTHY_AFTER = 30.0  # a child that ran this long has its backoff reset


@dataclass
class ChildSpec:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_file: Path


@dataclass
class Child:
    spec: ChildSpec
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = 1.0
    restart_at: float | None = None


@dataclass
class Supervisor:
    say: Callable[[str], None]
    children: dict[str, Child] = field(default_factory=dict)

    def start(self, spec: ChildSpec) -> None:
        child = self.children.setdefault(spec.name, Child(spec))
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = spec.log_file.open("ab")
        child.proc = subprocess.Popen(
            spec.argv,
            env={**os.environ, **spec.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        )
        log.close()
        child.started_at = time.monotonic()
        child.restart_at = None

    def tend(self) -> None:
        """Call often: notices dead children and restarts them when their backoff has passed."""
        now = time.monotonic()
        for child in self.children.values():
            if child.proc is not None and child.proc.poll() is not None:
                code = child.proc.returncode
                child.proc = None
                if now - child.started_at > HEALTHY_AFTER:
                    child.backoff = 1.0
                child.restart_at = now + child.backoff
                self.say(
                    f"{child.spec.name} exited with code {code}; restarting in {child.backoff:.0f}s "
                    f"(log: {child.spec.log_file})"
                )
                child.backoff = min(child.backoff * 2, MAX_BACKOFF)
            if child.proc is None and child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self.say(f"{child.spec.name} restarted (restart #{child.restarts})")
                self.start(child.spec)

    def pid(self, name: str) -> int | None:
        proc = self.children[name].proc
        return proc.pid if proc is not None else None

    def stop_all(self) -> None:
        running = [c.proc for c in self.children.values() if c.proc is not None]
        for proc in running:
            if proc.poll() is None:
                proc.terminate()
        for proc in running:
            stop_process(proc, grace=10)
        for child in self.children.values():
            child.proc = None
            child.restart_at = None
