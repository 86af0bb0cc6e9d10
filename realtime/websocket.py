"""The websocket endpoint: one socket per browser tab, any number of topics on it.

Protocol (docs/realtime.md): the client sends {"type": "subscribe", "topics": [...]};
for each topic the server watches it first, then reads and sends its snapshot, then
the events newer than the snapshot, in version order.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.protocol import State
from websockets.server import ServerProtocol

from realtime.hub import CLOSE_RESYNC, Connection, Hub, Outgoing, bus_notice, frame, text_frame
from realtime.models import current_version
from realtime.topics import Viewer, parse

log = logging.getLogger(__name__)

RAW_SEND = "comptoir.raw_send"  # the server's own ASGI send, kept by web.live.KeepRawSend
MAX_TOPICS = 32  # a POS watching 20 tables, the menu and a few machines


async def serve_socket(
    websocket: WebSocket,
    hub: Hub,
    sessionmaker: async_sessionmaker[AsyncSession],
    viewer: Viewer,
    queue_size: int,
) -> None:
    fmt = "html" if websocket.query_params.get("format") == "html" else "json"
    await websocket.accept()
    conn = Connection(viewer, fmt, queue_size)
    conn.direct = _direct(websocket)
    hub.add(conn)
    if not hub.bus_up:
        conn.send(bus_notice(False))  # changes reach no socket for now: poll snapshots
    try:
        async with asyncio.TaskGroup() as group:
            receiving = group.create_task(_receive(websocket, hub, sessionmaker, conn))
            sending = group.create_task(_send(websocket, conn))
            done, _ = await asyncio.wait(
                {receiving, sending}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in (receiving, sending):
                task.cancel()
    except* WebSocketDisconnect:
        pass
    finally:
        hub.remove(conn)
    if conn.overflowed:
        try:
            await websocket.close(code=CLOSE_RESYNC, reason="resync")
        except RuntimeError:
            pass


async def _send(websocket: WebSocket, conn: Connection) -> None:
    send = _sender(websocket)
    while True:
        text = await conn.queue.get()
        if text is None:
            return
        conn.busy = True
        try:
            await send(text)
        finally:
            conn.busy = False


def _direct(websocket: WebSocket) -> Callable[[str], bool] | None:
    """Writes a frame at once if the connection can take it now (see _sender)."""
    protocol = _plain_protocol(getattr(websocket, "scope", {}).get(RAW_SEND))
    if protocol is None:
        return None

    def write(text: str) -> bool:
        if not _open(protocol):
            return False
        protocol.transport.write(
            text.frame if isinstance(text, Outgoing) else text_frame(text.encode())
        )
        return True

    return write


def _sender(websocket: WebSocket) -> Callable[[str], Awaitable[None]]:
    """How to send one text frame, as cheaply as the server allows.

    Once the socket is accepted, a frame would cross Starlette's WebSocket state checks and
    each middleware's send wrapper, none of which acts on a frame: with the server's own
    `send` at hand (web.live.KeepRawSend) the sender calls it directly. Under uvicorn's
    websockets-sansio protocol, when no extension (compression) was negotiated, it goes one
    step further: the frame, encoded once for every socket that sends it (hub.Outgoing), is
    written straight to the transport while the connection is open and writable; anything
    else (backpressure, closing) takes the server's own path.
    """
    raw = getattr(websocket, "scope", {}).get(RAW_SEND)
    if raw is None:
        return websocket.send_text
    direct = _direct(websocket)

    async def send(text: str) -> None:
        if direct is not None and direct(text):
            return
        try:
            await raw({"type": "websocket.send", "text": text})
        except OSError as error:  # the client went away (what Starlette turns it into)
            raise WebSocketDisconnect(code=1006) from error

    return send


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


def _open(protocol: Any) -> bool:
    return bool(
        protocol.conn.state is State.OPEN
        and not protocol.close_sent
        and not getattr(protocol, "disconnected", False)
        and protocol.writable.is_set()
        and not protocol.transport.is_closing()
    )


async def _receive(
    websocket: WebSocket,
    hub: Hub,
    sessionmaker: async_sessionmaker[AsyncSession],
    conn: Connection,
) -> None:
    while True:
        raw = await websocket.receive_text()
        try:
            message = json.loads(raw)
            kind = message["type"]
            topics = message.get("topics", [])
            if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            conn.send(_error("bad_message", "Expected JSON {type, topics}."))
            continue
        if kind == "ping":
            conn.send(json.dumps({"type": "pong"}))
        elif kind in ("subscribe", "resync"):
            if len(set(topics) | set(conn.versions)) > MAX_TOPICS:
                conn.send(_error("too_many_topics", f"At most {MAX_TOPICS} topics."))
                continue
            for topic in topics:
                await _subscribe(hub, sessionmaker, conn, topic)
        elif kind == "unsubscribe":
            for topic in topics:
                hub.unwatch(conn, topic)
                conn.versions.pop(topic, None)
        else:
            conn.send(_error("bad_message", f"Unknown message type {kind!r}."))


async def _subscribe(
    hub: Hub, sessionmaker: async_sessionmaker[AsyncSession], conn: Connection, topic: str
) -> None:
    parsed = parse(topic)
    if parsed is None:
        conn.send(_error("unknown_topic", "Unknown topic.", topic))
        return
    kind, args = parsed
    # Watch first, then read: an event committed meanwhile is buffered, not lost.
    conn.begin_snapshot(topic)
    hub.watch(conn, topic)
    try:
        async with sessionmaker() as session:
            if session.bind.dialect.name == "postgresql":
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            allowed = await kind.authorize(session, args, conn.viewer)
            if allowed:
                version = await current_version(session, topic)
                view = hub.snapshots.view(topic, version)
                if view is None:  # read once per version, however many sockets ask
                    view = await kind.snapshot(session, args)
                    view["version"] = version
                    hub.snapshots.keep(topic, version, view)
            await session.rollback()
    except Exception:
        hub.unwatch(conn, topic)
        conn.loading.pop(topic, None)
        raise
    if not allowed:
        hub.unwatch(conn, topic)
        conn.loading.pop(topic, None)
        conn.send(_error("forbidden", "You may not watch this topic.", topic))
        return
    message: dict[str, Any] = {"type": "snapshot", "topic": topic, "version": version}
    audience = kind.audience(view, conn.viewer)
    cut = (audience, conn.viewer.locale if conn.fmt == "html" else "", conn.fmt)
    text = hub.snapshots.frame(
        topic, version, cut, lambda: frame(kind, message, view, None, audience, conn)
    )
    conn.end_snapshot(topic, version, text)


def _error(code: str, message: str, topic: str | None = None) -> str:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if topic:
        body["topic"] = topic
    return json.dumps(body)
