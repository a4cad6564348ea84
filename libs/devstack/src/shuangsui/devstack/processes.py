"""Child-process plumbing shared by the servers and the supervisor."""

import ctypes
import os
import signal
import subprocess
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None]:
    """A preexec hook: the kernel sends SIGTERM to the child when its parent dies.

    This is what guarantees no orphans even if the supervisor itself is killed with SIGKILL.
    """

    def _hook() -> None:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return _hook


def stop_process(
    proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace: float = 10.0
) -> None:
    """Send `sig`, wait up to `grace` seconds, then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def running_as_root() -> bool:
    return os.geteuid() == 0
