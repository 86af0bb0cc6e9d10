"""Payments through the provider: top-ups, drinks and tables, settled once by webhook.

Rows change only by conditional updates from `pending`, so a payment settles once
however many times (and in whatever order) the provider's events arrive. Only this room
writes them: what a payment paid for hears how it ended through domain events
(`payment.settled`, `payment.failed`, `payment.abandoned`, `payment.refunded`), and a room
that cannot make what was paid for asks `give_back`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company
from customers.errors import BadAmount
from customers.models import Consumer
from customers.policy import policy
from db.base import changed
from domain.events import (
    PaymentAbandoned,
    PaymentEvent,
    PaymentFailed,
    PaymentRefunded,
    PaymentSettled,
)
from domain.outbox import record
from payments.commands import Topup
from payments.errors import UnknownPayment
from payments.models import PaymentSettings, ProviderPayment, WebhookEvent
from payments.payment_state import PAYMENTS, PaymentStatus
from payments.providers import ProviderEvent
from realtime.events import Tx

P = TypeVar("P", bound=PaymentEvent)


def topup_payment_key(consumer_id: int, key: str) -> str:
    """The stored key, unique per consumer: two people choosing the same client key get a
    payment each (here and at the provider, which sees this key too), and it fits the
    column whatever the client key's length."""
    return f"topup:{consumer_id}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


async def start_topup(
    tx: Tx, consumer_id: int, topup: Topup, provider: str, now: datetime
) -> ProviderPayment:
    """A pending top-up of one of the operator's amounts; the same key returns it again."""
    session = tx.session
    stored_key = topup_payment_key(consumer_id, topup.idempotency_key)
    previous = await session.scalar(
        select(ProviderPayment).where(ProviderPayment.idempotency_key == stored_key)
    )
    if previous is not None:
        return previous
    consumer = await session.get(Consumer, consumer_id)
    assert consumer is not None
    value = topup.amount
    rules = await policy(session, consumer.company_id)
    if value not in rules.topup_amounts:
        raise BadAmount(limit=max(rules.topup_amounts or [0]))
    company = await session.get(Company, consumer.company_id)
    assert company is not None
    payment = ProviderPayment(
        company_id=company.id, consumer_id=consumer.id, purpose="topup", amount=value,
        currency=company.currency, provider=provider, idempotency_key=stored_key,
        created_at=now, updated_at=now,
    )
    session.add(payment)
    await session.flush()
    return payment


async def open_payment(
    tx: Tx, company: Company, purpose: str, amount: int, provider: str, key: str,
    now: datetime, *, consumer_id: int | None = None, brew_id: int | None = None,
    table_session_id: int | None = None, round_id: int | None = None,
) -> ProviderPayment:
    """A pending payment for what another room sells (a drink, a table's round or bill),
    named by its refs; the flush lets the room's unique indexes refuse a duplicate now."""
    payment = ProviderPayment(
        company_id=company.id, consumer_id=consumer_id, brew_id=brew_id,
        table_session_id=table_session_id, round_id=round_id, purpose=purpose, amount=amount,
        currency=company.currency, provider=provider, idempotency_key=key,
        created_at=now, updated_at=now,
    )
    tx.session.add(payment)
    await tx.session.flush()
    return payment


async def attach(
    tx: Tx, payment_id: int, ref: str, checkout_url: str | None = None,
    payer: str | None = None,
) -> None:
    """Record the provider's side, and `payer`: the browser that started the payment (its
    device key), the only one the test provider's page lets settle it."""
    await tx.session.execute(
        update(ProviderPayment)
        .where(ProviderPayment.id == payment_id, ProviderPayment.provider_ref.is_(None))
        .values(provider_ref=ref, checkout_url=checkout_url, payer_device=payer)
        .execution_options(synchronize_session=False)
    )


# Whose payments a provider's event may settle: one company's (its own Stripe account and
# webhook secret), or, for the environment's account, the companies without their own.
Scope = int | Literal["environment", "any"]


async def by_ref(session: AsyncSession, ref: object, scope: Scope = "any") -> ProviderPayment:
    query = select(ProviderPayment).where(ProviderPayment.provider_ref == ref)
    if scope == "environment":
        query = query.where(
            ProviderPayment.company_id.not_in(select(PaymentSettings.company_id))
        )
    elif isinstance(scope, int):
        query = query.where(ProviderPayment.company_id == scope)
    payment = await session.scalar(query) if isinstance(ref, str) else None
    if payment is None:
        raise UnknownPayment()
    return payment


def _fact(kind: type[P], payment: ProviderPayment, now: datetime) -> P:
    return kind(
        at=now, payment_id=payment.id, company_id=payment.company_id,
        purpose=payment.purpose, amount=payment.amount, currency=payment.currency,
        provider=payment.provider, consumer_id=payment.consumer_id, brew_id=payment.brew_id,
        table_session_id=payment.table_session_id, round_id=payment.round_id,
    )


