"""Payments at the table through the payment provider: a round paid before it is sent
("order and pay"), or the bill paid from a phone ("pay only").

A payment is a `ProviderPayment` row tied to the table session (and to its round). The
partial unique index `uq_provider_payment_table_pending` allows one payment in progress
per session, so phones pressing together make one payment; the row moves from `pending`
only by conditional updates (payments/service.py), so it settles once. Every
start and every settlement first touches the session's row: on PostgreSQL that orders them,
so a payer never reads a bill that a concurrent success has already paid.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from errors import N_
from ordering import diner_service, facts
from ordering.config import OrderingConfig
from ordering.errors import NotSettleable, PinRequired, SessionEnded
from ordering.models import DiningTable, OrderLine, Round, TableSession
from ordering.payment_outcome import end_pending
from ordering.payment_views import LINE_AMOUNT, rounds_and_paid
from ordering.publishing import table_changed
from ordering.round_state import RoundStatus
from ordering.session_state import SessionStatus
from ordering.table_lock import Access
from ordering.table_payment import (
    AWAITING_PAYMENT,
    ORDER_AND_PAY,
    PAYING_MODES,
    NoPhonePayments,
    PaymentPending,
    UnknownTablePayment,
    abandoned,
    bill,
    payable,
)
from ordering.table_rewards import applied_discount
from ordering.views import company_of_site
from payments import service as provider_payments
from payments.errors import PaymentsUnavailable
from payments.models import ProviderPayment
from payments.payment_state import PaymentStatus
from realtime.events import Tx


@dataclass(frozen=True)
class Started:
    """A payment begun (or found again by its key); `payment` is None for a free round."""

    payment: ProviderPayment | None
    round: Round | None
    duplicate: bool


def _payment_key(session_id: int, key: str) -> str:
    # The provider sees this key too: unique per session and attempt, within 64 characters.
    return f"table:{session_id}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


async def _member(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, modes: frozenset[str]
) -> diner_service.TableAccess:
    found = await diner_service.table_access(tx, config, token, device_key)
    if found.mode not in modes:
        raise NoPhonePayments()
    if found.access is Access.NEED_PIN:
        raise PinRequired()
    if found.access is not Access.MEMBER:
        raise SessionEnded()
    return found


async def _by_key(tx: Tx, key: str) -> ProviderPayment | None:
    return await tx.session.scalar(
        select(ProviderPayment).where(ProviderPayment.idempotency_key == key)
    )


async def _lock_open(tx: Tx, session_id: int, now: datetime) -> None:
    """Touch the open session's row: starts and settlements of its payments queue here."""
    touched = await tx.session.scalar(
        update(TableSession)
        .where(TableSession.id == session_id, TableSession.status == SessionStatus.OPEN)
        .values(last_activity_at=now)
        .returning(TableSession.id)
    )
    if touched is None:
        raise SessionEnded()


async def _pending(tx: Tx, session_id: int) -> ProviderPayment | None:
    return await tx.session.scalar(
        select(ProviderPayment).where(
            ProviderPayment.table_session_id == session_id,
            ProviderPayment.status == PaymentStatus.PENDING,
        )
    )


async def _clear_pending(
    tx: Tx, config: OrderingConfig, table: DiningTable, session_id: int, now: datetime
) -> None:
    """Refuse a second payment while one is in progress, unless that one was abandoned."""
    pending = await _pending(tx, session_id)
    if pending is None:
        return
    if not abandoned(pending.created_at, now):
        raise PaymentPending()
    await end_pending(tx, config, table, pending, now)


async def _new_payment(
    tx: Tx, table: DiningTable, ts: TableSession, purpose: str, amount: int, key: str,
    provider: str, now: datetime, round_id: int | None = None,
) -> ProviderPayment:
    company = await company_of_site(tx.session, table.site_id)
    # The partial unique index refuses a second pending payment of the session here.
    return await provider_payments.open_payment(
        tx, company, purpose, amount, provider, key, now, table_session_id=ts.id,
        round_id=round_id,
    )


def _require_provider(provider: str) -> None:
    if provider == "none":
        raise PaymentsUnavailable()


