"""A coffee machine's own channel (`device:{id}`), against real servers: its commands reach
the machine's socket in the device protocol's shape and no screen; a pending one reaches it
once more after a reconnection, or while the bus is away, and never twice."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect

from demo.seed import DemoVenue
from machines import admin_service
from machines.device import DeviceConnection, Link, forward
from machines.device_channel import command, device_topic, secret_mark
from machines.errors import MachineBusy
from machines.simulator import device_url
from realtime.events import Frame
from realtime.topics import Viewer
from tests.conftest import Database, Server, unavailable
from tests.machines.conftest import Coffee, key
from tests.machines.test_device import secrets_for, until
from tests.realtime.conftest import REDIS_SERVER, PrivateRedis
from tests.realtime.phones import Phone, receive, send, subscribe

# These machines send no heartbeat and stay online; and no sweeper writes while the next
# test empties the database under a server kept for the module (a deadlock on PostgreSQL).
QUIET = {"MACHINE_OFFLINE_AFTER_S": "600", "MACHINE_SWEEP_S": "600"}


@dataclass
class Hall:
    """The demo's open machine, with a fresh secret, and a server to reach it."""

    server: Server
    machine_id: int
    token: str
    secret: str


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Server]]:
    """One server per database for the module: starting one takes seconds."""
    started: dict[str, Server] = {}
    yield started
    for server in started.values():
        server.stop()


@pytest_asyncio.fixture
async def hall(db: Database, venue: DemoVenue, servers: dict[str, Server]) -> Hall:
    if db.url not in servers:
        servers[db.url] = await asyncio.to_thread(Server, {"DATABASE_URL": db.url, **QUIET})
    machine_id, token, secret = (await secrets_for(db))["open"]
    return Hall(servers[db.url], machine_id, token, secret)


@asynccontextmanager
async def machine(server_url: str, secret: str, token: str) -> AsyncIterator[ClientConnection]:
    """The machine's socket, once welcomed (the machine is online from then on); once it is
    closed, until the server has marked the machine offline (nothing left to write)."""
    headers = {"Authorization": f"Device {secret}"}
    async with connect(device_url(server_url), additional_headers=headers) as socket:
        assert (await receive(socket))["type"] == "welcome"
        yield socket
    async with httpx.AsyncClient(base_url=server_url) as client:

        async def offline() -> bool:
            view = (await client.get(f"/api/v1/machines/{token}")).json()
            return view["machine"]["machine"]["online"] is False

        await until(offline)


async def order(phone: httpx.AsyncClient, token: str, drink: str) -> int:
    """A drink ordered from the machine's page: the brew's id."""
    menu = (await phone.get(f"/api/v1/machines/{token}")).json()
    product = next(d for d in menu["drinks"] if d["type"] == drink)
    started = await phone.post(
        f"/api/v1/machines/{token}/brews",
        json={"product_id": product["id"], "idempotency_key": key()},
    )
    assert started.status_code == 201, started.text
    brew_id: int = started.json()["brew"]["id"]
    return brew_id


def assert_command(frame: dict[str, Any], brew_id: int, drink: str) -> None:
    """A brew command as docs/machines.md (1.3) shows it, and nothing of a screen's event."""
    assert set(frame) == {"type", "brew_id", "product"}, frame
    assert (frame["type"], frame["brew_id"]) == ("brew", brew_id)
    assert set(frame["product"]) == {"name", "type", "recipe"}
    assert frame["product"]["type"] == drink


async def made(socket: ClientConnection, brew_id: int) -> None:
    for status in ("accepted", "done"):
        await socket.send(json.dumps({"type": "brew", "brew_id": brew_id, "status": status}))


async def free(phone: httpx.AsyncClient, token: str) -> None:
    async def idle() -> bool:
        view = (await phone.get(f"/api/v1/machines/{token}")).json()
        return view["machine"]["busy"] is False

    await until(idle)


async def nothing_else_waits(socket: ClientConnection) -> None:
    """The machine's socket sends in order: the reply to a ping comes after whatever was
    on its way to the machine before it."""
    await socket.send(json.dumps({"type": "ping"}))
    assert await receive(socket) == {"type": "pong"}


