"""What a consumer does at a machine: see its drinks and prices, start a brew.

Functions run inside the caller's transaction (`Tx`) and emit the events to publish
after commit; none commits. A refused brew raises before anything is written, so the
whole transaction, charge included, rolls back: nothing is charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from customers import credit
from customers.ledger import Kind, brew_key, refund_key
from customers.models import Consumer, GroupMember
from customers.publishing import user_changed
from db.base import changed, is_id
from errors import DomainError
from machines import brew_state, facts, recipes
from machines.access import Brewer, Charge, Grant, Mode, decide, members_terms
from machines.brew_state import BrewStatus
from machines.device_channel import send_command
from machines.errors import (
    MachineBusy,
    MachineInAlert,
    MachineOffline,
    UnknownDrink,
    UnknownMachine,
)
from machines.models import Brew, Machine, MachineGroup, SelectionProduct
from machines.publishing import machine_changed
from machines.views import company_of_machine
from payments import service as payments
from payments.models import ProviderPayment
from realtime.events import Tx


async def machine_by_token(session: AsyncSession, token: object) -> Machine:
    if not isinstance(token, str) or not 0 < len(token) <= 64:
        raise UnknownMachine()
    machine = await session.scalar(select(Machine).where(Machine.token == token))
    if machine is None:
        raise UnknownMachine()
    return machine


async def consumer_of(
    session: AsyncSession, machine: Machine, consumer_id: int | None
) -> Consumer | None:
    """The signed-in consumer, if their account belongs to the machine's company."""
    if consumer_id is None:
        return None
    consumer = await session.get(Consumer, consumer_id)
    if consumer is None:
        return None
    company = await company_of_machine(session, machine)
    return consumer if consumer.company_id == company.id else None


async def brewer(session: AsyncSession, machine: Machine, consumer: Consumer | None) -> Brewer:
    if consumer is None:
        return Brewer(None)
    rows = (
        await session.execute(
            select(MachineGroup.group_id, MachineGroup.selection_id)
            .join(GroupMember, GroupMember.group_id == MachineGroup.group_id)
            .where(MachineGroup.machine_id == machine.id, GroupMember.consumer_id == consumer.id)
            .order_by(MachineGroup.group_id)
        )
    ).all()
    ready = consumer.email_confirmed and consumer.verified
    return Brewer(consumer.id, ready, tuple((g, s) for g, s in rows))


async def products(session: AsyncSession, selection_id: int | None) -> list[SelectionProduct]:
    if selection_id is None:
        return []
    return list(
        (
            await session.scalars(
                select(SelectionProduct)
                .where(SelectionProduct.selection_id == selection_id, SelectionProduct.enabled)
                .order_by(SelectionProduct.position, SelectionProduct.id)
            )
        ).all()
    )


@dataclass(frozen=True)
class Offer:
    """What this consumer sees at this machine."""

    machine: Machine
    consumer: Consumer | None
    grant: Grant | None  # None: not allowed (refusal says why)
    refusal: DomainError | None
    drinks: list[dict[str, Any]]
    terms: Grant  # the grant, or what the visitor would get once allowed (prices shown)


def drink_dict(product: SelectionProduct, grant: Grant, alerts: list[str]) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "type": product.type,
        "icon": recipes.drink(product.type).icon,
        "price": product.price,
        "charge": grant.charge_for(product.price).value,
        "recipe": product.recipe,
        "needs": sorted(recipes.drink(product.type).needs),
        "blocked_by": recipes.blocking(product.type, alerts),
    }


