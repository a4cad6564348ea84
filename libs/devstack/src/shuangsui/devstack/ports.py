"""Port helpers: find a free port, and fail early and clearly when a chosen one is taken."""

import socket

from shuangsui.devstack.errors import PortInUse

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it), for throw-away test servers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_port_free(what: str, port: int, env_var: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers bind with SO_REUSEADDR, so connections lingering in TIME_WAIT do not count;
        # only another listener does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError as exc:
            raise PortInUse(what, port, env_var) from exc


def is_listening(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0
