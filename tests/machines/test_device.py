"""The device protocol end to end: a real server, simulated machines over websockets,
a phone over HTTP and a screen on the live channel."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from demo.seed import DemoVenue
from machines.device_service import issue_secret
from machines.models import Machine
from machines.simulator import Behaviour, SimulatedMachine, device_url
from settings import ROOT
from tests.conftest import REDIS_URL, Database, Server, _reachable, unavailable
from tests.machines.conftest import key

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FAST = {
    "MACHINE_HEARTBEAT_S": "0.3",
    "MACHINE_OFFLINE_AFTER_S": "1.5",
    "MACHINE_SWEEP_S": "0.3",
    "BREW_ACCEPT_TIMEOUT_S": "30",
}


async def until(check: Callable[[], Awaitable[object]], timeout: float = 10) -> object:
    """Wait for a condition a user would see, failing with the last value if it never holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    value: object = None
    while asyncio.get_running_loop().time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met; last value {value!r}")


async def secrets_for(db: Database) -> dict[str, tuple[int, str, str]]:
    """Fresh secrets for the demo machines: mode -> (id, token, secret)."""
    async with db.sessionmaker() as session, session.begin():
        machines = (await session.scalars(select(Machine).order_by(Machine.id))).all()
        return {m.mode: (m.id, m.token, await issue_secret(session, m)) for m in machines}


@asynccontextmanager
async def running(machine: SimulatedMachine) -> AsyncIterator[SimulatedMachine]:
    task = asyncio.create_task(machine.run())
    try:
        await asyncio.wait_for(machine.connected.wait(), 10)
        yield machine
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_brew_progress_alerts_failures_and_refunds(
    db: Database, venue: DemoVenue, server_factory: type[Server]
) -> None:
    found = await secrets_for(db)
    server = await asyncio.to_thread(server_factory, {"DATABASE_URL": db.url, **FAST})
    open_id, open_token, open_secret = found["open"]
    _, paid_token, paid_secret = found["prepaid"]
    fast = Behaviour(speed=100, steps=3)
    hall = SimulatedMachine(server.url, open_secret, fast)
    space = SimulatedMachine(server.url, paid_secret, fast)
    async with httpx.AsyncClient(base_url=server.url) as watcher:  # the screen's browser
        assert (await watcher.get(f"/m/{open_token}")).status_code == 200  # scans the machine
    watching = {"Cookie": f"comptoir={watcher.cookies['comptoir']}"}
    async with (
        httpx.AsyncClient(base_url=server.url) as phone,
        running(hall), running(space),
        connect(server.url.replace("http", "ws") + "/ws", additional_headers=watching) as screen,
    ):
        state = (await phone.get(f"/api/v1/machines/{open_token}")).json()
        assert state["machine"]["machine"]["online"] is True
        await screen.send(json.dumps({"type": "subscribe", "topics": [f"machine:{open_id}"]}))
        snapshot = json.loads(await screen.recv())
        assert snapshot["type"] == "snapshot"

        espresso = next(d for d in state["drinks"] if d["type"] == "espresso")
        started = await phone.post(
            f"/api/v1/machines/{open_token}/brews",
            json={"product_id": espresso["id"], "idempotency_key": key()},
        )
        assert started.status_code == 201, started.text
        seen: list[tuple[int, str, int]] = []
        while not seen or seen[-1][1] != "done":
            event = json.loads(await asyncio.wait_for(screen.recv(), 10))
            brew = event["data"]["view"]["brew"]
            seen.append((event["version"], brew["status"], brew["progress"]))
        versions = [v for v, _, _ in seen]
        assert versions == sorted(versions) == list(range(versions[0], versions[-1] + 1))
        statuses = [s for _, s, _ in seen]
        assert statuses[:2] == ["requested", "accepted"] and "brewing" in statuses
        assert seen[-1][2] == 100 and hall.brewed == 1

        # An alert from the machine: what needs beans is refused, hot water still flows.
        await hall.set_alerts({"beans"})

        async def alerted() -> bool:
            view = (await phone.get(f"/api/v1/machines/{open_token}")).json()
            return view["machine"]["machine"]["alerts"] == ["beans"]

        await until(alerted)
        refused = await phone.post(
            f"/api/v1/machines/{open_token}/brews",
            json={"product_id": espresso["id"], "idempotency_key": key()},
        )
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "machine_alert"

        # Prepaid: Léa signs in; a failure midway gives her money back.
        email, password = venue.consumers[0]
        signed = await phone.post(
            "/api/v1/consumers/login",
            json={"machine": paid_token, "email": email, "password": password},
        )
        assert signed.status_code == 200, signed.text
        menu = (await phone.get(f"/api/v1/machines/{paid_token}")).json()
        before = menu["consumer"]["balance"]
        latte = next(d for d in menu["drinks"] if d["type"] == "latte")
        space.fail_next("milk_pump")
        paid = await phone.post(
            f"/api/v1/machines/{paid_token}/brews",
            json={"product_id": latte["id"], "idempotency_key": key()},
        )
        assert paid.status_code == 201, paid.text

        async def latest_brew() -> dict[str, object] | None:
            me = (await phone.get("/api/v1/consumers/me")).json()
            brew = me["brews"][0]
            return me if brew["status"] in ("done", "failed") else None

        me = await until(latest_brew)
        assert isinstance(me, dict)
        assert me["brews"][0]["status"] == "failed" and me["brews"][0]["refunded"] is True
        assert me["balance"] == before
        assert [e["kind"] for e in me["entries"][:2]] == ["refund", "brew"]

    # The machines went away: they are shown offline.
    async with httpx.AsyncClient(base_url=server.url) as phone:

        async def offline() -> bool:
            view = (await phone.get(f"/api/v1/machines/{open_token}")).json()
            return view["machine"]["machine"]["online"] is False

        await until(offline)


