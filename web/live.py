"""GET /ws: the browser's and integrators' live channel."""

from __future__ import annotations

from starlette.websockets import WebSocket

from realtime.websocket import serve_socket
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
