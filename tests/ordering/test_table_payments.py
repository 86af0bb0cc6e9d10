"""Paying from the phone: "order and pay" rounds and "pay only" bills, on both databases.

The provider is played by hand: its side of a payment is attached as the API does after
commit, and its verdict arrives through machines' `settle`, as the test provider's page and
Stripe's webhook deliver it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from domain.events import PaidPart, TableSettled
from domain.models import OutboxEvent
from errors import DomainError
from ordering import diner_service, payment_service, staff_service
from ordering.errors import MenuOnly, NotSettleable, SessionEnded
from ordering.models import DiningTable, OrderLine, Round, TableSession
from ordering.table_payment import (
    BadPaymentAmount,
    NoPhoneOrders,
    NothingToPay,
    PaidRound,
    PaymentPending,
    PayToSend,
)
from payments import service as provider_payments
from payments.models import ProviderPayment
from tests.ordering.conftest import Cafe, Table, assert_versions_consecutive, topics

pytestmark = pytest.mark.asyncio


async def set_mode(cafe: Cafe, table: Table, mode: str) -> None:
    async with cafe.db.sessionmaker() as session, session.begin():
        await session.execute(
            update(DiningTable).where(DiningTable.id == table.id).values(mode=mode)
        )


async def send(cafe: Cafe, table: Table, device: str, key: str) -> payment_service.Started:
    started = await cafe.run(
        lambda tx: payment_service.send_and_pay(tx, cafe.config, table.token, device, key, "test")
    )
    if started.payment is not None and started.payment.provider_ref is None:
        await attach(cafe, started.payment)
    return started


async def pay(
    cafe: Cafe, table: Table, device: str, key: str, amount: object = None
) -> payment_service.Started:
    started = await cafe.run(
        lambda tx: payment_service.pay_bill(
            tx, cafe.config, table.token, device, amount, key, "test"
        )
    )
    if started.payment is not None and started.payment.provider_ref is None:
        await attach(cafe, started.payment)
    return started


async def attach(cafe: Cafe, payment: ProviderPayment) -> None:
    ref = f"test_ref_{payment.id}"
    await cafe.run(lambda tx: payment_service.attach(tx, payment.id, ref, f"/pay/test/{ref}"))
    payment.provider_ref = ref


async def verdict(cafe: Cafe, payment: ProviderPayment | None, succeeded: bool) -> str:
    assert payment is not None and payment.provider_ref is not None
    ref = payment.provider_ref
    settled = await cafe.run(
        lambda tx: provider_payments.settle(tx, ref, succeeded, datetime.now(UTC))
    )
    return settled.status


async def payments(cafe: Cafe) -> list[tuple[str, str, int]]:
    async with cafe.db.sessionmaker() as session:
        rows = await session.execute(
            select(
                ProviderPayment.purpose, ProviderPayment.status, ProviderPayment.amount
            ).order_by(ProviderPayment.id)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


def cart_of(view: dict[str, Any]) -> list[tuple[str, str, int]]:
    return sorted((ln["client_id"], ln["name"], ln["quantity"]) for ln in view["session"]["cart"])


async def order_and_pay_table(cafe: Cafe) -> Table:
    table = cafe.tables[0]
    await set_mode(cafe, table, "order_and_pay")
    await cafe.party(table, "Lea", "Tom")
    await cafe.add(table, "device-lea", "Espresso", 2, client_id="lea-espresso")
    await cafe.add(table, "device-tom", "Croissant", 1, client_id="tom-croissant")
    return table


def price(cafe: Cafe, name: str) -> int:
    return cafe.products[name].price


async def test_paid_round_goes_to_the_pos_only_once_paid(cafe: Cafe) -> None:
    table = await order_and_pay_table(cafe)
    total = 2 * price(cafe, "Espresso") + price(cafe, "Croissant")
    started = await send(cafe, table, "device-lea", "send-key-1")
    assert started.payment is not None and started.payment.amount == total
    assert started.payment.status == "pending"
    assert (f"site:{cafe.venue.site_id}:pos", "payment.started") in topics(cafe.events)

    view = await cafe.view(table)
    assert view["session"]["cart"] == []  # the lines left with the round being paid
    assert view["session"]["payment"]["amount"] == total
    assert [r["status"] for r in view["session"]["rounds"]] == ["awaiting_payment"]
    assert view["session"]["due"] == 0 and view["table"]["state"] == "ordering"
    pos = await cafe.pos()
    assert pos["queue"] == []  # staff see nothing to validate before it is paid
    assert [t["payment"]["amount"] for t in pos["tables"] if t["payment"]] == [total]

    assert await verdict(cafe, started.payment, True) == "succeeded"
    assert (f"site:{cafe.venue.site_id}:pos", "round.paid") in topics(cafe.last_events)
    pos = await cafe.pos()
    assert [(r["table_id"], r["total"], r["status"]) for r in pos["queue"]] == [
        (table.id, total, "to_validate")
    ]
    view = await cafe.view(table)
    assert view["session"]["payment"] is None
    assert (view["session"]["ordered"], view["session"]["paid"], view["session"]["due"]) == (
        total,
        total,
        0,
    )
    # A replayed verdict changes nothing.
    assert await verdict(cafe, started.payment, True) == "succeeded"
    assert await payments(cafe) == [("round", "succeeded", total)]
    assert await cafe.count(select(func.count()).select_from(Round)) == 1
    await assert_versions_consecutive(cafe)


async def test_failed_or_cancelled_payment_puts_the_cart_back(cafe: Cafe) -> None:
    table = await order_and_pay_table(cafe)
    before = cart_of(await cafe.view(table))
    started = await send(cafe, table, "device-lea", "send-key-1")
    await cafe.add(table, "device-tom", "Espresso", 1, client_id="tom-later")
    assert await verdict(cafe, started.payment, False) == "failed"
    view = await cafe.view(table)
    assert cart_of(view) == sorted([*before, ("tom-later", "Espresso", 1)])
    assert view["session"]["rounds"] == [] and view["session"]["payment"] is None
    assert (await cafe.pos())["queue"] == []
    assert await verdict(cafe, started.payment, True) == "failed"  # too late, and once

    # A new attempt (new key) takes the whole cart; the round keeps number 1.
    again = await send(cafe, table, "device-tom", "send-key-2")
    rounds = (await cafe.view(table))["session"]["rounds"]
    assert [r["number"] for r in rounds] == [1]
    assert again.payment is not None
    cancelled = await cafe.run(
        lambda tx: payment_service.cancel(
            tx,
            cafe.config,
            table.token,
            "device-lea",
            again.payment.id,  # type: ignore[union-attr]
        )
    )
    assert cancelled.status == "canceled"
    assert len(cart_of(await cafe.view(table))) == 3
    # Paid after all, once cancelled: the money goes back rather than the round to staff.
    await verdict(cafe, again.payment, True)
    assert [s for _, s, _ in await payments(cafe)] == ["failed", "refund_due"]
    assert (await cafe.pos())["queue"] == []
    async with cafe.db.sessionmaker() as session:
        assert (await session.get(TableSession, again.payment.table_session_id)).round_count == 0
    await assert_versions_consecutive(cafe)


async def test_abandoned_payment_stops_blocking_the_table(cafe: Cafe) -> None:
    table = await order_and_pay_table(cafe)
    first = await send(cafe, table, "device-lea", "send-key-1")
    with pytest.raises(PaymentPending):
        await send(cafe, table, "device-tom", "send-key-2")
    async with cafe.db.sessionmaker() as session, session.begin():
        await session.execute(
            update(ProviderPayment).values(created_at=datetime.now(UTC) - timedelta(hours=1))
        )
    await cafe.add(table, "device-tom", "Espresso", 1, client_id="tom-later")
    second = await send(cafe, table, "device-tom", "send-key-2")
    assert second.payment is not None and first.payment is not None
    assert second.payment.amount == first.payment.amount + price(cafe, "Espresso")
    assert [s for _, s, _ in await payments(cafe)] == ["canceled", "pending"]


async def test_ten_phones_sending_at_once_make_one_payment(cafe: Cafe) -> None:
    table = await order_and_pay_table(cafe)
    for n in range(8):
        await cafe.join(
            table, f"device-{n}", f"Guest{n}", (await cafe.view(table))["session"]["pin"]
        )
    devices = ["device-lea", "device-tom", *[f"device-{n}" for n in range(8)]]
    outcomes = await asyncio.gather(
        *[send(cafe, table, device, f"send-key-{n:02d}") for n, device in enumerate(devices)],
        return_exceptions=True,
    )
    made = [o for o in outcomes if isinstance(o, payment_service.Started)]
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(made) == 1 and len(refused) == 9, outcomes
    assert all(e.code in ("payment_pending", "empty_cart") for e in refused)
    assert len(await payments(cafe)) == 1
    assert await cafe.count(select(func.count()).select_from(Round)) == 1
    # The same key again (a retry) returns the same payment.
    key = f"send-key-{outcomes.index(made[0]):02d}"
    retry = await send(cafe, table, "device-lea", key)
    assert retry.duplicate and retry.payment is not None
    assert retry.payment.id == made[0].payment.id  # type: ignore[union-attr]


async def test_refusing_a_paid_round_refunds_it_once(cafe: Cafe) -> None:
    from payments.runtime import refund_due

    table = await order_and_pay_table(cafe)
    started = await send(cafe, table, "device-lea", "send-key-1")
    await verdict(cafe, started.payment, True)
    cashier = await cafe.staff("cashier")
    round_id = started.round.id  # type: ignore[union-attr]
    with pytest.raises(PaidRound):
        await cafe.run(
            lambda tx: staff_service.edit(tx, cafe.config, cashier, round_id, 1, "moins", [], [])
        )
    for _ in range(2):
        await cafe.run(
            lambda tx: staff_service.refuse(
                tx, cafe.config, cashier, round_id, "Plus de croissants"
            )
        )
    assert [s for _, s, _ in await payments(cafe)] == ["refund_due"]

    refunds: list[tuple[str, str]] = []

    class Recording:
        name = "test"

        async def refund(self, ref: str, idempotency_key: str) -> None:
            refunds.append((ref, idempotency_key))

    class Runtime:
        provider = Recording()

        async def provider_for(self, session: Any, company_id: int) -> Recording:
            return self.provider

    for _ in range(2):
        await refund_due(cafe.db.sessionmaker, cafe.bus, Runtime())  # type: ignore[arg-type]
    assert refunds == [(started.payment.provider_ref, f"refund:{started.payment.id}")]  # type: ignore[union-attr]
    assert [s for _, s, _ in await payments(cafe)] == ["refunded"]
    view = await cafe.view(table)
    assert (view["session"]["ordered"], view["session"]["paid"]) == (0, 0)


async def test_order_and_pay_rules(cafe: Cafe) -> None:
    table = await order_and_pay_table(cafe)
    with pytest.raises(PayToSend):
        await cafe.submit(table, "device-lea", "plain-submit")
    assert len(cart_of(await cafe.view(table))) == 2
    with pytest.raises(DomainError) as stranger:
        await send(cafe, table, "device-nobody", "send-key-9")
    assert stranger.value.code == "pin_required"
    assert await payments(cafe) == [] and len(cart_of(await cafe.view(table))) == 2

    started = await send(cafe, table, "device-lea", "send-key-1")
    cashier = await cafe.staff("cashier")
    with pytest.raises(NotSettleable):  # a phone is paying: no cash settlement meanwhile
        await cafe.run(
            lambda tx: staff_service.settle(
                tx, cafe.config, cashier, table.id, "cash", None, "settle-key-1"
            )
        )
    await verdict(cafe, started.payment, True)
    with pytest.raises(NothingToPay):
        await pay(cafe, table, "device-tom", "bill-key-1")
    await cafe.validate(cashier, started.round.id)  # type: ignore[union-attr]
    # Fully paid online: settled without cash changing hands.
    settled = await cafe.run(
        lambda tx: staff_service.settle(
            tx, cafe.config, cashier, table.id, "cash", None, "settle-key-1"
        )
    )
    assert (settled.amount, settled.change_given) == (0, 0)
    assert (await cafe.view(table))["table"]["state"] == "settled"
    # The bill's parts as the statistics hear them: all of it paid from phones.
    async with cafe.db.sessionmaker() as session:
        payload = await session.scalar(select(OutboxEvent.payload).where(
            OutboxEvent.name == TableSettled.name))
    told = TableSettled.model_validate_json(str(payload))
    assert told.payments == [PaidPart(method="online", amount=told.amount)] and told.amount > 0


async def pay_only_table(cafe: Cafe) -> tuple[Table, int]:
    """A table whose orders were sent and validated, then switched to "pay only"."""
    table = cafe.tables[1]
    await cafe.party(table, "Lea", "Tom")
    await cafe.add(table, "device-lea", "Espresso", 2)
    await cafe.add(table, "device-tom", "Croissant", 1)
    sent = await cafe.submit(table, "device-lea", "round-key-1")
    await cafe.validate(await cafe.staff("cashier"), sent.round.id)
    await set_mode(cafe, table, "pay_only")
    return table, 2 * price(cafe, "Espresso") + price(cafe, "Croissant")


async def test_pay_only_partial_then_the_rest_settles_the_table(cafe: Cafe) -> None:
    table, total = await pay_only_table(cafe)
    view = await cafe.view(table)
    assert (view["session"]["ordered"], view["session"]["paid"], view["session"]["due"]) == (
        total,
        0,
        total,
    )
    with pytest.raises(NoPhoneOrders):
        await cafe.add(table, "device-lea", "Espresso", 1)
    for wrong in (0, -5, total + 1):
        with pytest.raises(BadPaymentAmount):
            await pay(cafe, table, "device-tom", "bill-key-bad", wrong)
    assert await payments(cafe) == []

    part = await pay(cafe, table, "device-tom", "bill-key-1", 300)
    with pytest.raises(PaymentPending):
        await pay(cafe, table, "device-lea", "bill-key-2")
    await verdict(cafe, part.payment, True)
    view = await cafe.view(table)
    assert (view["session"]["paid"], view["session"]["due"], view["session"]["status"]) == (
        300,
        total - 300,
        "open",
    )
    rest = await pay(cafe, table, "device-lea", "bill-key-2")
    assert rest.payment is not None and rest.payment.amount == total - 300
    await verdict(cafe, rest.payment, True)
    assert (f"table:{table.id}", "session.settled") in topics(cafe.last_events)
    view = await cafe.view(table)
    assert (view["session"]["status"], view["session"]["due"]) == ("settled", 0)
    with pytest.raises(DomainError):  # settled: nothing more can be paid
        await pay(cafe, table, "device-lea", "bill-key-3")
    assert [a for _, _, a in await payments(cafe)] == [300, total - 300]
    await assert_versions_consecutive(cafe)


async def test_pay_only_concurrent_payers_cannot_overpay(cafe: Cafe) -> None:
    table, total = await pay_only_table(cafe)
    outcomes = await asyncio.gather(
        *[pay(cafe, table, d, f"bill-key-{d}") for d in ("device-lea", "device-tom") * 3],
        return_exceptions=True,
    )
    made = [o for o in outcomes if isinstance(o, payment_service.Started) and not o.duplicate]
    assert len(made) == 1, outcomes
    assert all(isinstance(o, (payment_service.Started, PaymentPending)) for o in outcomes)
    await verdict(cafe, made[0].payment, True)
    with pytest.raises(SessionEnded):  # fully paid, so settled
        await pay(cafe, table, "device-tom", "bill-key-late")
    assert sum(a for _, s, a in await payments(cafe) if s == "succeeded") == total


async def test_a_success_racing_a_new_payment_never_pays_twice(cafe: Cafe) -> None:
    table, total = await pay_only_table(cafe)
    first = await pay(cafe, table, "device-tom", "bill-key-1")
    await asyncio.gather(
        verdict(cafe, first.payment, True),
        pay(cafe, table, "device-lea", "bill-key-2"),
        return_exceptions=True,
    )
    paid_or_pending = sum(a for _, s, a in await payments(cafe) if s in ("succeeded", "pending"))
    assert paid_or_pending == total


async def test_pay_only_table_is_opened_by_staff_not_phones(cafe: Cafe) -> None:
    table = cafe.tables[2]
    await set_mode(cafe, table, "pay_only")
    with pytest.raises(MenuOnly):
        await cafe.start(table, "device-lea", "Lea")
    found = await cafe.access(table, "device-lea")
    assert found.access.value == "menu_only"
    assert await cafe.count(select(func.count()).select_from(OrderLine)) == 0


async def test_phone_payments_need_a_paying_mode(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Lea")
    await cafe.add(table, "device-lea", "Espresso", 1)
    with pytest.raises(DomainError) as refused:
        await send(cafe, table, "device-lea", "send-key-1")
    assert refused.value.code == "no_phone_payments"
    with pytest.raises(DomainError) as no_provider:
        await set_mode(cafe, table, "order_and_pay")
        await cafe.run(
            lambda tx: payment_service.send_and_pay(
                tx, cafe.config, table.token, "device-lea", "send-key-2", "none"
            )
        )
    assert no_provider.value.code == "payments_unavailable"
    assert await payments(cafe) == []
    assert isinstance(await cafe.access(table, "device-lea"), diner_service.TableAccess)
