"""FastAPI and Starlette applications the ASGI tests serve."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


def fastapi_app(events: list[str]) -> FastAPI:
    """Routing, JSON bodies, streaming, background tasks, a failing route;
    ``events`` records startup, shutdown and background work."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def root(request: Request) -> dict[str, Any]:
        return {"greeting": request.state.greeting}

    @app.get("/items/{item_id}")
    def read_item(item_id: int, q: str = "") -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/items")
    async def create_item(item: Item) -> dict[str, Any]:
        return {"name": item.name.upper(), "total": item.price * 2, "tags": item.tags}

    @app.get("/stream")
    async def stream(n: int = 5) -> StreamingResponse:
        async def numbers() -> AsyncIterator[bytes]:
            for i in range(n):
                await asyncio.sleep(0)
                yield f"line {i}\n".encode()

        return StreamingResponse(numbers(), media_type="text/plain")

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        total = pieces = 0
        async for chunk in request.stream():
            total += len(chunk)
            pieces += 1
        return {"bytes": total, "pieces": pieces}

    @app.get("/background")
    async def background(tasks: BackgroundTasks, tag: str) -> PlainTextResponse:
        async def record() -> None:
            await asyncio.sleep(0.01)
            events.append(f"background {tag}")

        tasks.add_task(record)
        return PlainTextResponse("scheduled")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the handler failed")

    return app


def starlette_app(events: list[str]) -> Starlette:
    """A plain Starlette app with a lifespan that records its events."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    async def home(request: Any) -> JSONResponse:
        return JSONResponse({"path": request.url.path, "root_path": request.scope.get("root_path", "")})

    async def echo(request: Any) -> JSONResponse:
        return JSONResponse({"got": await request.json()})

    return Starlette(routes=[Route("/", home), Route("/echo", echo, methods=["POST"])], lifespan=lifespan)
