"""How a table payment ends: the provider's verdict, a payment given up, a refund.

A paid round goes to staff; a paid bill may settle the session; a payment that will not be
paid puts its round's lines back in the cart; money taken for something gone is handed back
to payments (`give_back`: its refund sweeper asks the provider). Ordering hears the verdicts
as domain events (`payment.settled`, `payment.failed`, `payment.abandoned`), each once, in a
transaction of its own; only payments writes payment rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update

from db.base import changed
from domain.events import PaymentAbandoned, PaymentEvent, PaymentFailed, PaymentSettled
from domain.subscribers import subscribe
from ordering import facts
from ordering.config import OrderingConfig
from ordering.models import DiningTable, OrderLine, Round, TableSession
from ordering.payment_views import rounds_and_paid
from ordering.publishing import table_changed
from ordering.round_state import RoundStatus
from ordering.session_state import SessionStatus
from ordering.table_payment import AWAITING_PAYMENT, PaidRound, bill
from ordering.table_rewards import applied_discount
from payments import service as provider_payments
from payments.models import ProviderPayment
from payments.payment_state import PaymentStatus
from realtime.events import Tx

PURPOSES = ("round", "bill")
SUBSCRIBER = "ordering.table_payments"


async def end_pending(
    tx: Tx, config: OrderingConfig, table: DiningTable, payment: ProviderPayment,
    now: datetime,
) -> None:
    """A pending payment given up (its payer went back, or a new one replaces it): its
    round's lines go back to the cart."""
    if await provider_payments.cancel(tx, payment.id, now):
        await _unpaid(tx, config, table, payment.round_id, payment.amount, payment.purpose,
                      "payment.canceled")


async def _unpaid(
    tx: Tx, config: OrderingConfig, table: DiningTable, round_id: int | None, amount: int,
    purpose: str, event: str,
) -> None:
    change: dict[str, Any] = {"amount": amount, "purpose": purpose}
    rnd = await tx.session.get(Round, round_id) if round_id else None
    if rnd is not None and rnd.status == AWAITING_PAYMENT:
        change["round"] = rnd.number
        await tx.session.execute(
            update(OrderLine).where(OrderLine.round_id == rnd.id).values(round_id=None)
        )
        await tx.session.execute(delete(Round).where(Round.id == rnd.id))
        # Give the number back unless a later round took the next one meanwhile.
        await tx.session.execute(
            update(TableSession)
            .where(TableSession.id == rnd.session_id, TableSession.round_count == rnd.number)
            .values(round_count=TableSession.round_count - 1)
        )
        tx.session.expunge(rnd)
    await table_changed(tx, config, table.id, table.site_id, event, change)


async def _table_of(
    tx: Tx, payment: PaymentEvent
) -> tuple[TableSession | None, DiningTable | None]:
    ts = (
        await tx.session.get(TableSession, payment.table_session_id)
        if payment.table_session_id else None
    )
    table = await tx.session.get(DiningTable, ts.table_id) if ts else None
    return ts, table


