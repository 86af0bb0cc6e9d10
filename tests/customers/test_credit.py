"""Money stays exact under concurrency: never below zero, one charge per key, and the
ledger always sums to the balance. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from customers import credit
from customers.errors import InsufficientCredit
from customers.ledger import Kind
from machines.errors import MachineBusy
from tests.machines.conftest import Coffee, key


async def test_concurrent_debits_never_overdraw(coffee: Coffee) -> None:
    zoe = await coffee.consumer(credit=1000)

    async def debit(name: str) -> object:
        return await coffee.run(lambda tx: credit.post(tx, zoe, -100, Kind.BREW, name))

    keys = [f"debit:{key()}" for _ in range(20)]
    results = await asyncio.gather(*(debit(k) for k in keys), return_exceptions=True)
    refused = [r for r in results if isinstance(r, InsufficientCredit)]
    assert len(refused) == 10, results
    assert all(isinstance(r, credit.Posted | InsufficientCredit) for r in results), results
    assert await coffee.balance(zoe) == 0
    assert await coffee.ledger_sum(zoe) == 0


async def test_one_key_is_one_charge_however_often_it_is_posted(coffee: Coffee) -> None:
    zoe = await coffee.consumer(credit=1000)
    same = f"brew:{key()}"
    results = await asyncio.gather(
        *(coffee.run(lambda tx: credit.post(tx, zoe, -250, Kind.BREW, same)) for _ in range(8))
    )
    assert len({r.entry.id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    assert await coffee.balance(zoe) == 750 == await coffee.ledger_sum(zoe)


async def test_concurrent_brews_on_one_balance(coffee: Coffee) -> None:
    machines = [await coffee.machine("prepaid") for _ in range(6)]
    menus = [await coffee.drinks(m) for m in machines]
    price = await coffee.price(menus[0]["espresso"])
    zoe = await coffee.consumer(groups=tuple(machines), credit=3 * price)

    results = await asyncio.gather(
        *(coffee.brew(m, menu["espresso"], zoe) for m, menu in zip(machines, menus, strict=True)),
        return_exceptions=True,
    )
    brewed = [r for r in results if not isinstance(r, BaseException)]
    assert len(brewed) == 3, results
    assert all(isinstance(r, InsufficientCredit) for r in results if r not in brewed)
    assert await coffee.balance(zoe) == 0
    assert await coffee.ledger_sum(zoe) == 0
    assert sorted(kind for kind, _ in await coffee.entries(zoe)) == ["brew"] * 3 + ["manual"]


async def test_many_phones_one_machine_one_brew(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    price = await coffee.price(drinks["espresso"])
    zoe = await coffee.consumer(groups=(machine,), credit=10 * price)
    same = key()
    retries = [coffee.brew(machine, drinks["espresso"], zoe, same) for _ in range(4)]
    others = [coffee.brew(machine, drinks["espresso"], zoe) for _ in range(4)]
    results = await asyncio.gather(*retries, *others, return_exceptions=True)
    brews = {r.brew.id for r in results if not isinstance(r, BaseException)}
    assert len(brews) == 1, results  # the machine makes one drink at a time
    assert all(isinstance(r, MachineBusy) for r in results if isinstance(r, BaseException))
    assert await coffee.balance(zoe) == 9 * price == await coffee.ledger_sum(zoe)