async def settle(
    tx: Tx, ref: str, succeeded: bool, now: datetime, scope: Scope = "any"
) -> ProviderPayment:
    """Record how a payment ended, once: what it paid for hears `payment.settled` or
    `payment.failed` and is done by its own room."""
    session = tx.session
    payment = await by_ref(session, ref, scope)
    late = PaymentStatus.CANCELED, PaymentStatus.REFUND_DUE
    if succeeded and await _mark(tx, payment.id, *late, now):
        return payment  # paid after we gave up waiting (the brew failed): give it back
    moved = await session.execute(
        update(ProviderPayment)
        .where(ProviderPayment.id == payment.id, ProviderPayment.status == PaymentStatus.PENDING)
        .values(
            status=PaymentStatus.SUCCEEDED if succeeded else PaymentStatus.FAILED, updated_at=now
        )
        .execution_options(synchronize_session=False)
    )
    if changed(moved) != 1:
        return payment  # settled before: a repeated or late event
    await session.refresh(payment)
    await record(tx, _fact(PaymentSettled if succeeded else PaymentFailed, payment, now))
    return payment


async def _mark(tx: Tx, payment_id: int, current: str, target: str, now: datetime) -> bool:
    """Move the payment if it is still `current` (a move its table allows): True if it was."""
    PAYMENTS.move(current, target)
    moved = await tx.session.execute(
        update(ProviderPayment)
        .where(ProviderPayment.id == payment_id, ProviderPayment.status == current)
        .values(status=target, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return changed(moved) == 1


async def give_back(tx: Tx, payment_id: int, now: datetime) -> bool:
    """A taken payment whose drink or round could not be made: refund it (the sweeper asks
    the provider). False when it was not taken, or is given back already."""
    return await _mark(tx, payment_id, PaymentStatus.SUCCEEDED, PaymentStatus.REFUND_DUE, now)


async def cancel(tx: Tx, payment_id: int, now: datetime) -> bool:
    """Its payer gave a pending payment up; False when it had ended meanwhile."""
    return await _mark(tx, payment_id, PaymentStatus.PENDING, PaymentStatus.CANCELED, now)


async def abandon(tx: Tx, payment_id: int, now: datetime) -> None:
    """The provider could not even start this payment: fail it, and what waited on it
    hears `payment.abandoned`."""
    if await _mark(tx, payment_id, PaymentStatus.PENDING, PaymentStatus.FAILED, now):
        payment = await tx.session.get(ProviderPayment, payment_id)
        assert payment is not None
        await tx.session.refresh(payment)
        await record(tx, _fact(PaymentAbandoned, payment, now))


async def cancel_for_brew(tx: Tx, brew_id: int, now: datetime) -> bool:
    """A brew paid by card failed: cancel its pending payment, or refund a taken one.

    Returns True when money was taken and is being given back.
    """
    payment = await tx.session.scalar(
        select(ProviderPayment).where(ProviderPayment.brew_id == brew_id)
    )
    if payment is None:
        return False
    if await _mark(tx, payment.id, PaymentStatus.PENDING, PaymentStatus.CANCELED, now):
        return False
    return await _mark(tx, payment.id, PaymentStatus.SUCCEEDED, PaymentStatus.REFUND_DUE, now)


async def handle_event(
    tx: Tx, provider: str, event: ProviderEvent, now: datetime, scope: Scope
) -> str:
    """A verified webhook event: handled once; a replayed id is acknowledged and ignored.

    Only payments in `scope` can be settled: an operator signs their own webhooks, and
    must not be able to mark another company's payment paid."""
    from customers.credit import insert_for

    session = tx.session
    first = await session.scalar(
        insert_for(session)(WebhookEvent)
        .values(provider=provider, event_id=event.id[:120], received_at=now)
        .on_conflict_do_nothing()
        .returning(WebhookEvent.event_id)
    )
    if first is None:
        return "duplicate"
    if event.outcome == "other" or event.ref is None:
        return "ignored"
    try:
        await settle(tx, event.ref, event.outcome == "succeeded", now, scope)
    except UnknownPayment:
        return "ignored"  # not one of ours (another integration on the same account)
    return "handled"


async def refunds_due(session: AsyncSession) -> list[ProviderPayment]:
    return list(
        (
            await session.scalars(
                select(ProviderPayment)
                .where(ProviderPayment.status == PaymentStatus.REFUND_DUE)
                .limit(50)
            )
        ).all()
    )


async def refunded(tx: Tx, payment_id: int, now: datetime) -> None:
    """The provider gave the money back: recorded once, as `payment.refunded`."""
    if await _mark(tx, payment_id, PaymentStatus.REFUND_DUE, PaymentStatus.REFUNDED, now):
        payment = await tx.session.get(ProviderPayment, payment_id)
        assert payment is not None
        await tx.session.refresh(payment)
        await record(tx, _fact(PaymentRefunded, payment, now))
