"""Shared fixtures: servers on 127.0.0.1 with a free port, stopped after."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import c10k

MODES = ["inline", "threads", "asyncio"]


def pytest_configure(config: Any) -> None:
    # Thousands of client and server sockets live in this one process.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 16384 if hard == resource.RLIM_INFINITY else min(16384, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@contextmanager
def running(server: c10k.Server) -> Iterator[c10k.Server]:
    """Starts ``server`` in the background and stops it afterwards."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


def url(server: c10k.Server, path: str = "/") -> str:
    host, port = server.address
    return f"http://{host}:{port}{path}"


@pytest.fixture(params=MODES)
def mode(request: Any) -> str:
    return request.param
