"""c10k: many connections and HTTP/1.1 from Python, served by ``libc10k``.

The library runs the sockets, parsing and writing; Python answers::

    import c10k

    def hello(request):
        return 200, {"Content-Type": "text/plain"}, "Hello, World!"

    c10k.HttpServer(hello, port=8080).serve_forever()

See :class:`HttpServer` (modes ``inline``, ``threads``, ``asyncio``),
:mod:`c10k.wsgi` for WSGI applications, :mod:`c10k.asgi` for ASGI ones, and :class:`TcpServer` with
:class:`Protocol` for raw TCP.
"""

from ._config import http_defaults
from ._errors import C10kError
from ._ffi import ffi, lib
from ._http import HttpServer
from ._request import Headers, Request
from ._reply import Deferred, Reply
from ._response import FileResponse, Response, StreamResponse
from ._server import Server
from ._stats import Stats
from ._websocket import AcceptWebSocket, WebSocket
from ._tcp import Protocol, TcpServer, Transport

__version__: str = ffi.string(lib.c10k_version()).decode()
"""The version of the loaded library."""

__all__ = [
    "AcceptWebSocket",
    "C10kError",
    "Deferred",
    "FileResponse",
    "Headers",
    "HttpServer",
    "Request",
    "Response",
    "Protocol",
    "Reply",
    "Server",
    "Stats",
    "StreamResponse",
    "TcpServer",
    "Transport",
    "WebSocket",
    "http_defaults",
]