async def offer(session: AsyncSession, machine: Machine, consumer_id: int | None) -> Offer:
    consumer = await consumer_of(session, machine, consumer_id)
    who = await brewer(session, machine, consumer)
    try:
        grant = decide(Mode(machine.mode), who, machine.selection_id)
    except DomainError as refusal:  # shown on the page instead of the buttons
        # A visitor who may not brew still sees the drinks and what they would pay.
        shown = members_terms(Mode(machine.mode), machine.selection_id)
        listed = await products(session, shown.selection_id)
        drinks = [drink_dict(p, shown, machine.alerts) for p in listed]
        return Offer(machine, consumer, None, refusal, drinks, shown)
    listed = await products(session, grant.selection_id)
    drinks = [drink_dict(p, grant, machine.alerts) for p in listed]
    return Offer(machine, consumer, grant, None, drinks, grant)


@dataclass(frozen=True)
class Requested:
    brew: Brew
    duplicate: bool
    payment: ProviderPayment | None


async def request(
    tx: Tx,
    token: str,
    product_id: int,
    consumer_id: int | None,
    device_key: str,
    key: str,
    now: datetime,
    provider: str = "test",
) -> Requested:
    """Start a brew: check access, the machine's state and the credit, then command it.

    The same idempotency key returns the first brew and charges nothing more.
    """
    session = tx.session
    previous = await _requested_before(session, key)
    if previous is not None:
        return previous
    try:
        machine, found, product = await _allowed(session, token, product_id, consumer_id)
    except DomainError:
        # On PostgreSQL each statement reads what committed before it: this key's first
        # request may have committed since the lookup above, and its own brew now makes
        # the machine busy. That brew, not the refusal it causes, answers the retry.
        previous = await _requested_before(session, key)
        if previous is None:
            raise
        return previous
    assert found.grant is not None
    charge = found.grant.charge_for(product.price)
    brew = Brew(
        machine_id=machine.id, product_id=product.id, product_name=product.name,
        product_type=product.type, recipe=dict(product.recipe or {}),
        consumer_id=found.consumer.id if found.consumer else None,
        group_id=found.grant.group_id, device_key=device_key, price=product.price,
        charge=charge.value, idempotency_key=key,
        status=BrewStatus.PAYING if charge is Charge.PAYMENT else BrewStatus.REQUESTED,
        requested_at=now, updated_at=now,
    )
    session.add(brew)
    await session.flush()  # the partial unique index refuses a second active brew
    payment = None
    if charge is Charge.CREDIT:
        assert brew.consumer_id is not None
        await credit.post(
            tx, brew.consumer_id, -product.price, Kind.BREW, brew_key(brew.id),
            brew_id=brew.id, note=f"{product.name} · {machine.name}", publish=False,
        )
    elif charge is Charge.PAYMENT:
        company = await company_of_machine(session, machine)
        payment = await payments.open_payment(
            tx, company, "brew", product.price, provider, f"brew:{key}", now,
            consumer_id=brew.consumer_id, brew_id=brew.id,
        )
    await _announce(
        tx, brew, "brew.requested" if brew.status == BrewStatus.REQUESTED else "brew.paying"
    )
    return Requested(brew, False, payment)


async def _requested_before(session: AsyncSession, key: str) -> Requested | None:
    """The brew this idempotency key already started, with its payment, if any."""
    previous = await session.scalar(select(Brew).where(Brew.idempotency_key == key))
    if previous is None:
        return None
    payment = await session.scalar(
        select(ProviderPayment).where(ProviderPayment.brew_id == previous.id)
    )
    return Requested(previous, True, payment)


async def _allowed(
    session: AsyncSession, token: str, product_id: int, consumer_id: int | None
) -> tuple[Machine, Offer, SelectionProduct]:
    """The checks before anything is written: access, the drink, the machine's state."""
    machine = await machine_by_token(session, token)
    found = await offer(session, machine, consumer_id)
    if found.grant is None:
        assert found.refusal is not None
        raise found.refusal
    product = await _product(session, found.grant, product_id)
    if not machine.online:
        raise MachineOffline()
    if recipes.blocking(product.type, machine.alerts):
        raise MachineInAlert()  # the page shows which alerts, live
    if await _active(session, machine.id) is not None:
        raise MachineBusy()
    return machine, found, product


