"""The device protocol against a real server, with the tests' own device written from
docs/machines.md: what a machine sends out of bounds is refused with the error the document
lists and the connection stays; a frame too large closes it with 1009; a machine cannot
know the server gave up on a brew, so its late news gets no error."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from demo.seed import DemoVenue
from tests.conftest import Database, Server
from tests.machines.conftest import key
from tests.machines.partner_device import PartnerDevice
from tests.machines.test_device import secrets_for

# No sweeper writes while the next test empties the database under the module's server.
QUIET = {"MACHINE_OFFLINE_AFTER_S": "600", "MACHINE_SWEEP_S": "600"}
KIB = 1024


@dataclass
class Hall:
    """The demo's open machine, with a fresh secret, and a server to reach it."""

    server: Server
    token: str
    secret: str

    async def order(self, drink: str = "espresso") -> int:
        """A phone orders a drink: the brew's id."""
        async with httpx.AsyncClient(base_url=self.server.url) as phone:
            menu = (await phone.get(f"/api/v1/machines/{self.token}")).json()
            product = next(d["id"] for d in menu["drinks"] if d["type"] == drink)
            started = await phone.post(f"/api/v1/machines/{self.token}/brews",
                                       json={"product_id": product, "idempotency_key": key()})
            assert started.status_code == 201, started.text
            return int(started.json()["brew"]["id"])

    async def brew(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.server.url) as phone:
            view = (await phone.get(f"/api/v1/machines/{self.token}")).json()
            return dict(view["machine"]["brew"])

    async def online(self) -> bool:
        async with httpx.AsyncClient(base_url=self.server.url) as phone:
            view = (await phone.get(f"/api/v1/machines/{self.token}")).json()
            return bool(view["machine"]["machine"]["online"])


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
    _, token, secret = (await secrets_for(db))["open"]
    return Hall(servers[db.url], token, secret)


def refused(reply: dict[str, Any], code: str, field: str | None = None) -> None:
    assert reply["type"] == "error" and reply["code"] == code, reply
    assert isinstance(reply["message"], str) and reply["message"]
    assert reply.get("field") == field, reply


async def test_numbers_out_of_range_and_binary_frames_are_refused_and_the_socket_stays(
    hall: Hall,
) -> None:
    async with PartnerDevice(hall.server.url, hall.secret) as device:
        await device.heartbeat([])
        brew_id = await hall.order()
        assert (await device.next("brew"))["brew_id"] == brew_id
        assert (await device.answer(
            {"type": "brew", "brew_id": brew_id, "status": "brewing", "progress": 40}
        ))["type"] == "pong"

        for bad_id in (2**63, 10**30, 0, -5, "12", True, 1.5, None):
            reply = await device.answer({"type": "brew", "brew_id": bad_id, "status": "done"})
            refused(reply, "bad_value", "brew_id")
        reply = await device.answer({"type": "brew", "brew_id": 2**63 - 1, "status": "done"})
        refused(reply, "unknown_brew")
        assert reply["brew_id"] == 2**63 - 1
        for progress in (150, 101, -5, 10**30, 1e30, 50.5, "50", True):
            reply = await device.answer(
                {"type": "brew", "brew_id": brew_id, "status": "brewing", "progress": progress}
            )
            refused(reply, "bad_value", "progress")
            assert reply["brew_id"] == brew_id
        for status in ("exploded", 3, None):
            refused(await device.answer({"type": "brew", "brew_id": brew_id, "status": status}),
                    "bad_value", "status")
        refused(await device.answer({"type": "brew", "brew_id": brew_id, "status": "failed",
                                     "reason": "x" * 61}), "bad_value", "reason")
        for alerts, field in (("beans", "alerts"), (["beans"] * 17, "alerts"),
                              (["beans", 3], "alerts.1"), (["b" * 41], "alerts.0")):
            for kind in ("alerts", "heartbeat"):
                refused(await device.answer({"type": kind, "alerts": alerts}),
                        "bad_value", field)
        refused(await device.answer({"type": "alerts"}), "bad_value", "alerts")
        refused(await device.answer(b"\x00\x01binary"), "bad_message")
        refused(await device.answer(b'{"type": "ping"}'), "bad_message")  # JSON, but binary
        for junk in ("not json", "[1, 2]", '"ping"', '{"type": 3}', "[" * 5000 + "]" * 5000,
                     '{"type": "brew", "brew_id": NaN, "status": "done"}'):
            reply = await device.answer(junk)
            assert reply["code"] in ("bad_message", "bad_value"), (junk[:20], reply)
        refused(await device.answer({"type": "reboot"}), "bad_message")

        # Nothing refused changed anything; the connection served on, the machine online.
        brew = await hall.brew()
        assert (brew["id"], brew["status"], brew["progress"]) == (brew_id, "brewing", 40)
        assert await hall.online()
        # Unknown fields are ignored; values in range are taken.
        assert (await device.answer({"type": "brew", "brew_id": brew_id, "status": "brewing",
                                     "progress": 100, "temperature": 92}))["type"] == "pong"
        assert (await hall.brew())["progress"] == 100
        assert (await device.answer({"type": "brew", "brew_id": brew_id, "status": "done"}
                                    ))["type"] == "pong"
        assert (await hall.brew())["status"] == "done"
        assert (await device.answer({"type": "heartbeat", "alerts": ["beans", "teleporter"]})
                )["type"] == "pong"


