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
from datetime import UTC, datetime
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from errors import DomainError
from machines import device_channel, device_service
from machines.device_channel import device_topic
from machines.device_service import Report
from machines.models import Machine
from realtime.catch_up import consistent_read, read_view
from realtime.events import run
from realtime.hub import CLOSE_RESYNC, Connection
from realtime.topics import Viewer, parse
from web.security import origin_allowed
from web.state import AppState, app_state

log = logging.getLogger(__name__)

PROTOCOL = 1
CLOSE_UNAUTHORIZED = 4401
HELLO_TIMEOUT_S = 10


def _secret_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, secret = value.partition(" ")
    return secret.strip() if scheme.lower() in ("device", "bearer") else None


async def _hello(websocket: WebSocket) -> str | None:
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT_S)
        message = json.loads(raw)
    except (TimeoutError, ValueError):
        return None
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
        secret = await _hello(websocket)
    async with state.sessionmaker() as session:
        machine = await device_service.authenticate(session, secret)
    if machine is None:
        await websocket.send_text(_error("unauthorized", "Unknown or missing machine secret."))
        await websocket.close(code=CLOSE_UNAUTHORIZED, reason="unauthorized")
        return
    await _serve(websocket, state, machine)


async def _serve(
    websocket: WebSocket, state: AppState, machine: Machine
) -> None:
    connection = secrets.token_hex(8)
    wakeup = Wakeup()
    conn = DeviceConnection(
        Viewer(role="device", locale="en"), "json", state.settings.socket_queue_size, wakeup
    )
    state.hub.add(conn)
    sent: set[int] = set()
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
            sending = group.create_task(
                _send(websocket, state, machine.id, conn, wakeup, sent)
            )
            await asyncio.wait({receiving, sending}, return_when=asyncio.FIRST_COMPLETED)
            for task in (receiving, sending):
                task.cancel()
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
        try:
            await websocket.close(code=CLOSE_RESYNC, reason="resync")
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


async def _send(
    websocket: WebSocket, state: AppState, machine_id: int, conn: Connection, wakeup: Wakeup,
    sent: set[int],
) -> None:
    """Send the channel's commands, each once, and the socket's own replies."""
    while True:
        await wakeup.event.wait()
        wakeup.event.clear()
        while (text := conn.next_frame()) is not None:
            await forward(websocket, state, machine_id, sent, text)
        if conn.overflowed:
            return  # closed with "resync", the machine reconnects


async def forward(
    websocket: WebSocket, state: AppState, machine_id: int, sent: set[int], text: str
) -> None:
    """One frame of the machine's channel, as the machine needs it."""
    message = json.loads(text)
    kind = message.get("type")
    if kind == "brew":  # a command, already in the protocol's shape
        if message["brew_id"] not in sent:
            sent.add(message["brew_id"])
            await websocket.send_text(text)
    elif kind == "snapshot":
        # On connection, or when the hub caught the socket up after the bus lost messages.
        await _send_new(websocket, message["data"]["pending"], sent)
    elif kind == "lost":
        async with state.sessionmaker() as session:
            commands = await device_channel.pending(session, machine_id)
        await _send_new(websocket, commands, sent)
    elif kind != "bus":  # the bus's comings and goings: the hub catches the socket up
        await websocket.send_text(text)  # a reply: pong, error


async def _send_new(websocket: WebSocket, commands: list[dict[str, Any]], sent: set[int]) -> None:
    for cmd in commands:
        if cmd["brew_id"] not in sent:
            sent.add(cmd["brew_id"])
            await websocket.send_text(json.dumps(cmd, separators=(",", ":")))


async def _receive(
    websocket: WebSocket, state: AppState, machine_id: int, connection: str, conn: Connection
) -> None:
    while True:
        raw = await websocket.receive_text()
        try:
            message = json.loads(raw)
            kind = message["type"]
        except (ValueError, KeyError, TypeError):
            conn.send(_error("bad_message", "Expected a JSON object with a type."))
            continue
        try:
            await _handle(state, machine_id, connection, kind, message, conn)
        except DomainError as error:
            conn.send(_error(error.code, str(error), brew_id=message.get("brew_id")))


async def _handle(
    state: AppState, machine_id: int, connection: str, kind: object,
    message: dict[str, Any], conn: Connection,
) -> None:
    now = _now()
    if kind == "heartbeat":
        await run(
            state.sessionmaker, state.bus,
            lambda tx: device_service.heartbeat(
                tx, machine_id, connection, message.get("alerts"), now
            ),
        )
    elif kind == "alerts":
        await run(
            state.sessionmaker, state.bus,
            lambda tx: device_service.set_alerts(tx, machine_id, message.get("alerts"), now),
        )
    elif kind == "brew":
        report = Report(
            message.get("brew_id"), message.get("status"), message.get("progress"),
            message.get("reason"),
        )
        await run(
            state.sessionmaker, state.bus,
            lambda tx: device_service.report(tx, machine_id, report, now),
        )
    elif kind == "ping":
        conn.send(json.dumps({"type": "pong"}))
    else:
        conn.send(_error("bad_message", f"Unknown message type {str(kind)[:20]!r}."))