async def send_and_pay(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, idempotency_key: str,
    provider: str,
) -> Started:
    """Order and pay: the cart becomes a round waiting for its payment, for its total.

    The lines leave the cart with the round, so the cart can fill up again meanwhile and
    the amount cannot drift; a failed or abandoned payment puts them back.
    """
    key = idempotency_key
    found = await _member(tx, config, token, device_key, frozenset({ORDER_AND_PAY}))
    assert found.session is not None and found.member is not None
    ts, table = found.session, found.table
    previous = await _by_key(tx, _payment_key(ts.id, key))
    if previous is not None:
        rnd = await tx.session.get(Round, previous.round_id) if previous.round_id else None
        return Started(previous, rnd, duplicate=True)
    free_round = await tx.session.scalar(
        select(Round).where(Round.session_id == ts.id, Round.idempotency_key == key)
    )
    if free_round is not None:
        return Started(None, free_round, duplicate=True)
    _require_provider(provider)
    now = datetime.now(UTC)
    await _lock_open(tx, ts.id, now)
    await _clear_pending(tx, config, table, ts.id, now)
    rnd = await diner_service.cart_to_round(
        tx, ts, found.member.id, key, now, status=AWAITING_PAYMENT
    )
    number = rnd.number
    amount = int(
        await tx.session.scalar(
            select(func.coalesce(func.sum(LINE_AMOUNT), 0))
            .where(OrderLine.round_id == rnd.id)
        ) or 0
    )
    who = {"member": found.member.name, "member_id": found.member.id, "round": number}
    if amount == 0:  # nothing to charge: the round goes to staff at once
        rnd.status = RoundStatus.TO_VALIDATE
        await tx.session.flush()
        await table_changed(tx, config, table.id, table.site_id, "round.submitted", who)
        await facts.round_submitted(tx, table, rnd, member_id=found.member.id)
        return Started(None, rnd, duplicate=False)
    payment = await _new_payment(
        tx, table, ts, "round", amount, _payment_key(ts.id, key), provider, now, rnd.id
    )
    await table_changed(
        tx, config, table.id, table.site_id, "payment.started",
        {**who, "amount": amount, "purpose": "round"},
    )
    return Started(payment, rnd, duplicate=False)


async def pay_bill(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, amount: int | None,
    idempotency_key: str, provider: str,
) -> Started:
    """Pay what is still due at the table, or a part of it; never more."""
    key = idempotency_key
    found = await _member(tx, config, token, device_key, PAYING_MODES)
    assert found.session is not None and found.member is not None
    ts, table = found.session, found.table
    previous = await _by_key(tx, _payment_key(ts.id, key))
    if previous is not None:
        return Started(previous, None, duplicate=True)
    _require_provider(provider)
    now = datetime.now(UTC)
    await _lock_open(tx, ts.id, now)
    await _clear_pending(tx, config, table, ts.id, now)
    rounds, paid = await rounds_and_paid(tx.session, ts.id)
    due = bill(rounds, paid, await applied_discount(tx.session, ts.id)).due
    if due > 0 and any(status == RoundStatus.TO_VALIDATE for status, _ in rounds):
        # Staff may still refuse it: paying for it now could pay for what never comes.
        raise NotSettleable(N_("Staff are still validating an order; pay once it is validated."))
    value = payable(amount, due)
    payment = await _new_payment(
        tx, table, ts, "bill", value, _payment_key(ts.id, key), provider, now
    )
    await table_changed(
        tx, config, table.id, table.site_id, "payment.started",
        {"member": found.member.name, "member_id": found.member.id, "amount": value,
         "purpose": "bill"},
    )
    return Started(payment, None, duplicate=False)


async def cancel(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, payment_id: int
) -> ProviderPayment:
    """A member gives up a payment in progress (back from the checkout without paying)."""
    found = await _member(tx, config, token, device_key, PAYING_MODES)
    assert found.session is not None
    payment = (
        await tx.session.get(ProviderPayment, payment_id)
        if isinstance(payment_id, int) and not isinstance(payment_id, bool) else None
    )
    if payment is None or payment.table_session_id != found.session.id:
        raise UnknownTablePayment()
    if payment.status == PaymentStatus.PENDING:
        await end_pending(tx, config, found.table, payment, datetime.now(UTC))
        await tx.session.refresh(payment)
    return payment


async def attach(
    tx: Tx, payment_id: int, ref: str, checkout_url: str, payer: str | None = None
) -> ProviderPayment:
    """Record the provider's side and the payer's browser; of two retries creating it at
    once, the first one wins."""
    await provider_payments.attach(tx, payment_id, ref, checkout_url, payer)
    payment = await tx.session.get(ProviderPayment, payment_id)
    assert payment is not None
    await tx.session.refresh(payment)
    return payment
