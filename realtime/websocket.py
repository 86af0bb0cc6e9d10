"""The websocket endpoint: one socket per browser tab, any number of topics on it.

Protocol (docs/realtime.md): the client sends {"type": "subscribe", "topics": [...]};
for each topic the server watches it first, then reads and sends its snapshot, then
the events newer than the snapshot, in version order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import QueryParams
from starlette.types import Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.protocol import State
from websockets.server import ServerProtocol

from realtime.catch_up import consistent_read, read_view
from realtime.frames import CLOSE_TOO_BIG, FrameTooLarge, Outgoing, receive_text, text_frame
from realtime.hub import CLOSE_RESYNC, Connection, Hub, bus_notice
from realtime.topics import Viewer, parse
from telemetry import metrics

log = logging.getLogger(__name__)

RAW_SEND = "comptoir.raw_send"  # the server's own ASGI send, kept by web.live.KeepRawSend
CLOSE_ENDED = 4001  # websocket close code: what opened the socket ended (a sign-out)
MAX_TOPICS = 32  # a POS watching 20 tables, the menu and a few machines
# A client's message, in bytes: the biggest the protocol has, a subscribe to MAX_TOPICS
# topics of the longest name (topics.MAX_TOPIC_LENGTH: ~6.6 KB), fits. Past it the socket
# is closed with 1009.
MAX_MESSAGE = 8 * 1024
CLOSE_TRY_LATER = 1013  # RFC 6455 (IANA registry): the server cannot take this socket now


class Refused(Exception):
    """A limit closes the socket, with this code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def serve_socket(
    websocket: WebSocket,
    hub: Hub,
    sessionmaker: async_sessionmaker[AsyncSession],
    viewer: Viewer,
    queue_size: int,
    ends_on: str | None = None,
) -> None:
    """Serve one socket until it closes, or until it falls too far behind ("resync"), or
    until anything is published on `ends_on` (the end of the session that opened it: the
    socket closes with CLOSE_ENDED).

    The socket's own task reads its messages; frames go out from wherever they are made
    (the hub's dispatch, mostly), and a second task exists only while frames wait for a
    slow socket (SocketOutlet). An idle socket costs one task and no queue.
    """
    # Read once, not kept: `websocket.query_params` would stay parsed on the socket's object.
    format_ = QueryParams(websocket.scope.get("query_string", b"")).get("format")
    fmt = "html" if format_ == "html" else "json"
    await websocket.accept()
    outlet = SocketOutlet(websocket)
    conn = Connection(viewer, fmt, queue_size, outlet)
    hub.add(conn)
    # Watched by the server, not the client: whatever comes on it stops the socket.
    ender = (Connection(viewer, fmt, 1, Ender(outlet)), ends_on) if ends_on else None
    if ender is not None:
        hub.watch(*ender)
    if not hub.bus_up:
        conn.send(bus_notice(False))  # changes are late for now: the hub polls for them
    closing: Refused | None = None
    try:
        while True:
            await _answer(websocket, hub, sessionmaker, conn)
    except WebSocketDisconnect:
        pass
    except Refused as refusal:
        closing = refusal
    except asyncio.CancelledError:
        if not outlet.stopped or outlet.serving.uncancel():
            raise  # not the outlet's doing (the server is shutting down): let it through
    finally:
        hub.remove(conn)
        if ender is not None:
            hub.unwatch(*ender)
        outlet.close()
    if conn.overflowed:
        closing = Refused(CLOSE_RESYNC, "resync")
    elif outlet.ended:
        closing = Refused(CLOSE_ENDED, "ended")
    if closing is not None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=closing.code, reason=closing.reason)


