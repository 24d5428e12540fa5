"""Where HTTP handlers run: inline, on a thread pool, or on asyncio.

Each mode receives the library's ``on_request`` and ``on_abort`` calls on
a loop thread (with several loops, on several at once). ``inline``
answers during the call. ``threads`` and ``asyncio`` copy the request,
defer it (``c10k_request_defer``) and complete the reply from their own
threads with the thread-safe ``c10k_reply_*`` calls. With several loops,
``threads`` is the library's worker pool instead: ``on_request`` arrives
on a pool thread, which may block, and answers there as ``inline`` does.

No exception leaves a mode's callbacks: a failing handler is logged with
its traceback and answered 500.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Optional

from ._drain import AsyncWait, forget, mark_blocking_thread
from ._errors import check
from ._ffi import ffi, lib
from ._request import Request
from ._response import StreamResponse, coerce
from ._server import mark_serving_thread
from ._send import (
    SERVICE_UNAVAILABLE,
    aborting_on_error,
    close_chunks,
    respond,
    send,
    send_error,
    stream_end,
    stream_start,
    stream_write,
)

log = logging.getLogger("c10k")

Handler = Callable[[Request], Any]

# How long closing a mode waits for a busy handler thread before leaving it.
_JOIN_TIMEOUT_S = 5.0


class Mode:
    """The interface every mode implements."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def configure(self, config: Any) -> None:
        """Adjusts the multi-loop server's ``c10k_server_config``."""

    def open(self) -> None:
        """Starts the mode's threads, before the listener opens."""

    def close(self) -> None:
        """Stops them; pending work is dropped."""

    def on_request(self, req: Any) -> None:
        raise NotImplementedError

    def on_abort(self, reply: int) -> None:
        """The client of a deferred reply left: forget its work."""

    def _defer(self, req: Any) -> tuple[int, Request]:
        """Copies the request and keeps it open; loop thread."""
        request = Request(req)
        request._copy_all()
        out = ffi.new("uint64_t *")
        check(lib.c10k_request_defer(req, out), "c10k_request_defer")
        return out[0], request


class InlineMode(Mode):
    """Runs the handler on the loop thread, during the callback."""

    def on_request(self, req: Any) -> None:
        request = Request(req)
        try:
            respond(req, coerce(self.handler(request)))
        except Exception:
            log.exception("c10k: handler failed for %r", request)
            send_error(lambda response: respond(req, response))
        finally:
            request._detach()


class PoolMode(InlineMode):
    """Runs the handler on the library's worker pool (``workers``), which
    reads each request whole first and answers 503 when ``queue_size``
    requests already wait."""

    def __init__(self, handler: Handler, threads: int, queue_size: int) -> None:
        super().__init__(handler)
        self.threads = threads
        self.queue_size = queue_size

    def configure(self, config: Any) -> None:
        config.workers = self.threads
        config.queue_limit = self.queue_size


class _Job:
    __slots__ = ("reply", "request", "cancelled")

    def __init__(self, reply: int, request: Request) -> None:
        self.reply = reply
        self.request = request
        self.cancelled = False


class ThreadsMode(Mode):
    """Runs the handler on a pool of Python threads.

    At most ``queue_size`` requests wait for a thread; more are answered
    503 at once by the loop thread.
    """

    def __init__(self, handler: Handler, threads: int, queue_size: int) -> None:
        super().__init__(handler)
        self.threads = threads
        self.queue: queue.Queue[Optional[_Job]] = queue.Queue(queue_size)
        self.pending: dict[int, _Job] = {}
        self.workers: list[threading.Thread] = []

    def open(self) -> None:
        for i in range(self.threads):
            worker = threading.Thread(target=self._work, name=f"c10k-worker-{i}", daemon=True)
            worker.start()
            self.workers.append(worker)

    def close(self) -> None:
        for job in list(self.pending.values()):
            job.cancelled = True
        # The loop has stopped, so nothing is added: empty the queue, then
        # wake each worker with a sentinel.
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        for _ in self.workers:
            try:
                self.queue.put(None, timeout=_JOIN_TIMEOUT_S)
            except queue.Full:
                break
        for worker in self.workers:
            worker.join(_JOIN_TIMEOUT_S)
        self.workers.clear()

    def on_request(self, req: Any) -> None:
        try:
            # Only this thread adds to the queue, so room seen here stays.
            if self.queue.full():
                respond(req, SERVICE_UNAVAILABLE)
                return
            reply, request = self._defer(req)
        except Exception:
            log.exception("c10k: could not queue a request")
            send_error(lambda response: respond(req, response))
            return
        job = _Job(reply, request)
        self.pending[reply] = job
        self.queue.put_nowait(job)

    def on_abort(self, reply: int) -> None:
        job = self.pending.pop(reply, None)
        if job is not None:
            job.cancelled = True

    def _work(self) -> None:
        mark_serving_thread()
        mark_blocking_thread()
        while True:
            job = self.queue.get()
            if job is None:
                return
            if job.cancelled:
                continue
            try:
                _complete(self.handler, job.reply, job.request, lambda: job.cancelled)
            finally:
                self.pending.pop(job.reply, None)


