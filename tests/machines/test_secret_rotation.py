"""A machine's new secret closes every socket opened with the old one, on every process
(code 4401, docs/machines.md 1.1), and the old secret opens nothing more: a stolen or
leaked secret stops working the moment staff replace it."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx
import pytest

from demo.seed import DemoVenue
from tests.conftest import REDIS_URL, Database, Server, _reachable, unavailable
from tests.machines.conftest import key
from tests.machines.partner_device import PartnerDevice, Refused
from tests.machines.test_device import secrets_for

ADMIN = {"email": "admin@cafe-de-la-gare.fr", "password": "admin-demo"}
QUIET = {"MACHINE_OFFLINE_AFTER_S": "600", "MACHINE_SWEEP_S": "600"}


async def test_a_new_secret_closes_the_old_ones_sockets_on_every_process(
    db: Database, venue: DemoVenue, server_factory: type[Server]
) -> None:
    redis = urlsplit(REDIS_URL)
    if not _reachable(redis.hostname or "127.0.0.1", redis.port or 6379):
        unavailable("Redis")
    env = {"DATABASE_URL": db.url, "REDIS_URL": REDIS_URL, **QUIET}
    front = await asyncio.to_thread(server_factory, env)
    back = await asyncio.to_thread(server_factory, env)
    machine_id, token, old = (await secrets_for(db))["open"]

    async with (
        PartnerDevice(front.url, old) as here,
        PartnerDevice(back.url, old, hello=True) as there,
        httpx.AsyncClient(base_url=front.url) as staff,
    ):
        signed = await staff.post("/api/v1/staff/login", json=ADMIN)
        assert signed.status_code == 200, signed.text
        rotated = await staff.post(f"/api/v1/staff/machines/{machine_id}/secret",
                                   headers={"x-csrf-token": signed.json()["csrf_token"]})
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        for device in (here, there):
            code, reason = await device.closed()
            assert code == 4401, (code, reason)
            assert device.seen[-1]["type"] == "error"
            assert device.seen[-1]["code"] == "unauthorized"

    for server in (front, back):
        with pytest.raises(Refused) as refused:
            async with PartnerDevice(server.url, old):
                pass
        assert refused.value.code == 4401

    # The new secret works, wherever the machine connects and whoever takes the order.
    async with (
        PartnerDevice(back.url, new) as device,
        httpx.AsyncClient(base_url=front.url) as phone,
    ):
        await device.heartbeat([])
        menu = (await phone.get(f"/api/v1/machines/{token}")).json()
        started = await phone.post(
            f"/api/v1/machines/{token}/brews",
            json={"product_id": menu["drinks"][0]["id"], "idempotency_key": key()},
        )
        assert started.status_code == 201, started.text
        command = await device.next("brew")
        assert command["brew_id"] == started.json()["brew"]["id"]
        assert (await device.answer({"type": "brew", "brew_id": command["brew_id"],
                                     "status": "done"}))["type"] == "pong"