async def test_a_frame_over_64_kib_closes_the_connection_with_1009(hall: Hall) -> None:
    async with PartnerDevice(hall.server.url, hall.secret) as device:
        just_under = {"type": "ping", "padding": "x" * (64 * KIB - 100)}
        assert (await device.answer(just_under))["type"] == "pong"
        with contextlib.suppress(ConnectionClosed):  # closed while it was still sending
            await device.send_raw('{"type": "ping", "padding": "' + "x" * (4096 * KIB) + '"}')
        code, _ = await device.closed()
        assert code == 1009
    async with PartnerDevice(hall.server.url, hall.secret) as device:  # it may come back
        await device.send_raw("é" * (33 * KIB))  # 66 KiB once encoded
        code, _ = await device.closed()
        assert code == 1009
    # Before its secret is checked, a connection gets no more room.
    async with connect(hall.server.url.replace("http", "ws") + "/ws/device") as stranger:
        await stranger.send("x" * (65 * KIB))
        with pytest.raises(ConnectionClosed) as closed:
            await stranger.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_a_binary_hello_is_refused_like_a_wrong_secret(hall: Hall) -> None:
    async with connect(hall.server.url.replace("http", "ws") + "/ws/device") as stranger:
        await stranger.send(b'{"type": "hello", "secret": "' + hall.secret.encode() + b'"}')
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await stranger.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    async with PartnerDevice(hall.server.url, hall.secret, hello=True) as device:
        assert (await device.answer({"type": "heartbeat"}))["type"] == "pong"


async def test_news_of_a_finished_brew_is_ignored_without_error(hall: Hall) -> None:
    """The table of docs/machines.md 1.4: after done or failed (here: the machine said it
    failed; a server timeout is the same), nothing the machine says about the brew is an
    error, and nothing changes."""
    async with PartnerDevice(hall.server.url, hall.secret) as device:
        brew_id = await hall.order()
        await device.next("brew")
        await device.report(brew_id, "accepted")
        assert (await device.answer({"type": "brew", "brew_id": brew_id, "status": "failed",
                                     "reason": "no_cups"}))["type"] == "pong"
        for status, extra in (("brewing", {"progress": 90}), ("grinding", {}), ("done", {}),
                              ("accepted", {}), ("failed", {"reason": "again"})):
            reply = await device.answer(
                {"type": "brew", "brew_id": brew_id, "status": status, **extra}
            )
            assert reply["type"] == "pong", (status, reply)
        brew = await hall.brew()
        assert (brew["status"], brew["reason"]) == ("failed", "no_cups")