class SocketOutlet:
    """Where a socket's frames go, as cheaply as the server allows.

    Once the socket is accepted, a frame would cross Starlette's WebSocket state checks and
    each middleware's send wrapper, none of which acts on a frame: with the server's own
    `send` at hand (web.live.KeepRawSend) the outlet calls it directly. Under uvicorn's
    websockets-sansio protocol, when no extension (compression) was negotiated, it goes one
    step further: the frame, encoded once for every socket that sends it (frames.Outgoing), is
    written straight to the transport while the connection is open and writable.

    Anything else (backpressure, closing, another server) takes the server's own path, from
    a task started when the first frame has to wait and ended when none waits any more. When
    that task finds the socket overflowed or gone, it stops the socket's own task.
    """

    __slots__ = ("raw", "protocol", "websocket", "serving", "sender", "stopped", "ended")

    def __init__(self, websocket: WebSocket) -> None:
        self.raw: Send | None = raw_send(websocket)
        self.protocol = _plain_protocol(self.raw)
        if self.protocol is not None:
            _release_handshake(self.protocol)
        self.websocket = websocket
        task = asyncio.current_task()
        assert task is not None
        self.serving = task
        self.sender: asyncio.Task[None] | None = None
        self.stopped = False
        self.ended = False  # told to close (Ender): closed with CLOSE_ENDED

    def write(self, text: str) -> bool:
        protocol = self.protocol
        if protocol is None or not _open(protocol):
            return False
        protocol.transport.write(
            text.frame if isinstance(text, Outgoing) else text_frame(text.encode())
        )
        return True

    def wake(self, conn: Connection) -> None:
        if self.sender is None and not self.stopped:
            self.sender = asyncio.get_running_loop().create_task(self._send_waiting(conn))

    def close(self) -> None:
        self.stopped = True
        if self.sender is not None:
            self.sender.cancel()

    async def send(self, text: str) -> None:
        """One frame: at once if the socket takes it now, else by the server's own path."""
        if self.write(text):
            return
        try:
            if self.raw is None:
                await self.websocket.send_text(text)
            else:
                await self.raw({"type": "websocket.send", "text": text})
        except (OSError, RuntimeError) as error:
            # The client went away (OSError, what Starlette turns into WebSocketDisconnect),
            # or the server closed the socket meanwhile (RuntimeError: after its close).
            raise WebSocketDisconnect(code=1006) from error

    async def _send_waiting(self, conn: Connection) -> None:
        try:
            while (text := conn.next_frame()) is not None:
                await self.send(text)
        except WebSocketDisconnect:
            self._stop_serving()  # the client went away
            return
        finally:
            self.sender = None
        if conn.overflowed:
            self._stop_serving()  # then closed with "resync" by serve_socket

    def end(self) -> None:
        """Close the socket, from wherever it is told (the hub's dispatch, a catch-up)."""
        self.ended = True
        self._stop_serving()

    def _stop_serving(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.serving.cancel()


class Ender:
    """The outlet of the connection that watches what ends a socket: any frame it is given
    ends the socket instead of reaching it."""

    __slots__ = ("outlet",)

    def __init__(self, outlet: SocketOutlet) -> None:
        self.outlet = outlet

    def write(self, text: str) -> bool:
        self.outlet.end()
        return True

    def wake(self, conn: Connection) -> None:
        self.outlet.end()


def raw_send(websocket: WebSocket) -> Send | None:
    """The server's own `send`, kept by web.live.KeepRawSend in the connection's state."""
    state = websocket.scope.get("state")
    return state.get(RAW_SEND) if isinstance(state, dict) else None


def _plain_protocol(raw: Any) -> Any:
    """uvicorn's websockets-sansio protocol behind `send`, if no extension is in use."""
    if raw is None:
        return None
    protocol = getattr(raw, "__self__", None)
    conn = getattr(protocol, "conn", None)
    if (
        not isinstance(conn, ServerProtocol)
        or conn.extensions
        or not all(hasattr(protocol, name) for name in ("transport", "writable", "close_sent"))
    ):
        return None
    return protocol


def _release_handshake(protocol: Any) -> None:
    """Let go of the handshake's request and response (their headers: ~2 KiB a socket).

    uvicorn's websockets-sansio protocol keeps both for the connection's whole life but
    reads them only until the handshake completes (handle_connect, and `send` before the
    accept); the socket is accepted by now.
    """
    if getattr(protocol, "handshake_complete", False) and hasattr(protocol, "response"):
        protocol.request = protocol.response = None


def _open(protocol: Any) -> bool:
    return bool(
        protocol.conn.state is State.OPEN
        and not protocol.close_sent
        and not getattr(protocol, "disconnected", False)
        and protocol.writable.is_set()
        and not protocol.transport.is_closing()
    )


async def _answer(
    websocket: WebSocket, hub: Hub, sessionmaker: async_sessionmaker[AsyncSession],
    conn: Connection,
) -> None:
    """The client's next message, answered. Its own frame, so that nothing it read or
    parsed outlives it while the socket waits for the one after."""
    try:
        raw = await receive_text(websocket, MAX_MESSAGE)
    except FrameTooLarge:
        metrics.SOCKETS_REFUSED.labels("message_size").inc()
        raise Refused(CLOSE_TOO_BIG, "message too big") from None
    if raw is None:
        conn.send(_error("bad_message", "Send JSON in text frames, not binary ones."))
        return
    try:
        message = json.loads(raw)
        kind = message["type"]
        topics = message.get("topics", [])
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise ValueError
    except (ValueError, KeyError, TypeError, RecursionError):  # Recursion: absurd nesting
        conn.send(_error("bad_message", "Expected JSON {type, topics}."))
        return
    if kind == "ping":
        conn.send(json.dumps({"type": "pong"}))
    elif kind in ("subscribe", "resync"):
        if len(set(topics) | set(conn.versions)) > MAX_TOPICS:
            conn.send(_error("too_many_topics", f"At most {MAX_TOPICS} topics."))
            return
        for topic in topics:
            await _subscribe(hub, sessionmaker, conn, topic, kind)
    elif kind == "unsubscribe":
        for topic in topics:
            hub.unwatch(conn, topic)
            conn.versions.pop(topic, None)
    else:
        conn.send(_error("bad_message", f"Unknown message type {kind!r}."))


async def _subscribe(
    hub: Hub, sessionmaker: async_sessionmaker[AsyncSession], conn: Connection, topic: str,
    reason: str = "subscribe",
) -> None:
    """`reason`: subscribe, or resync (the client saw a gap), for the metrics."""
    parsed = parse(topic)
    if parsed is None:
        conn.send(_error("unknown_topic", "Unknown topic.", topic))
        return
    topic = sys.intern(topic)  # one string for every socket that watches it, not one each
    kind, args = parsed
    limit: int | None = getattr(kind, "guest_limit", None)
    if limit is not None and not hub.has_room(conn, topic, limit):
        metrics.SOCKETS_REFUSED.labels("topic").inc()
        raise Refused(CLOSE_TRY_LATER, "too many sockets")
    # Watch first, then read: an event committed meanwhile is buffered, not lost.
    conn.begin_snapshot(topic)
    hub.watch(conn, topic)
    try:
        async with consistent_read(sessionmaker) as session:
            allowed = await kind.authorize(session, args, conn.viewer)
            if allowed:
                version, view = await read_view(session, hub, kind, args, topic)
    except Exception:
        hub.unwatch(conn, topic)
        conn.drop_snapshot(topic)
        raise
    if not allowed:
        hub.unwatch(conn, topic)
        conn.drop_snapshot(topic)
        conn.send(_error("forbidden", "You may not watch this topic.", topic))
        return
    hub.end_snapshot(conn, topic, version, hub.snapshot_text(kind, topic, version, view, conn))
    metrics.SNAPSHOTS_SENT.labels(reason).inc()


def _error(code: str, message: str, topic: str | None = None) -> str:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if topic:
        body["topic"] = topic
    return json.dumps(body)