async def paid(config: OrderingConfig, tx: Tx, payment: PaymentSettled) -> None:
    """The provider took a table payment: send its round, or count it on the bill."""
    if payment.purpose not in PURPOSES:
        return
    now = datetime.now(UTC)
    ts, table = await _table_of(tx, payment)
    if ts is None or table is None:
        await provider_payments.give_back(tx, payment.payment_id, now)
        return
    touched = await tx.session.execute(
        update(TableSession)
        .where(TableSession.id == ts.id, TableSession.status == SessionStatus.OPEN)
        .values(last_activity_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed(touched) != 1:
        # Settled or freed while the payer was at the checkout: nothing to pay for.
        await provider_payments.give_back(tx, payment.payment_id, now)
        await _unpaid(tx, config, table, payment.round_id, payment.amount, payment.purpose,
                      "payment.refunded")
        return
    if payment.purpose == "round":
        await _round_paid(tx, config, table, payment, now)
    else:
        await _bill_paid(tx, config, table, ts, payment, now)


async def not_paid(
    config: OrderingConfig, tx: Tx, payment: PaymentFailed | PaymentAbandoned
) -> None:
    """Nothing was taken: the round's lines go back to the cart."""
    if payment.purpose not in PURPOSES:
        return
    _, table = await _table_of(tx, payment)
    if table is not None:
        await _unpaid(tx, config, table, payment.round_id, payment.amount, payment.purpose,
                      "payment.failed")


async def _round_paid(
    tx: Tx, config: OrderingConfig, table: DiningTable, payment: PaymentSettled,
    now: datetime,
) -> None:
    rnd = await tx.session.get(Round, payment.round_id) if payment.round_id else None
    sent = None
    if rnd is not None:
        sent = await tx.session.scalar(
            update(Round)
            .where(Round.id == rnd.id, Round.status == AWAITING_PAYMENT)
            .values(status=RoundStatus.TO_VALIDATE, submitted_at=now, updated_at=now)
            .returning(Round.number)
        )
    if rnd is None or sent is None:
        await provider_payments.give_back(tx, payment.payment_id, now)  # its round is gone
        await table_changed(tx, config, table.id, table.site_id, "payment.refunded",
                            {"amount": payment.amount, "purpose": "round"})
        return
    await tx.session.refresh(rnd)
    await table_changed(
        tx, config, table.id, table.site_id, "round.paid",
        {"round": sent, "amount": payment.amount},
    )
    await facts.round_submitted(tx, table, rnd, member_id=rnd.submitted_by, paid_online=True)


async def _bill_paid(
    tx: Tx, config: OrderingConfig, table: DiningTable, ts: TableSession,
    payment: PaymentSettled, now: datetime,
) -> None:
    rounds, paid_online = await rounds_and_paid(tx.session, ts.id)
    owed = bill(rounds, paid_online, await applied_discount(tx.session, ts.id))
    settles = owed.due == 0 and not any(s == "to_validate" for s, _ in rounds)
    if settles:
        await tx.session.execute(
            update(TableSession)
            .where(TableSession.id == ts.id, TableSession.status == SessionStatus.OPEN)
            .values(status=SessionStatus.SETTLED, settled_at=now)
            .execution_options(synchronize_session=False)
        )
        await tx.session.refresh(ts)
    await table_changed(
        tx, config, table.id, table.site_id, "session.settled" if settles else "payment.succeeded",
        {"amount": payment.amount, "method": "online", "purpose": "bill"},
    )
    if settles:
        await facts.table_settled(tx, table, ts, owed.charged, "online", None)


async def round_refused(tx: Tx, round_id: int, now: datetime) -> bool:
    """Staff refused a round: payments give back what was paid for it (once, however often
    asked)."""
    paid_for = (
        await tx.session.scalars(
            select(ProviderPayment.id).where(
                ProviderPayment.round_id == round_id,
                ProviderPayment.purpose == "round",
                ProviderPayment.status == PaymentStatus.SUCCEEDED,
            )
        )
    ).all()
    given = [await provider_payments.give_back(tx, payment_id, now) for payment_id in paid_for]
    return any(given)


async def require_unpaid(tx: Tx, round_id: int) -> None:
    """A paid round's amount is what the diners paid: staff refuse it rather than edit it."""
    paid_for = await tx.session.scalar(
        select(ProviderPayment.id).where(
            ProviderPayment.round_id == round_id,
            ProviderPayment.purpose == "round",
            ProviderPayment.status == PaymentStatus.SUCCEEDED,
        )
    )
    if paid_for is not None:
        raise PaidRound()


def register(config: OrderingConfig) -> None:
    """Table payments end through this module, whichever way the verdict arrives."""

    async def on_paid(tx: Tx, payment: PaymentSettled) -> None:
        await paid(config, tx, payment)

    async def on_not_paid(tx: Tx, payment: PaymentFailed | PaymentAbandoned) -> None:
        await not_paid(config, tx, payment)

    subscribe(PaymentSettled, SUBSCRIBER, on_paid)
    subscribe(PaymentFailed, SUBSCRIBER, on_not_paid)
    subscribe(PaymentAbandoned, SUBSCRIBER, on_not_paid)
