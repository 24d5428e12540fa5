"""ASGI ``lifespan``: startup before the first connection, shutdown after
the last, as uvicorn runs it.

``mode``: ``"auto"`` runs it and carries on without it when the app
raises before answering (an app that does not speak lifespan); ``"on"``
makes that an error; ``"off"`` never calls the app with it. A
``lifespan.startup.failed`` (or, with ``"on"``, an exception) stops the
server from starting: :class:`LifespanFailed`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

log = logging.getLogger("c10k")

LIFESPAN_MODES = ("auto", "on", "off")


class LifespanFailed(RuntimeError):
    """The application reported ``lifespan.startup.failed`` (or raised
    during startup with ``lifespan="on"``)."""


class Lifespan:
    """One run of the lifespan protocol for ``app``; ``state`` is the
    dict every request scope gets a shallow copy of."""

    def __init__(self, app: Any, mode: str = "auto") -> None:
        if mode not in LIFESPAN_MODES:
            raise ValueError(f"lifespan must be one of {', '.join(LIFESPAN_MODES)}; got {mode!r}")
        self.app = app
        self.mode = mode
        self.state: dict[str, Any] = {}
        self._to_app: Optional[asyncio.Queue[dict[str, Any]]] = None
        self._answers: Optional[asyncio.Queue[dict[str, Any]]] = None
        self._task: Optional[asyncio.Task[None]] = None
        self._answered = False
        self._started = False

    async def startup(self) -> None:
        """Sends ``lifespan.startup`` and waits for the answer."""
        if self.mode == "off":
            return
        self._to_app, self._answers = asyncio.Queue(), asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._main())
        await self._to_app.put({"type": "lifespan.startup"})
        answer = await self._answers.get()
        if answer["type"] == "lifespan.startup.failed":
            raise LifespanFailed(f"application startup failed: {answer.get('message', '')}".rstrip(": "))
        self._started = answer["type"] == "lifespan.startup.complete"

    async def shutdown(self) -> None:
        """Sends ``lifespan.shutdown`` and waits for the answer (a failure is logged)."""
        if not self._started or self._to_app is None or self._answers is None:
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        # The app may also just return: then there is no answer to wait for.
        answer = asyncio.ensure_future(self._answers.get())
        assert self._task is not None
        await asyncio.wait({answer, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not answer.done():
            answer.cancel()
        elif answer.result()["type"] == "lifespan.shutdown.failed":
            log.error("c10k: application shutdown failed: %s", answer.result().get("message", ""))

    async def _main(self) -> None:
        assert self._answers is not None
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as err:
            if not self._answered:
                if self.mode == "auto":
                    log.info("c10k: ASGI 'lifespan' protocol appears unsupported.")
                    await self._answers.put({"type": "lifespan.unsupported"})
                else:
                    log.error("c10k: exception in 'lifespan' protocol", exc_info=err)
                    await self._answers.put({"type": "lifespan.startup.failed", "message": repr(err)})
            else:
                log.error("c10k: exception in 'lifespan' protocol", exc_info=err)
                if self._started:
                    await self._answers.put({"type": "lifespan.shutdown.failed", "message": repr(err)})
            if isinstance(err, (KeyboardInterrupt, SystemExit)):
                raise
        else:
            if not self._answered:
                # Returned without a word: startup counts as done, nothing to shut.
                await self._answers.put({"type": "lifespan.unsupported"})

    async def _receive(self) -> dict[str, Any]:
        assert self._to_app is not None
        return await self._to_app.get()

    async def _send(self, message: dict[str, Any]) -> None:
        assert self._answers is not None
        kind = message.get("type")
        if kind not in (
            "lifespan.startup.complete",
            "lifespan.startup.failed",
            "lifespan.shutdown.complete",
            "lifespan.shutdown.failed",
        ):
            raise RuntimeError(f"unexpected ASGI lifespan message {kind!r}")
        self._answered = True
        await self._answers.put(message)