async def _product(session: AsyncSession, grant: Grant, product_id: object) -> SelectionProduct:
    if not is_id(product_id):
        raise UnknownDrink()
    product = await session.get(SelectionProduct, product_id)
    if product is None or product.selection_id != grant.selection_id or not product.enabled:
        raise UnknownDrink()
    return product


async def _active(session: AsyncSession, machine_id: int) -> Brew | None:
    return await session.scalar(
        select(Brew).where(Brew.machine_id == machine_id, Brew.finished_at.is_(None))
    )


async def _announce(tx: Tx, brew: Brew, event: str, **extra: Any) -> None:
    change: dict[str, Any] = {"brew_id": brew.id, "status": brew.status, **extra}
    await machine_changed(tx, brew.machine_id, event, change)
    if brew.consumer_id is not None:
        await user_changed(tx, brew.consumer_id, event, change)
    if event == "brew.requested":
        await send_command(tx, brew)  # on the machine's own channel, not the screens'


async def release(tx: Tx, brew: Brew, now: datetime) -> bool:
    """A paid brew goes to the machine (payment mode); False if it is no longer waiting."""
    moved = await tx.session.execute(
        update(Brew)
        .where(Brew.id == brew.id, Brew.status == BrewStatus.PAYING)
        .values(status=BrewStatus.REQUESTED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed(moved) != 1:
        return False
    await tx.session.refresh(brew)
    await _announce(tx, brew, "brew.requested")
    return True


async def advance(
    tx: Tx, brew: Brew, status: str, progress: int | None, reason: str | None, now: datetime
) -> bool:
    """Apply a device's report; returns False for a repeat that changed nothing."""
    if brew_state.step(brew.status, status) is brew_state.Step.IGNORE:
        return False
    if status == BrewStatus.FAILED:
        return await fail(tx, brew, reason or "failed", now)
    new_progress = brew_state.progress(brew.progress, status, progress)
    if status == brew.status and new_progress == brew.progress:
        return False
    values: dict[str, Any] = {"status": status, "progress": new_progress, "updated_at": now}
    if status == BrewStatus.DONE:
        values["finished_at"] = now
    moved = await tx.session.execute(
        update(Brew)
        .where(Brew.id == brew.id, Brew.status == brew.status, Brew.finished_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if changed(moved) != 1:
        return False  # someone else (a timeout) moved it first
    await tx.session.refresh(brew)
    await _announce(tx, brew, f"brew.{status}", progress=brew.progress)
    if status == "done":
        await facts.brew_finished(tx, brew)
    return True


async def fail(tx: Tx, brew: Brew, reason: str, now: datetime) -> bool:
    """Fail an unfinished brew and give back what it cost, once."""
    moved = await tx.session.execute(
        update(Brew)
        .where(Brew.id == brew.id, Brew.finished_at.is_(None))
        .values(status=BrewStatus.FAILED, reason=reason[:60], updated_at=now, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed(moved) != 1:
        return False
    await tx.session.refresh(brew)
    refunded = False
    if brew.charge == Charge.CREDIT.value and brew.consumer_id is not None:
        await credit.post(
            tx, brew.consumer_id, brew.price, Kind.REFUND, refund_key(brew.id),
            brew_id=brew.id, note=f"{brew.product_name}: {reason[:60]}", publish=False,
        )
        refunded = True
    elif brew.charge == Charge.PAYMENT.value:
        refunded = await payments.cancel_for_brew(tx, brew.id, now)
    if refunded:
        await tx.session.execute(
            update(Brew).where(Brew.id == brew.id).values(refunded=True)
            .execution_options(synchronize_session=False)
        )
        brew.refunded = True
    await _announce(tx, brew, "brew.failed", reason=brew.reason, refunded=refunded)
    await facts.brew_finished(tx, brew)
    return True
