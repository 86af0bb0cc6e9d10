"""GET /ws: the browser's and integrators' live channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from errors import N_, DomainError
from realtime.topics import Viewer
from realtime.websocket import RAW_SEND, serve_socket
from telemetry import metrics
from web.errors import error_body
from web.security import origin_allowed
from web.session_store import ended_topic
from web.sessions import load_for_socket
from web.state import app_state, locale_of

ViewerOf = Callable[[HTTPConnection], Awaitable[Viewer]]


class TooManySockets(DomainError):
    """This browser (its device cookie) has as many live sockets open on this server as it
    may (WS_MAX_PER_DEVICE); close one, or try again later. The websocket handshake is
    answered with this error."""

    code = "too_many_sockets"
    status = 429
    message = N_("Too many live connections from this device; close other tabs.")


class DeviceSockets:
    """How many sockets each device cookie holds open in this process."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open: dict[str, int] = {}

    def take(self, device: str, limit: int) -> bool:
        """One more for `device`, if it holds fewer than `limit`."""
        held = self.open.get(device, 0)
        if held >= limit:
            return False
        self.open[device] = held + 1
        return True

    def give_back(self, device: str) -> None:
        held = self.open.pop(device, 0) - 1
        if held > 0:
            self.open[device] = held


def live_endpoint(viewer_of: ViewerOf) -> Callable[[WebSocket], Awaitable[None]]:
    """GET /ws, told at assembly who is behind a connection (web/ knows no staff or tables).

    Built once: an open socket's frame holds one reference more, to `viewer_of`. Its count
    of sockets per device is this process's (docs/deploy.md, Limits).
    """
    sockets = DeviceSockets()

    async def live(websocket: WebSocket) -> None:
        """Checks Origin (CORS does not cover websockets) and the device's count of
        sockets, then serves the socket until it closes, or until the session it was
        opened with ends (a sign-out)."""
        state = app_state(websocket)
        admitted = await _admitted(websocket, state.settings.allowed_origins, viewer_of)
        if admitted is None:
            await websocket.close(code=1008, reason="origin")
            return
        viewer, session_key = admitted
        device = viewer.device_key
        if device is not None and not sockets.take(device, state.settings.ws_max_per_device):
            metrics.SOCKETS_REFUSED.labels("device").inc()
            await _refuse(websocket, TooManySockets())
            return
        try:
            await serve_socket(
                websocket, state.hub, state.sessionmaker, viewer,
                state.settings.socket_queue_size,
                ends_on=ended_topic(session_key) if session_key else None,
            )
        finally:
            if device is not None:
                sockets.give_back(device)

    return live


async def _refuse(websocket: WebSocket, error: DomainError) -> None:
    """Refuse the handshake with the error as an HTTP answer, where the server can send one
    (uvicorn can); else with a bare 403."""
    if "websocket.http.response" not in websocket.scope.get("extensions", {}):
        await websocket.close(code=1008, reason=error.code)
        return
    body = error_body(error, locale_of(HTTPConnection(websocket.scope)))
    await websocket.send_denial_response(
        JSONResponse(body, status_code=error.status, headers=error.headers())
    )


async def _admitted(
    websocket: WebSocket, allowed_origins: tuple[str, ...], viewer_of: ViewerOf
) -> tuple[Viewer, str | None] | None:
    """Who is behind the socket, and the key of its session, if its Origin is allowed.

    Headers and cookies are read from a connection object of their own, gone once read:
    parsed on `websocket`, they would stay in memory as long as the socket is open.
    """
    handshake = HTTPConnection(websocket.scope)
    headers = handshake.headers
    if not origin_allowed(headers.get("origin"), headers.get("host"), allowed_origins):
        return None
    session_key = await load_for_socket(handshake)
    viewer = await viewer_of(handshake)
    websocket.scope.pop("session", None)  # read once: an open socket need not keep it
    return viewer, session_key


class KeepRawSend:
    """Outermost middleware: keeps the server's own `send` in a websocket's state, so that
    the live channel's frames skip the wrappers that only matter to HTTP responses.

    In the connection's `state` (its own copy of the lifespan state) rather than in the
    scope itself: one key more in the scope would make it grow, for every socket."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine: it hands back the next app's, so that no frame of its own stays
        # on the stack of every open websocket.
        if scope["type"] == "websocket":
            scope.setdefault("state", {})[RAW_SEND] = send
        return self.app(scope, receive, send)
