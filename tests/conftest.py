"""What the platform's own tests share: checking a draw as a citizen would, offline."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

OfflineVerify = Callable[[Path], subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def verify_offline() -> OfflineVerify:
    """`verify_offline(directory)`: `shuangsui draw verify bundle.json result.json` in that
    directory, as a citizen runs it — a fresh shell with only PATH and HOME."""
    command = shutil.which("shuangsui")
    assert command is not None, "the shuangsui command is installed in the environment"

    def run(directory: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [command, "draw", "verify", "bundle.json", "result.json"],
            cwd=directory, capture_output=True, text=True, timeout=60,
            env={"PATH": os.environ["PATH"], "HOME": str(directory)},
        )  # fmt: skip

    return run
