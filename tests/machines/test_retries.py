"""A phone that retries a brew with its idempotency key, however many times and however
close together, gets the one brew it asked for: never `machine_busy` because of its own
brew, one brew row, one charge."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from customers.models import Consumer
from machines import brew_service
from machines.models import Brew
from tests.conftest import Database, Server
from tests.machines.conftest import PASSWORD, Coffee, key

RETRIES = 100
QUIET = {"MACHINE_OFFLINE_AFTER_S": "600", "MACHINE_SWEEP_S": "600"}


async def test_concurrent_retries_over_two_processes_all_get_the_brew_and_pay_once(
    coffee: Coffee, db: Database, server_factory: type[Server]
) -> None:
    env = {"DATABASE_URL": db.url, **QUIET}
    servers = [await asyncio.to_thread(server_factory, env) for _ in range(2)]
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    zoe = await coffee.consumer(groups=(machine,), credit=1000)
    price = await coffee.price(drinks["espresso"])
    async with db.sessionmaker() as session:
        email = await session.scalar(select(Consumer.email).where(Consumer.id == zoe))
    same = key()
    async with httpx.AsyncClient(base_url=servers[0].url) as first:
        signed = await first.post("/api/v1/consumers/login",
                                  json={"machine": machine.token, "email": email,
                                        "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        phones = [first, httpx.AsyncClient(base_url=servers[1].url, cookies=first.cookies)]
        async with phones[1]:
            answers = await asyncio.gather(*(
                phones[n % 2].post(
                    f"/api/v1/machines/{machine.token}/brews",
                    json={"product_id": drinks["espresso"], "idempotency_key": same},
                    timeout=30,
                )
                for n in range(RETRIES)
            ))

    refused = [(a.status_code, a.text) for a in answers if a.status_code not in (200, 201)]
    assert refused == []
    assert sorted(a.status_code for a in answers) == [200] * (RETRIES - 1) + [201]
    assert {a.json()["brew"]["id"] for a in answers} == {answers[0].json()["brew"]["id"]}
    async with db.sessionmaker() as session:
        brews = await session.scalar(
            select(func.count()).select_from(Brew).where(Brew.machine_id == machine.id)
        )
    assert brews == 1
    assert await coffee.entries(zoe) == [("manual", 1000), ("brew", -price)]
    assert await coffee.balance(zoe) == 1000 - price


async def test_a_retry_that_read_before_the_first_brew_committed_still_gets_it(
    coffee: Coffee, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race above, made certain: the retry looks its key up and finds nothing, the first
    request commits, then the retry finds the machine busy with its own brew. SQLite runs
    one writer at a time (BEGIN IMMEDIATE), so only PostgreSQL can interleave them."""
    if db.backend == "sqlite":
        pytest.skip("SQLite serialises the two transactions: no interleaving to test")
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    zoe = await coffee.consumer(groups=(machine,), credit=1000)
    same = key()
    looked_up, first_committed = asyncio.Event(), asyncio.Event()
    real_offer = brew_service.offer

    async def offer_after_the_first_commit(*args: Any) -> brew_service.Offer:
        if not looked_up.is_set():  # the retry, between its key lookup and its checks
            looked_up.set()
            await first_committed.wait()
        return await real_offer(*args)

    monkeypatch.setattr(brew_service, "offer", offer_after_the_first_commit)
    retry = asyncio.create_task(coffee.brew(machine, drinks["espresso"], zoe, same))
    await looked_up.wait()
    first = await coffee.brew(machine, drinks["espresso"], zoe, same)
    first_committed.set()
    again = await retry
    assert not first.duplicate
    assert again.duplicate and again.brew.id == first.brew.id
    assert await coffee.balance(zoe) == 1000 - first.brew.price
