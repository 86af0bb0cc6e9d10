"""GET /ws/device: the websocket a coffee machine keeps open (protocol: docs/machines.md).

The machine authenticates with its secret (an `Authorization: Device <secret>` header,
or a first `hello` message). Its socket then watches the machine's own channel on the hub
(`device:{id}`, machines/device_channel.py), never the screens' topics: brew commands
reach it from whichever process took the order, in the protocol's shape, each once. Every
message it sends is one unit of work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from errors import DomainError
from machines import device_channel, device_service
from machines.device_channel import device_topic, secret_mark
from machines.device_messages import MAX_FRAME, MESSAGES, AlertsReport, BrewReport, Heartbeat
from machines.device_service import Report
from machines.models import Machine
from realtime.catch_up import consistent_read, read_view
from realtime.events import run
from realtime.frames import CLOSE_TOO_BIG, FrameTooLarge, receive_text
from realtime.hub import CLOSE_RESYNC, Connection
from realtime.topics import Viewer, parse
from web.commands import parse as parse_command
from web.security import origin_allowed
from web.state import AppState, app_state

log = logging.getLogger(__name__)

PROTOCOL = 1
CLOSE_UNAUTHORIZED = 4401
HELLO_TIMEOUT_S = 10


def _decode(text: str) -> Any:
    """A frame's JSON, or None when it is not JSON (absurd nesting included)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _secret_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, secret = value.partition(" ")
    return secret.strip() if scheme.lower() in ("device", "bearer") else None


async def _hello(websocket: WebSocket) -> str | None:
    """The secret of a first `hello` message; FrameTooLarge as any frame may raise it."""
    try:
        raw = await asyncio.wait_for(receive_text(websocket, MAX_FRAME), HELLO_TIMEOUT_S)
    except TimeoutError:
        return None
    message = _decode(raw) if raw is not None else None
    if isinstance(message, dict) and message.get("type") == "hello":
        secret = message.get("secret")
        return secret if isinstance(secret, str) else None
    return None


async def device_socket(websocket: WebSocket) -> None:
    state = app_state(websocket)
    if not origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"),
        state.settings.allowed_origins,
    ):
        await websocket.close(code=1008, reason="origin")
        return
    await websocket.accept()
    secret = _secret_from_header(websocket.headers.get("authorization"))
    if secret is None:
        try:
            secret = await _hello(websocket)
        except FrameTooLarge:
            await websocket.close(code=CLOSE_TOO_BIG, reason="frame too large")
            return
    async with state.sessionmaker() as session:
        machine = await device_service.authenticate(session, secret)
    if machine is None:
        await websocket.send_text(_error("unauthorized", "Unknown or missing machine secret."))
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason="unauthorized")
        return
    await _serve(websocket, state, machine)


@dataclass
class Link:
    """One connection of a machine: who it is, the secret it opened with (as
    device_channel.secret_mark shows it), and the commands sent on it."""

    machine_id: int
    secret: str
    sent: set[int] = field(default_factory=set)


async def _serve(
    websocket: WebSocket, state: AppState, machine: Machine
) -> None:
    connection = secrets.token_hex(8)
    wakeup = Wakeup()
    conn = DeviceConnection(
        Viewer(role="device", locale="en"), "json", state.settings.socket_queue_size, wakeup
    )
    state.hub.add(conn)
    link = Link(machine.id, secret_mark(machine.secret_hash))
    close: tuple[int, str] | None = None
    try:
        await _watch(state, conn, machine.id)  # before it is online: no command falls between
        await run(
            state.sessionmaker, state.bus,
            lambda tx: device_service.connected(tx, machine.id, connection, _now()),
        )
        await websocket.send_text(json.dumps({
            "type": "welcome", "protocol": PROTOCOL,
            "machine": {"id": machine.id, "name": machine.name, "serial": machine.serial},
            "heartbeat_s": state.settings.machine_heartbeat_s,
        }))
        async with asyncio.TaskGroup() as group:
            receiving = group.create_task(_receive(websocket, state, machine.id, connection, conn))
            sending = group.create_task(_send(websocket, state, conn, wakeup, link))
            await asyncio.wait({receiving, sending}, return_when=asyncio.FIRST_COMPLETED)
            for task in (receiving, sending):
                task.cancel()
        if not sending.cancelled():
            close = sending.result()
        if not receiving.cancelled():
            close = receiving.result()
    except* WebSocketDisconnect:
        pass
    finally:
        state.hub.remove(conn)
        try:
            await run(
                state.sessionmaker, state.bus,
                lambda tx: device_service.disconnected(tx, machine.id, connection, _now()),
            )
        except Exception:
            log.exception("could not mark machine %s offline", machine.id)
    if conn.overflowed:
        close = (CLOSE_RESYNC, "resync")
    if close is not None:
        try:
            await websocket.close(code=close[0], reason=close[1])
        except RuntimeError:
            pass


def _now() -> datetime:
    return datetime.now(UTC)


def _error(code: str, message: str, **extra: Any) -> str:
    return json.dumps({"type": "error", "code": code, "message": message, **extra})