async def test_brew_commands_reach_the_machine_on_its_own_channel_in_order(hall: Hall) -> None:
    async with (
        httpx.AsyncClient(base_url=hall.server.url) as phone,
        machine(hall.server.url, hall.secret, hall.token) as device,
    ):
        first = await order(phone, hall.token, "espresso")
        assert_command(await receive(device), first, "espresso")
        await made(device, first)
        await free(phone, hall.token)
        second = await order(phone, hall.token, "lungo")
        assert_command(await receive(device), second, "lungo")
        await nothing_else_waits(device)


async def test_a_screen_watching_the_machine_never_receives_its_commands(
    hall: Hall, venue: DemoVenue
) -> None:
    email, password, _ = venue.staff[0]  # an admin: the machine's full view
    async with (
        Phone(hall.server.url) as staff,
        machine(hall.server.url, hall.secret, hall.token) as device,
    ):
        await staff.sign_in(email, password)
        async with staff.socket() as screen:
            await subscribe(screen, f"machine:{hall.machine_id}")
            brew_id = await order(staff.http, hall.token, "espresso")
            assert_command(await receive(device), brew_id, "espresso")
            await made(device, brew_id)
            seen: list[dict[str, Any]] = []
            while not seen or seen[-1].get("event") != "brew.done":
                seen.append(await receive(screen))
    assert {m["type"] for m in seen} == {"event"}
    assert {m["topic"] for m in seen} == {f"machine:{hall.machine_id}"}
    requested = next(m for m in seen if m["event"] == "brew.requested")
    assert requested["data"]["change"] == {"brew_id": brew_id, "status": "requested"}
    assert all("command" not in (m["data"]["change"] or {}) for m in seen)


async def test_no_browser_may_watch_a_machines_channel(hall: Hall, venue: DemoVenue) -> None:
    email, password, _ = venue.staff[0]
    topic = f"device:{hall.machine_id}"
    async with Phone(hall.server.url) as admin, Phone(hall.server.url) as visitor:
        await admin.sign_in(email, password)  # the company's admin
        assert (await visitor.http.get(f"/m/{hall.token}")).status_code == 200  # scanned it
        for phone in (admin, visitor):
            async with phone.socket() as ws:
                await send(ws, "subscribe", topic)
                assert await receive(ws) == {
                    "type": "error", "code": "forbidden", "topic": topic,
                    "message": "You may not watch this topic.",
                }


async def test_a_reconnecting_machine_gets_its_pending_command_once(hall: Hall) -> None:
    async with httpx.AsyncClient(base_url=hall.server.url) as phone:
        async with machine(hall.server.url, hall.secret, hall.token) as device:
            brew_id = await order(phone, hall.token, "espresso")
            first = await receive(device)
            assert_command(first, brew_id, "espresso")
        # Gone before taking it: the next connection is told again, once.
        async with machine(hall.server.url, hall.secret, hall.token) as device:
            assert await receive(device) == first
            await nothing_else_waits(device)
            await made(device, brew_id)
            await free(phone, hall.token)
        async with machine(hall.server.url, hall.secret, hall.token) as device:
            await nothing_else_waits(device)  # made: nothing pending any more


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    """A Redis of the test's own, which it kills and restarts."""
    if not os.access(REDIS_SERVER, os.X_OK):
        unavailable("redis-server")
    server = PrivateRedis()
    server.start()
    yield server
    server.kill()


