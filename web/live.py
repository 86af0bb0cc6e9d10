"""GET /ws: the browser's and integrators' live channel."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from realtime.websocket import RAW_SEND, serve_socket
from web.security import origin_allowed
from web.state import app_state, viewer_of


async def live(websocket: WebSocket) -> None:
    """GET /ws: checks Origin (CORS does not cover websockets), then serves the socket."""
    state = app_state(websocket)
    if not origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"),
        state.settings.allowed_origins,
    ):
        await websocket.close(code=1008, reason="origin")
        return
    viewer = await viewer_of(websocket)
    await serve_socket(
        websocket, state.hub, state.sessionmaker, viewer, state.settings.socket_queue_size
    )


class KeepRawSend:
    """Outermost middleware: keeps the server's own `send` in a websocket's scope, so that
    the live channel's frames skip the wrappers that only matter to HTTP responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
        await self.app(scope, receive, send)
