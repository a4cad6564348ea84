"""A lean keep-alive HTTP/1.1 client for load runs: the client shares the two cores with the
server it measures, so it should cost as little as possible (httpx costs about a millisecond of
CPU per request, as much as a small request costs the server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, target: str, headers: dict[str, str]) -> tuple[int, Any]:
        lines = [
            f"GET {target} HTTP/1.1",
            "Host: bench",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        return status, orjson.loads(body) if body else None


@asynccontextmanager
async def connections(url: str, count: int) -> AsyncIterator[asyncio.Queue[Connection]]:
    """`count` open connections in a queue: take one, use it, put it back."""
    parts = urlsplit(url)
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    opened = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        opened.append(writer)
        pool.put_nowait(Connection(reader, writer))
    try:
        yield pool
    finally:
        for writer in opened:
            writer.close()


def target(path: str, params: dict[str, str]) -> str:
    return f"{path}?{urlencode(params)}"