async def test_a_command_ordered_while_the_bus_is_away_reaches_the_machine_once(
    db: Database, venue: DemoVenue, server_factory: type[Server], redis_server: PrivateRedis
) -> None:
    """With Redis down, the command's frame reaches no bus: the server finds it in the
    database for the machine; once Redis is back nothing comes twice, and commands travel
    live again. (Across processes, tests/machines/test_device.py.)"""
    _, token, secret = (await secrets_for(db))["open"]
    server = await asyncio.to_thread(
        server_factory, {"DATABASE_URL": db.url, "REDIS_URL": redis_server.url, **QUIET}
    )
    async with (
        httpx.AsyncClient(base_url=server.url) as phone,
        machine(server.url, secret, token) as device,
    ):
        redis_server.kill()

        async def bus(state: str) -> bool:
            return bool((await phone.get("/healthz")).json()["bus"] == state)

        await until(lambda: bus("down"))
        first = await order(phone, token, "espresso")  # commits; its frame reaches no bus
        assert_command(await receive(device), first, "espresso")

        await asyncio.to_thread(redis_server.start)
        await until(lambda: bus("ok"))
        await asyncio.sleep(1.5)  # the hub's catch-up rounds once the bus is back
        await nothing_else_waits(device)
        await made(device, first)
        await free(phone, token)
        second = await order(phone, token, "lungo")
        assert_command(await receive(device), second, "lungo")
        await nothing_else_waits(device)


async def test_a_brew_commands_its_machine_on_its_channel_only_once_committed(
    coffee: Coffee,
) -> None:
    machine = await coffee.machine("open")
    drinks = await coffee.drinks(machine)
    coffee.events.clear()
    first = (await coffee.brew(machine, drinks["espresso"])).brew
    with pytest.raises(MachineBusy):  # refused: rolled back, nothing to tell the machine
        await coffee.brew(machine, drinks["lungo"])
    await coffee.report(machine, first.id, "done")
    second = (await coffee.brew(machine, drinks["lungo"])).brew

    channel = [e for e in coffee.events if e.topic == f"device:{machine.id}"]
    assert all(isinstance(e, Frame) for e in channel)
    assert [(e.version, e.data["brew_id"]) for e in channel] == [(1, first.id), (2, second.id)]
    assert channel[0].data == {
        "type": "brew", "brew_id": first.id,
        "product": {"name": first.product_name, "type": "espresso", "recipe": first.recipe},
    }
    screens = [e for e in coffee.events if e.topic != f"device:{machine.id}"]
    assert screens and all("command" not in e.data["change"] for e in screens)


class Outbox:
    """Stands for the machine's websocket: what the server sends it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))


async def test_a_command_whose_version_never_came_is_read_from_the_database(
    coffee: Coffee,
) -> None:
    """Two commits may reach the bus in either order: when a later version overtakes a
    command, the machine's socket reads what is pending, and still sends each one once."""
    machine = await coffee.machine("open")
    brew = (await coffee.brew(machine, (await coffee.drinks(machine))["espresso"])).brew
    topic = device_topic(machine.id)
    conn = DeviceConnection(Viewer(role="device"), "json", 10)
    conn.versions[topic] = 0
    later = {"type": "brew", "brew_id": brew.id + 1, "product": {}}  # version 2, first
    conn.offer(topic, 2, json.dumps(later))
    conn.offer(topic, 1, json.dumps(command(brew)))  # late: old news for the hub
    socket, state = Outbox(), SimpleNamespace(sessionmaker=coffee.db.sessionmaker)
    link = Link(machine.id, secret_mark(machine.secret_hash))
    while (text := conn.next_frame()) is not None:
        assert await forward(cast(Any, socket), cast(Any, state), link, text)
    assert socket.sent == [command(brew), later]


async def test_a_secret_replaced_while_the_bus_was_away_shows_when_the_socket_catches_up(
    coffee: Coffee,
) -> None:
    """The notice of a new secret travels on the bus; if it was lost, the pending commands
    the socket reads again (a skipped version, the bus back) say which secret is current."""
    machine = await coffee.machine("open")
    link = Link(machine.id, secret_mark(machine.secret_hash))
    socket, state = Outbox(), SimpleNamespace(sessionmaker=coffee.db.sessionmaker)
    lost = json.dumps({"type": "lost"})
    assert await forward(cast(Any, socket), cast(Any, state), link, lost)
    await coffee.run(lambda tx: admin_service.rotate_secret(tx, coffee.admin, machine.id))
    assert not await forward(cast(Any, socket), cast(Any, state), link, lost)
    assert socket.sent == []