async def _watch(state: AppState, conn: Connection, machine_id: int) -> None:
    """Watch the machine's own topic, then read its snapshot (the pending commands), as a
    screen subscribes: a command committed meanwhile waits for the snapshot, then follows."""
    topic = device_topic(machine_id)
    parsed = parse(topic)
    assert parsed is not None, "machines.live registers the device topics"
    kind, args = parsed
    conn.begin_snapshot(topic)
    state.hub.watch(conn, topic)
    async with consistent_read(state.sessionmaker) as session:
        version, view = await read_view(session, state.hub, kind, args, topic)
    state.hub.end_snapshot(
        conn, topic, version, state.hub.snapshot_text(kind, topic, version, view, conn)
    )


# Queued, never sent to the machine: has `forward` read what is pending from the database.
LOST = json.dumps({"type": "lost"})


class DeviceConnection(Connection):
    """The machine socket's place on the hub. A command whose version skips one means one
    never arrived (two commits can reach the bus in either order, and the later one makes
    the earlier one's version old news): what is pending is read again first."""

    __slots__ = ()

    def offer(self, topic: str, version: int, text: str) -> None:
        if not self.is_loading(topic) and version > self.versions.get(topic, 0) + 1:
            self.send(LOST)
        super().offer(topic, version, text)


class Wakeup:
    """The machine socket's outlet: every frame waits for its sender (_send), which sends
    each command once; the hub only wakes it."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def write(self, text: str) -> bool:
        return False

    def wake(self, conn: Connection) -> None:
        self.event.set()


REPLACED = (CLOSE_UNAUTHORIZED, "secret replaced")


async def _send(
    websocket: WebSocket, state: AppState, conn: Connection, wakeup: Wakeup, link: Link
) -> tuple[int, str] | None:
    """Send the channel's commands, each once, and the socket's own replies; the close code
    when the socket must close (resync; its secret replaced)."""
    while True:
        await wakeup.event.wait()
        wakeup.event.clear()
        while (text := conn.next_frame()) is not None:
            if not await forward(websocket, state, link, text):
                await websocket.send_text(_error(
                    "unauthorized", "This machine's secret was replaced: enter the new one."
                ))
                return REPLACED
        if conn.overflowed:
            return None  # closed with "resync", the machine reconnects


async def forward(websocket: WebSocket, state: AppState, link: Link, text: str) -> bool:
    """One frame of the machine's channel, as the machine needs it; False when the
    machine's secret is no longer the one this socket opened with."""
    message = json.loads(text)
    kind = message.get("type")
    if kind == "brew":  # a command, already in the protocol's shape
        if message["brew_id"] not in link.sent:
            link.sent.add(message["brew_id"])
            await websocket.send_text(text)
    elif kind == "secret_replaced":
        return bool(message["secret"] == link.secret)
    elif kind == "snapshot":
        # On connection, or when the hub caught the socket up after the bus lost messages.
        return await _catch_up(websocket, link, message["data"])
    elif kind == "lost":
        async with state.sessionmaker() as session:
            channel = await device_channel.channel_state(session, link.machine_id)
        return await _catch_up(websocket, link, channel)
    elif kind != "bus":  # the bus's comings and goings: the hub catches the socket up
        await websocket.send_text(text)  # a reply: pong, error
    return True


async def _catch_up(websocket: WebSocket, link: Link, channel: dict[str, Any]) -> bool:
    if channel["secret"] != link.secret:
        return False
    for cmd in channel["pending"]:
        if cmd["brew_id"] not in link.sent:
            link.sent.add(cmd["brew_id"])
            await websocket.send_text(json.dumps(cmd, separators=(",", ":")))
    return True


async def _receive(
    websocket: WebSocket, state: AppState, machine_id: int, connection: str, conn: Connection
) -> tuple[int, str]:
    """Answer the machine's messages until it sends a frame too large to read."""
    while True:
        try:
            raw = await receive_text(websocket, MAX_FRAME)
        except FrameTooLarge:
            return (CLOSE_TOO_BIG, "frame too large")
        if raw is None:
            conn.send(_error("bad_message", "Binary frames are not part of the protocol."))
            continue
        message = _decode(raw)
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            conn.send(_error("bad_message", "Expected a JSON object with a type."))
            continue
        try:
            await _handle(state, machine_id, connection, message, conn)
        except DomainError as error:
            brew_id = message.get("brew_id")
            extra: dict[str, Any] = {"field": error.field} if error.field else {}
            if type(brew_id) is int:
                extra["brew_id"] = brew_id
            conn.send(_error(error.code, str(error), **extra))


async def _handle(
    state: AppState, machine_id: int, connection: str, message: dict[str, Any],
    conn: Connection,
) -> None:
    now = _now()
    kind = message["type"]
    if kind == "ping":
        conn.send(json.dumps({"type": "pong"}))
        return
    model = MESSAGES.get(kind)
    if model is None:
        conn.send(_error("bad_message", f"Unknown message type {kind[:20]!r}."))
        return
    parsed = parse_command(model, message)  # BadValue, naming the field
    if isinstance(parsed, Heartbeat):
        alerts = parsed.alerts
        await run(
            state.sessionmaker, state.bus,
            lambda tx: device_service.heartbeat(tx, machine_id, connection, alerts, now),
        )
    elif isinstance(parsed, AlertsReport):
        current = parsed.alerts
        await run(
            state.sessionmaker, state.bus,
            lambda tx: device_service.set_alerts(tx, machine_id, current, now),
        )
    elif isinstance(parsed, BrewReport):
        report = Report(parsed.brew_id, parsed.status, parsed.progress, parsed.reason)
        await run(
            state.sessionmaker, state.bus,
            lambda tx: device_service.report(tx, machine_id, report, now),
        )
