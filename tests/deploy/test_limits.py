"""The limits on guessing hold across app processes: one phone sending forty wrong PINs at
once, half to each of two `comptoir serve` processes on one database, gets five checks.
Runs on SQLite (two processes on one file) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from demo.seed import DemoVenue
from tests.conftest import Database, Server

BURST = 40


async def test_forty_wrong_pins_from_one_phone_over_two_processes_get_five_checks(
    db: Database, venue: DemoVenue, server_factory: type[Server]
) -> None:
    env = {"DATABASE_URL": db.url, "REDIS_URL": ""}
    one, two = server_factory(env), server_factory(env)
    token = venue.table_tokens[0][1]
    join = f"/api/v1/tables/{token}/join"
    async with httpx.AsyncClient(base_url=one.url, timeout=30) as lea:
        started = await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        assert started.status_code == 201, started.text
        pin = started.json()["pin"]
    wrong = "000000" if pin != "000000" else "111111"
    async with httpx.AsyncClient(base_url=one.url, timeout=30) as eve_one:
        await eve_one.get(f"/api/v1/tables/{token}")  # Eve's phone: its signed cookie
        cookie = {"comptoir": eve_one.cookies["comptoir"]}
        async with httpx.AsyncClient(base_url=two.url, cookies=cookie, timeout=30) as eve_two:
            burst = await asyncio.gather(*(
                (eve_one, eve_two)[n % 2].post(join, json={"name": "Eve", "pin": wrong})
                for n in range(BURST)
            ))
    seen = Counter((r.status_code, r.json()["error"]["code"]) for r in burst)
    assert seen == {(403, "wrong_pin"): 5, (429, "pin_locked"): BURST - 5}
    assert all(int(r.headers["retry-after"]) > 0 for r in burst if r.status_code == 429)
