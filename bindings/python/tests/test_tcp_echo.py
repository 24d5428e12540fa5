"""TcpServer with a Protocol: echo, half-close, lost connections, threads."""

from __future__ import annotations

import socket
import threading
from typing import Optional

import pytest

import c10k
from conftest import running


class Echo(c10k.Protocol):
    events: list[str] = []

    def connection_made(self, transport: c10k.Transport) -> None:
        self.transport = transport
        self.events.append(f"made {transport.get_extra_info('peername')[0]}")

    def data_received(self, data: bytes) -> None:
        if data == b"boom":
            raise ValueError("protocol bug")
        self.transport.write(data)

    def eof_received(self) -> Optional[bool]:
        self.transport.write(b"bye")
        self.events.append("eof")
        return None

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.events.append("lost")


def recv_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_echo_and_half_close() -> None:
    Echo.events = []
    with running(c10k.TcpServer(Echo, port=0)) as server:
        with socket.create_connection(server.address, timeout=5) as sock:
            payload = bytes(range(256)) * 4096
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            assert recv_all(sock) == payload + b"bye"
        assert server.connection_count in (0, 1)
    assert Echo.events[0] == "made 127.0.0.1" and "eof" in Echo.events and Echo.events[-1] == "lost"


def test_a_protocol_exception_aborts_only_its_connection() -> None:
    with running(c10k.TcpServer(Echo, port=0)) as server:
        with socket.create_connection(server.address, timeout=5) as bad:
            bad.sendall(b"boom")
            with pytest.raises(ConnectionResetError):
                bad.recv(10)
        with socket.create_connection(server.address, timeout=5) as good:
            good.sendall(b"fine")
            assert good.recv(10) == b"fine"


def test_other_threads_write_through_call_soon_threadsafe() -> None:
    transports: list[c10k.Transport] = []
    ready = threading.Event()

    class Keep(c10k.Protocol):
        def connection_made(self, transport: c10k.Transport) -> None:
            transports.append(transport)
            ready.set()

    with running(c10k.TcpServer(Keep, port=0)) as server:
        with socket.create_connection(server.address, timeout=5) as sock:
            assert ready.wait(5)
            server.call_soon_threadsafe(transports[0].write, b"from another thread")
            server.call_soon_threadsafe(transports[0].close)
            assert recv_all(sock) == b"from another thread"