async def test_silent_machines_go_offline_and_wrong_secrets_are_refused(
    db: Database, venue: DemoVenue, server_factory: type[Server]
) -> None:
    found = await secrets_for(db)
    server = await asyncio.to_thread(server_factory, {"DATABASE_URL": db.url, **FAST})
    _, token, secret = found["open"]
    async with httpx.AsyncClient(base_url=server.url) as phone:

        async def online() -> bool:
            view = (await phone.get(f"/api/v1/machines/{token}")).json()
            return bool(view["machine"]["machine"]["online"])

        headers = {"Authorization": f"Device {secret}"}
        async with connect(device_url(server.url), additional_headers=headers) as silent:
            welcome = json.loads(await silent.recv())
            assert welcome["type"] == "welcome" and welcome["heartbeat_s"] == 0.3
            await until(online)
            # No heartbeat: after the offline delay the sweeper marks it offline,
            # though its socket is still open.
            await until(lambda: _not(online), timeout=10)

        async with connect(device_url(server.url)) as stranger:
            await stranger.send(json.dumps({"type": "hello", "secret": "cm1_" + "x" * 40}))
            refusal = json.loads(await stranger.recv())
            assert refusal["code"] == "unauthorized"
            with pytest.raises(ConnectionClosed) as closed:
                await stranger.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def _not(check: Callable[[], Awaitable[bool]]) -> bool:
    return not await check()


async def test_across_processes_with_the_simulator_command(
    db: Database, venue: DemoVenue, server_factory: type[Server]
) -> None:
    """A phone on one process, machines (run by `comptoir simulate-machines`) on another:
    the order reaches the machine and its progress comes back through Redis."""
    if not _reachable("127.0.0.1", 6379):
        unavailable("Redis")
    env = {"DATABASE_URL": db.url, "REDIS_URL": REDIS_URL, **FAST}
    front, back = await asyncio.gather(
        asyncio.to_thread(server_factory, env), asyncio.to_thread(server_factory, env)
    )
    simulator = subprocess.Popen(
        [sys.executable, "-m", "comptoir_cli", "simulate-machines", "--url", back.url,
         "--create", "2", "--site", str(venue.site_id), "--speed", "100"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": db.url, "SECRET_KEY": "test-secret"},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:

        async def simulated_online() -> list[str]:
            async with db.sessionmaker() as session:
                rows = await session.scalars(
                    select(Machine.token).where(Machine.model == "Simulator", Machine.online)
                )
                tokens = list(rows)
                return tokens if len(tokens) == 2 else []

        tokens = await until(simulated_online, timeout=20)
        assert isinstance(tokens, list)
        async with httpx.AsyncClient(base_url=front.url) as phone:
            menu = (await phone.get(f"/api/v1/machines/{tokens[0]}")).json()
            assert menu["machine"]["machine"]["online"] is True
            started = await phone.post(
                f"/api/v1/machines/{tokens[0]}/brews",
                json={"product_id": menu["drinks"][0]["id"], "idempotency_key": key()},
            )
            assert started.status_code == 201, started.text

            async def done() -> bool:
                view = (await phone.get(f"/api/v1/machines/{tokens[0]}")).json()
                return view["machine"]["brew"]["status"] == "done"

            await until(done)
    finally:
        simulator.terminate()
        simulator.wait(10)
