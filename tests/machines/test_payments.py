"""Pay-per-drink through the test provider: the drink goes to the machine once paid; a
declined, late or abandoned payment never leaves anyone charged for nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update
from starlette.applications import Starlette

from demo.seed import DemoVenue
from machines import device_service
from machines.device_service import Timeouts
from machines.models import Brew, Machine
from payments import service as payment_service
from payments.commands import Topup
from payments.models import ProviderPayment
from payments.runtime import refund_due
from tests.conftest import Database, client_for
from tests.machines.conftest import Coffee, given, key, now


async def _payment_machine(db: Database, venue: DemoVenue) -> str:
    token = venue.machines[0].token
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(Machine).where(Machine.token == token)
            .values(mode="payment", online=True, last_seen_at=datetime.now(UTC))
        )
    return token


async def _order(phone: httpx.AsyncClient, token: str, kind: str) -> dict[str, str]:
    menu = (await phone.get(f"/api/v1/machines/{token}")).json()
    drink = next(d for d in menu["drinks"] if d["type"] == kind)
    assert drink["charge"] == "payment"
    started = await phone.post(
        f"/api/v1/machines/{token}/brews",
        json={"product_id": drink["id"], "idempotency_key": key()},
    )
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["brew"]["status"] == "paying"
    return {"brew": body["brew"]["id"], "ref": body["payment"]["checkout_url"].split("/")[3]
            .split("?")[0], "url": body["payment"]["checkout_url"]}


async def _brew(db: Database, brew_id: object) -> Brew:
    async with db.sessionmaker() as session:
        brew = await session.get(Brew, brew_id)
        assert brew is not None
        return brew


async def test_paid_then_brewed_declined_then_freed(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    token = await _payment_machine(db, venue)
    async with client_for(app) as phone:
        order = await _order(phone, token, "espresso")
        assert order["url"].endswith(f"?back=/m/{token}")
        page = await phone.get(order["url"])
        assert page.status_code == 200 and 'data-outcome="succeed"' in page.text
        paid = await phone.post(f"/api/v1/payments/test/{order['ref']}",
                                json={"outcome": "succeed", "back": f"/m/{token}"})
        assert paid.json() == {"status": "succeeded", "redirect": f"/m/{token}"}
        assert (await _brew(db, order["brew"])).status == "requested"  # sent to the machine

        async with db.sessionmaker() as session, session.begin():
            await session.execute(
                update(Brew).where(Brew.id == order["brew"]).values(
                    status="done", finished_at=datetime.now(UTC))
            )
        declined = await _order(phone, token, "lungo")
        await phone.post(f"/api/v1/payments/test/{declined['ref']}", json={"outcome": "fail"})
        brew = await _brew(db, declined["brew"])
        assert (brew.status, brew.reason, brew.refunded) == ("failed", "payment_failed", False)
        # The machine is free again for the next person.
        await _order(phone, token, "espresso")


async def test_money_for_a_drink_that_was_not_made_goes_back(coffee: Coffee) -> None:
    machine = await coffee.machine("payment")
    drinks = await coffee.drinks(machine)
    waiting = await coffee.brew(machine, drinks["espresso"])
    assert waiting.payment is not None
    await coffee.run(lambda tx: payment_service.attach(tx, waiting.payment.id, "test_late"))

    # Nobody pays within the payment window: the brew gives up, the machine is free.
    late = now() + timedelta(minutes=10)
    await coffee.run(lambda tx: device_service.sweep(tx, Timeouts(payment_s=300), late))
    # Then the provider says the payment went through after all: it must be refunded.
    await coffee.run(lambda tx: payment_service.settle(tx, "test_late", True, late))
    async with coffee.db.sessionmaker() as session:
        payment = await session.scalar(
            select(ProviderPayment).where(ProviderPayment.provider_ref == "test_late")
        )
        assert payment is not None and payment.status == "refund_due"

    refunded: list[str] = []

    class Provider:
        name = "test"

        async def refund(self, ref: str, idempotency_key: str) -> None:
            refunded.append(ref)

    class Runtime:
        async def provider_for(self, session: object, company_id: int) -> Provider:
            return Provider()

    await refund_due(coffee.db.sessionmaker, coffee.bus, Runtime())  # type: ignore[arg-type]
    await refund_due(coffee.db.sessionmaker, coffee.bus, Runtime())  # type: ignore[arg-type]
    assert refunded == ["test_late"]  # once
    async with coffee.db.sessionmaker() as session:
        payment = await session.scalar(
            select(ProviderPayment).where(ProviderPayment.provider_ref == "test_late")
        )
        assert payment is not None and payment.status == "refunded"


async def test_top_up_keys_belong_to_each_consumer(coffee: Coffee) -> None:
    """Two people whose phones pick the same key each get their own payment (and their
    own checkout at the provider); one person's retry gets the first payment back."""
    zoe, max_ = await coffee.consumer("Zoé"), await coffee.consumer("Max")
    shared = key()

    async def top_up(consumer_id: int, amount: int) -> ProviderPayment:
        topup = given(Topup, amount=amount, idempotency_key=shared)
        return await coffee.run(lambda tx: payment_service.start_topup(
            tx, consumer_id, topup, "test", now()))

    first = await top_up(zoe, 500)
    other = await top_up(max_, 1000)
    retry = await top_up(zoe, 500)
    assert other.id != first.id
    assert (other.consumer_id, other.amount) == (max_, 1000)
    assert other.idempotency_key != first.idempotency_key  # the provider's key too
    assert retry.id == first.id and retry.consumer_id == zoe
    async with coffee.db.sessionmaker() as session:
        mine = (await session.scalars(select(ProviderPayment.consumer_id).where(
            ProviderPayment.purpose == "topup").order_by(ProviderPayment.id))).all()
    assert mine == [zoe, max_]
