"""Request bodies bounded as they arrive: an ASGI middleware counts a body's bytes as the
app reads them and refuses it (413 `body_too_large`) once past its limit.

Whatever the body says of itself: a Content-Length over the limit is refused before a byte
is read, and a chunked body (no Content-Length) after at most the limit and one chunk, not
once whole. Every route is bounded so, those that read their body through web/body.py and
those that read it raw (a webhook checking its signature) alike; the server holds what it
received but the app has not read yet to 64 KiB or so (uvicorn stops reading beyond).

A route meant for bigger bodies (an upload) declares its own limit with `body_limit`,
before reading; it is counted the same way, and should stream what it reads to disk rather
than hold it (`request.stream()`). Behind a proxy, raise the proxy's limit for its path
too (docs/nginx.conf: `client_max_body_size`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.body import MAX_BODY, BodyTooLarge

LIMIT = "comptoir.body_limit"  # a route's own limit, in its request's scope

Endpoint = Callable[[Request], Awaitable[Response]]


def body_limit(limit: int) -> Callable[[Endpoint], Endpoint]:
    """A route that takes bodies of up to `limit` bytes instead of MAX_BODY."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def bounded(request: Request) -> Response:
            request.scope[LIMIT] = limit
            return await endpoint(request)

        return bounded

    return decorate


class BodyLimit:
    """Gives the app a `receive` that counts the body's bytes (see the module)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine: it hands back the next app's, so that no frame of its own stays
        # on the stack of every open websocket.
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self.app(scope, CountedBody(scope, receive, self.limit), send)


class CountedBody:
    """A request's `receive`, refusing the body once it is over its limit: the route's
    own (read when the body is first asked for, so that the route can set it), else the
    default."""

    __slots__ = ("scope", "receive", "default", "read", "declared_checked")

    def __init__(self, scope: Scope, receive: Receive, default: int) -> None:
        self.scope = scope
        self.receive = receive
        self.default = default
        self.read = 0
        self.declared_checked = False

    async def __call__(self) -> Message:
        limit: int = self.scope.get(LIMIT, self.default)
        if not self.declared_checked:
            self.declared_checked = True
            declared = Headers(scope=self.scope).get("content-length", "")
            # Ten digits and more is over any limit: not even turned into a number.
            if declared.isdecimal() and (len(declared) > 9 or int(declared) > limit):
                raise BodyTooLarge()
        message = await self.receive()
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if self.read > limit:
                raise BodyTooLarge()
        return message
