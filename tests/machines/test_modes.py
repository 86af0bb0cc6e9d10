"""The five modes, through the services: who may brew, and what it costs them."""

from __future__ import annotations

import pytest

from customers.errors import InsufficientCredit, SignInRequired
from errors import DomainError
from machines import admin_service, selection_service
from machines.commands import AddDrink, GroupSettings
from machines.errors import (
    AccountNotReady,
    MachineBusy,
    MachineInAlert,
    MachineOffline,
    NotAuthorised,
)
from payments.models import ProviderPayment
from tests.machines.conftest import Coffee, given, key


async def test_open_mode_brews_for_anyone_free(coffee: Coffee) -> None:
    machine = await coffee.machine("open")
    drinks = await coffee.drinks(machine)
    assert await coffee.price(drinks["cappuccino"]) > 0  # the selection has prices…
    done = await coffee.brew(machine, drinks["cappuccino"])  # …that open mode ignores
    assert done.brew.status == "requested" and done.brew.charge == "none"
    assert done.brew.consumer_id is None and done.payment is None


async def test_prepaid_charges_assigned_users_from_credit(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    price = await coffee.price(drinks["espresso"])
    zoe = await coffee.consumer(groups=(machine,), credit=500)
    stranger = await coffee.consumer("Tom", credit=500)

    with pytest.raises(SignInRequired):
        await coffee.brew(machine, drinks["espresso"])
    with pytest.raises(NotAuthorised):
        await coffee.brew(machine, drinks["espresso"], stranger)
    assert await coffee.balance(stranger) == 500

    done = await coffee.brew(machine, drinks["espresso"], zoe)
    assert done.brew.charge == "credit" and done.brew.price == price
    assert await coffee.balance(zoe) == 500 - price
    assert await coffee.entries(zoe) == [("manual", 500), ("brew", -price)]


async def test_prepaid_refuses_without_enough_credit_and_charges_nothing(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    poor = await coffee.consumer(groups=(machine,), credit=10)
    with pytest.raises(InsufficientCredit):
        await coffee.brew(machine, drinks["latte"], poor)
    assert await coffee.balance(poor) == 10
    # The refused brew left no trace: the machine is free for the next one.
    free = await coffee.brew(machine, drinks["hot_water"], poor)  # price 0: nothing to pay
    assert free.brew.charge == "none" and await coffee.balance(poor) == 10


async def test_unconfirmed_accounts_wait(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    newcomer = await coffee.consumer(ready=False, groups=(machine,))
    with pytest.raises(AccountNotReady):
        await coffee.brew(machine, drinks["espresso"], newcomer)


async def test_authorised_mode_is_free_for_the_group_only(coffee: Coffee) -> None:
    machine = await coffee.machine("authorised")
    drinks = await coffee.drinks(machine)
    member = await coffee.consumer(groups=(machine,), credit=300)
    outsider = await coffee.consumer("Tom")
    with pytest.raises(NotAuthorised) as refused:
        await coffee.brew(machine, drinks["espresso"], outsider)
    assert "reserved" in refused.value.message
    with pytest.raises(SignInRequired):
        await coffee.brew(machine, drinks["espresso"])
    done = await coffee.brew(machine, drinks["espresso"], member)
    assert done.brew.charge == "none"
    assert await coffee.balance(member) == 300


async def test_payment_mode_waits_for_the_provider(coffee: Coffee) -> None:
    machine = await coffee.machine("payment")
    drinks = await coffee.drinks(machine)
    price = await coffee.price(drinks["lungo"])
    done = await coffee.brew(machine, drinks["lungo"])  # anyone, no account
    assert done.brew.status == "paying" and done.brew.charge == "payment"
    assert isinstance(done.payment, ProviderPayment)
    assert done.payment.amount == price and done.payment.status == "pending"
    # Reserved while paying: nobody else can start a drink meanwhile.
    with pytest.raises(MachineBusy):
        await coffee.brew(machine, drinks["espresso"])


async def test_custom_mode_gives_each_group_its_selection_and_prices(coffee: Coffee) -> None:
    machine = await coffee.machine("custom")
    default = await coffee.drinks(machine)
    barista = await coffee.run(
        lambda tx: admin_service.create_group(tx, coffee.admin, given(GroupSettings,
                                                                      name="Baristas"))
    )
    special = await coffee.run(
        lambda tx: admin_service.default_selection(tx, coffee.company_id, "Jura X8 custom")
    )
    cheap = await coffee.run(
        lambda tx: selection_service.add_drink(
            tx, coffee.admin, special.id,
            given(AddDrink, name="Ristretto maison", type="ristretto", price=30,
                  recipe={"strength": 5, "volume_ml": 20}),
        )
    )
    await coffee.run(
        lambda tx: admin_service.attach_group(tx, coffee.admin, machine.id, barista.id, special.id)
    )
    member = await coffee.consumer(credit=200)
    await coffee.run(lambda tx: admin_service.add_member(tx, coffee.admin, barista.id, member))

    # A member brews from the group's selection, paying its price from credit.
    done = await coffee.brew(machine, cheap.id, member)
    assert (done.brew.price, done.brew.charge, done.brew.group_id) == (30, "credit", barista.id)
    assert await coffee.balance(member) == 170
    await coffee.report(machine, done.brew.id, "done")

    # Someone without an account gets the default selection, paid by card; the group's
    # drink is not on their menu.
    with pytest.raises(DomainError):
        await coffee.brew(machine, cheap.id)
    anonymous = await coffee.brew(machine, default["espresso"])
    assert anonymous.brew.charge == "payment" and anonymous.payment is not None


async def test_busy_offline_or_alert_refuse_and_charge_nothing(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    zoe = await coffee.consumer(groups=(machine,), credit=1000)
    first = await coffee.brew(machine, drinks["espresso"], zoe)
    after_first = await coffee.balance(zoe)

    with pytest.raises(MachineBusy):
        await coffee.brew(machine, drinks["espresso"], zoe)
    await coffee.report(machine, first.brew.id, "done")

    await coffee.alerts(machine, ["milk"])
    with pytest.raises(MachineInAlert):
        await coffee.brew(machine, drinks["cappuccino"], zoe)
    # An alert only stops the drinks that need what is missing.
    second = await coffee.brew(machine, drinks["espresso"], zoe)
    await coffee.report(machine, second.brew.id, "done")
    spent = await coffee.balance(zoe)

    assert after_first - spent == await coffee.price(drinks["espresso"])  # only the 2nd

    offline = await coffee.machine("prepaid", online=False)
    tom = await coffee.consumer("Tom", groups=(offline,), credit=500)
    with pytest.raises(MachineOffline):
        await coffee.brew(offline, (await coffee.drinks(offline))["espresso"], tom)
    assert await coffee.balance(tom) == 500


async def test_a_retried_brew_charges_once(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    zoe = await coffee.consumer(groups=(machine,), credit=500)
    same = key()
    first = await coffee.brew(machine, drinks["espresso"], zoe, same)
    again = await coffee.brew(machine, drinks["espresso"], zoe, same)
    assert again.duplicate and again.brew.id == first.brew.id
    assert await coffee.balance(zoe) == 500 - first.brew.price
    assert await coffee.ledger_sum(zoe) == await coffee.balance(zoe)
