"""Connections to the services that keep an answer arriving before the request body is sent.

A service may answer before reading the body: 401 or 403 from the token, 415 from the
Content-Type, 413 from Content-Length or after the first bytes. httpcore sends the whole body
and then reads the answer; when a write fails it stops sending and reads. That is enough while
the service drains the unread body and keeps the connection (uvicorn does). It is not when the
service closes the connection after answering: its socket has unread data, so its kernel resets
the connection, and the next write fails. The answer is still in the gateway's kernel buffer
then (the kernel delivers it before the reset), but httpcore's default streams run on event-loop
transports, and a transport closes its socket as soon as a write fails, answer and all: httpcore
reports a `ReadError`, "the service did not answer", for a service that did.

The streams here own their socket and use the event loop's socket operations, so a failed write
closes nothing and the answer is read as sent. Before each write they also poll the socket:
once the service has sent anything, no more of the body is sent (the request carries no
`Expect`, so nothing but the answer arrives early, no 100 Continue). Either way the `WriteError`
raised is httpcore's signal to stop sending and read the answer; httpcore then closes that
connection (its request was cut short) instead of pooling it.

Plain TCP only: the pool for `https://` services keeps httpcore's own streams (see `Upstreams`).
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

ANSWERED_EARLY = "the service answered before the request body was sent"


class AnswerKeepingStream(httpcore.AsyncNetworkStream):
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN)

    def _readable(self) -> bool:
        """Something arrived, or the service closed (a reset reads as an error, EOF as b"")."""
        return bool(self._poll.poll(0))

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.get_running_loop().sock_recv(self._sock, max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout("the service sent nothing in time") from None
        except OSError as exc:
            raise httpcore.ReadError(f"reading from the service failed: {exc!r}") from None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._readable():
            raise httpcore.WriteError(ANSWERED_EARLY)
        try:
            async with asyncio.timeout(timeout):
                await asyncio.get_running_loop().sock_sendall(self._sock, buffer)
        except TimeoutError:
            raise httpcore.WriteTimeout("the service took nothing in time") from None
        except OSError as exc:
            raise httpcore.WriteError(f"writing to the service failed: {exc!r}") from None

    async def aclose(self) -> None:
        self._sock.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("TLS is not spoken here: https services use another pool")

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # httpcore asks before reusing an idle pooled connection
            return self._readable()
        if info == "socket":
            return self._sock
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        return None


class AnswerKeepingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend for forwarding to `http://` services (asyncio, as uvicorn)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        failure: OSError | None = None
        try:
            async with asyncio.timeout(timeout):
                for family, kind, proto, _, address in await loop.getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                ):
                    sock = socket.socket(family, kind, proto)
                    try:
                        sock.setblocking(False)
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        for option in socket_options or ():
                            sock.setsockopt(*option)
                        if local_address:
                            sock.bind((local_address, 0))
                        await loop.sock_connect(sock, address)
                    except OSError as exc:
                        sock.close()
                        failure = exc
                        continue
                    except BaseException:
                        sock.close()
                        raise
                    return AnswerKeepingStream(sock)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"{host}:{port} did not accept in time") from None
        except OSError as exc:  # the name did not resolve
            raise httpcore.ConnectError(f"{host}:{port}: {exc}") from None
        raise httpcore.ConnectError(f"{host}:{port}: {failure or 'no address'}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(timeout):
                await asyncio.get_running_loop().sock_connect(sock, path)
        except TimeoutError:
            sock.close()
            raise httpcore.ConnectTimeout(f"{path} did not accept in time") from None
        except OSError as exc:
            sock.close()
            raise httpcore.ConnectError(f"{path}: {exc}") from None
        return AnswerKeepingStream(sock)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