def _complete(handler: Handler, reply: int, request: Request, cancelled: Callable[[], bool]) -> None:
    """Runs a synchronous handler and completes its deferred reply."""
    try:
        send(reply, coerce(handler(request)), cancelled)
    except Exception:
        log.exception("c10k: handler failed for %r", request)
        send_error(lambda response: send(reply, response, cancelled))


class AsyncioMode(Mode):
    """Runs ``async def`` handlers (plain functions too) on an asyncio
    event loop in its own thread; thousands may await at once."""

    def __init__(self, handler: Handler) -> None:
        super().__init__(handler)
        self.pending: dict[int, Any] = {}
        self.aloop: Optional[asyncio.AbstractEventLoop] = None
        self.thread: Optional[threading.Thread] = None

    def open(self) -> None:
        aloop = self.aloop = asyncio.new_event_loop()
        aloop.call_soon(mark_serving_thread)
        self.thread = threading.Thread(target=aloop.run_forever, name="c10k-asyncio", daemon=True)
        self.thread.start()

    def close(self) -> None:
        aloop, thread = self.aloop, self.thread
        if aloop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(_cancel_all(), aloop).result(_JOIN_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            log.warning("c10k: the asyncio loop did not finish its tasks in %s s (is a handler blocking it?)", _JOIN_TIMEOUT_S)
        finally:
            aloop.call_soon_threadsafe(aloop.stop)
            thread.join(_JOIN_TIMEOUT_S)
            if not thread.is_alive():
                aloop.close()
            self.pending.clear()
            self.aloop = self.thread = None

    def on_request(self, req: Any) -> None:
        try:
            reply, request = self._defer(req)
        except Exception:
            log.exception("c10k: could not schedule a request")
            send_error(lambda response: respond(req, response))
            return
        future = asyncio.run_coroutine_threadsafe(self._run(reply, request), self.aloop)  # type: ignore[arg-type]
        self.pending[reply] = future
        future.add_done_callback(lambda _: self.pending.pop(reply, None))
        if future.done():
            # It may have finished before it was recorded: forget it now.
            self.pending.pop(reply, None)

    def on_abort(self, reply: int) -> None:
        future = self.pending.pop(reply, None)
        if future is not None:
            future.cancel()

    async def _run(self, reply: int, request: Request) -> None:
        try:
            result = self.handler(request)
            if inspect.isawaitable(result):
                result = await result
            response = coerce(result)
            if isinstance(response, StreamResponse):
                await _stream_async(reply, response)
            else:
                send(reply, response, lambda: False)
        except Exception:
            log.exception("c10k: handler failed for %r", request)
            send_error(lambda response: send(reply, response, lambda: False))


async def _stream_async(reply: int, response: StreamResponse) -> None:
    """Streams an iterable or async iterable at the pace the client reads
    (``on_drain``); cancellation (the client left) ends it, a failure
    after the head went out aborts the reply."""
    chunks = response.chunks
    waiting = AsyncWait(reply)
    try:
        if not stream_start(reply, response):
            return
        with aborting_on_error(reply):
            async for chunk in _each(chunks):
                waiting.arm()
                code = stream_write(reply, chunk)
                if code == lib.C10K_QUEUE_FULL:
                    await waiting.wait()
                elif code:
                    return
            stream_end(reply)
    finally:
        forget(reply)
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
        else:
            close_chunks(chunks)


async def _each(chunks: Any) -> Any:
    """The items of an iterable or an async iterable."""
    if hasattr(chunks, "__aiter__"):
        async for chunk in chunks:
            yield chunk
    else:
        for chunk in chunks:
            yield chunk


async def _cancel_all() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


MODES = ("inline", "threads", "asyncio")


def make_mode(mode: str, handler: Handler, threads: int, queue_size: int, loops: int) -> Mode:
    """The mode named ``mode`` for ``loops`` loops; ``ValueError`` for another name."""
    if not callable(handler):
        raise TypeError(f"handler must be callable, not {type(handler).__name__}")
    if mode == "inline":
        return InlineMode(handler)
    if mode == "threads":
        if threads < 1 or queue_size < 1:
            raise ValueError("threads and queue_size must be positive")
        if loops > 1:
            return PoolMode(handler, threads, queue_size)
        return ThreadsMode(handler, threads, queue_size)
    if mode == "asyncio":
        return AsyncioMode(handler)
    raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
