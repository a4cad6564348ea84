"""The NATS server from the wheel: it serves JetStream, stops cleanly, and survives a crash
(SIGKILL) with its streams on disk, ready to be started again."""

import socket

import nats
import psutil
import pytest

from shuangsui.devstack.nats import NatsServer
from shuangsui.devstack.ports import free_port


@pytest.fixture
def server(tmp_path):
    nats_server = NatsServer(tmp_path / "nats", free_port())
    nats_server.start()
    yield nats_server
    nats_server.stop()


def accepts_connections(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def test_started_server_accepts_a_jetstream_publish(server):
    nc = await nats.connect(server.url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        js = nc.jetstream()
        await js.add_stream(name="EVT_REGISTRY", subjects=["evt.p33.registry.>"])
        ack = await js.publish("evt.p33.registry.probe.sent.v1", b"{}")
    finally:
        await nc.close()

    assert (ack.stream, ack.seq) == ("EVT_REGISTRY", 1)


def test_stopped_server_leaves_no_process_and_frees_its_port(server):
    pid = server.pid

    server.stop()

    assert not psutil.pid_exists(pid)
    assert not accepts_connections(server.port)


def test_killed_server_leaves_no_process_and_frees_its_port(server):
    pid = server.pid

    server.kill()

    assert not psutil.pid_exists(pid)
    assert not accepts_connections(server.port)


async def test_killed_server_starts_again_with_its_streams(server):
    nc = await nats.connect(server.url, connect_timeout=5, max_reconnect_attempts=0)
    await nc.jetstream().add_stream(name="EVT_REGISTRY", subjects=["evt.p33.registry.>"])
    await nc.close()

    server.kill()
    server.start()

    nc = await nats.connect(server.url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        info = await nc.jetstream().stream_info("EVT_REGISTRY")
    finally:
        await nc.close()
    assert info.config.subjects == ["evt.p33.registry.>"]
