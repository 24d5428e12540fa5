"""``Stats``: a server's counters, read with ``c10k_server_stats`` or
``c10k_loop_stats``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ._errors import check
from ._ffi import ffi, lib

_SIZE = ffi.sizeof("c10k_stats")


@dataclass(frozen=True)
class Stats:
    """Counters since the server started, summed over its loops;
    ``per_loop`` holds each loop's own (empty in those entries)."""

    open_connections: int
    accepted: int
    closed: int
    bytes_in: int
    bytes_out: int
    accept_pauses: int
    timeouts: int
    requests: int
    responses_1xx: int
    responses_2xx: int
    responses_3xx: int
    responses_4xx: int
    responses_5xx: int
    pool_rejections: int
    # Calls into the host's request callbacks (one per request, or one per
    # batch of a loop turn): divided by ``requests``, crossings per request.
    request_callbacks: int
    per_loop: tuple["Stats", ...] = ()

    @classmethod
    def from_c(cls, raw: Any, per_loop: tuple["Stats", ...] = ()) -> "Stats":
        """Copies a filled ``c10k_stats``."""
        counters = {field.name: getattr(raw, field.name) for field in fields(cls) if field.name != "per_loop"}
        return cls(**counters, per_loop=per_loop)


def new_raw(count: int = 1) -> Any:
    """An array of ``count`` ``c10k_stats`` with their ``size`` set."""
    raw = ffi.new("c10k_stats[]", count)
    for i in range(count):
        raw[i].size = _SIZE
    return raw


def loop_stats(loop: Any) -> Stats:
    """The counters of one loop, as a server of one loop."""
    raw = new_raw()
    check(lib.c10k_loop_stats(loop, raw), "c10k_loop_stats")
    own = Stats.from_c(raw[0])
    return Stats.from_c(raw[0], (own,))


def server_stats(server: Any) -> Stats:
    """The counters of a multi-loop server, total and per loop."""
    count = lib.c10k_server_loop_count(server)
    total, each = new_raw(), new_raw(count)
    check(lib.c10k_server_stats(server, total, each, count, _SIZE), "c10k_server_stats")
    return Stats.from_c(total[0], tuple(Stats.from_c(each[i]) for i in range(count)))
