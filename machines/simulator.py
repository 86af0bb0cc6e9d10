"""Simulated coffee machines: they speak the device protocol (docs/machines.md) against a
real server, brew with realistic durations per drink, and fail or raise alerts at random
or on demand. The demo, the tests and the benchmarks use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from machines import recipes

log = logging.getLogger(__name__)

RANDOM_ALERTS = ("water", "grounds", "beans", "milk", "descaling")


@dataclass
class Behaviour:
    speed: float = 1.0  # 10 makes every brew ten times faster than life
    fail_rate: float = 0.0  # chance that a brew fails midway
    alert_rate: float = 0.0  # chance that a brew leaves an alert behind
    steps: int = 5  # progress reports while brewing
    heartbeat_s: float | None = None  # None: as the server's welcome says


def device_url(server_url: str) -> str:
    base = server_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://"):] + "/ws/device"
    return "ws://" + base.removeprefix("http://") + "/ws/device"


@dataclass
class SimulatedMachine:
    server_url: str
    secret: str
    behaviour: Behaviour = field(default_factory=Behaviour)
    rng: random.Random = field(default_factory=random.Random)
    alerts: set[str] = field(default_factory=set)
    name: str = ""
    brewed: int = 0
    failed: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    _fail_next: str | None = None
    _socket: ClientConnection | None = None

    # On demand (from the CLI's prompt or a test).

    async def set_alerts(self, alerts: set[str]) -> None:
        self.alerts = {a for a in alerts if a in recipes.ALERTS}
        await self._send({"type": "alerts", "alerts": sorted(self.alerts)})

    def fail_next(self, reason: str = "simulated_failure") -> None:
        self._fail_next = reason

    # The machine's life.

    async def run(self) -> None:
        """Stay connected, reconnecting with backoff, until cancelled."""
        backoff = 0.2
        while True:
            try:
                async with connect(
                    device_url(self.server_url),
                    additional_headers={"Authorization": f"Device {self.secret}"},
                    open_timeout=10,
                ) as socket:
                    backoff = 0.2
                    await self._session(socket)
            except (OSError, ConnectionClosed, InvalidStatus, TimeoutError) as error:
                log.info("machine %s disconnected: %s", self.name or "?", error)
            finally:
                self._socket = None
                self.connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _session(self, socket: ClientConnection) -> None:
        welcome = json.loads(await socket.recv())
        if welcome.get("type") != "welcome":
            log.warning("machine refused: %s", welcome.get("message"))
            return
        self.name = welcome["machine"]["name"]
        self._socket = socket
        interval = self.behaviour.heartbeat_s or float(welcome.get("heartbeat_s", 10))
        await self._send({"type": "heartbeat", "alerts": sorted(self.alerts)})
        self.connected.set()
        brewing: asyncio.Task[None] | None = None
        async with asyncio.TaskGroup() as group:
            beat = group.create_task(self._heartbeat(interval))
            try:
                async for raw in socket:
                    message = json.loads(raw)
                    if message.get("type") == "brew" and (brewing is None or brewing.done()):
                        brewing = group.create_task(self._brew(message))
                    elif message.get("type") == "error":
                        log.warning("machine %s: %s", self.name, message.get("message"))
            finally:
                beat.cancel()
                if brewing is not None:
                    brewing.cancel()

    async def _heartbeat(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._send({"type": "heartbeat"})

    async def _send(self, message: dict[str, Any]) -> None:
        if self._socket is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._socket.send(json.dumps(message))

    async def _report(self, brew_id: int, status: str, **extra: Any) -> None:
        await self._send({"type": "brew", "brew_id": brew_id, "status": status, **extra})

    async def _brew(self, command: dict[str, Any]) -> None:
        brew_id = command["brew_id"]
        kind = recipes.drink(command["product"]["type"])
        blocked = recipes.blocking(command["product"]["type"], sorted(self.alerts))
        if blocked:
            await self._report(brew_id, "failed", reason=f"alert:{blocked[0]}")
            self.failed += 1
            return
        total = kind.seconds / max(self.behaviour.speed, 0.001)
        await self._report(brew_id, "accepted")
        if kind.grinds:
            await self._report(brew_id, "grinding")
            await asyncio.sleep(total * 0.2)
        fail_at = None
        if self._fail_next is not None or self.rng.random() < self.behaviour.fail_rate:
            fail_at = self.rng.randint(1, self.behaviour.steps)
        reason, self._fail_next = self._fail_next or "simulated_failure", None
        for step in range(1, self.behaviour.steps + 1):
            await asyncio.sleep(total * 0.8 / self.behaviour.steps)
            if step == fail_at:
                await self._report(brew_id, "failed", reason=reason)
                self.failed += 1
                return
            if step < self.behaviour.steps:
                await self._report(brew_id, "brewing", progress=100 * step // self.behaviour.steps)
        await self._report(brew_id, "done")
        self.brewed += 1
        if self.rng.random() < self.behaviour.alert_rate:
            await self.set_alerts(self.alerts | {self.rng.choice(RANDOM_ALERTS)})


async def run_many(machines: list[SimulatedMachine]) -> None:
    async with asyncio.TaskGroup() as group:
        for machine in machines:
            group.create_task(machine.run())
