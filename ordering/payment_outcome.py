"""How a table payment ends: the provider's verdict, a payment given up, a refund.

A paid round goes to staff; a paid bill may settle the session; a payment that will not be
paid puts its round's lines back in the cart; money taken for something gone goes back
through the refund sweeper (machines/runtime). Each ending is a conditional update on the
payment's status, so it happens once whichever way (webhook, test page, retry) it arrives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from ordering.config import OrderingConfig
from ordering.models import DiningTable, OrderLine, Round, TableSession
from ordering.payment_views import rounds_and_paid
from ordering.publishing import table_changed
from ordering.table_payment import AWAITING_PAYMENT, PaidRound, bill
from payments import service as provider_payments
from payments.models import ProviderPayment
from realtime.events import Tx

PURPOSES = ("round", "bill")


async def end_pending(
    tx: Tx, config: OrderingConfig, table: DiningTable, payment: ProviderPayment, status: str,
    now: datetime,
) -> None:
    """A pending payment that will not be paid: its round's lines go back to the cart."""
    moved = await tx.session.execute(
        update(ProviderPayment)
        .where(ProviderPayment.id == payment.id, ProviderPayment.status == "pending")
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        return
    await _unpaid(tx, config, table, payment, f"payment.{status}")


async def _unpaid(
    tx: Tx, config: OrderingConfig, table: DiningTable, payment: ProviderPayment, event: str
) -> None:
    change: dict[str, Any] = {"amount": payment.amount, "purpose": payment.purpose}
    rnd = await tx.session.get(Round, payment.round_id) if payment.round_id else None
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


async def settled(
    config: OrderingConfig, tx: Tx, payment: ProviderPayment, succeeded: bool, now: datetime
) -> None:
    """The provider's verdict on a table payment (called once, by provider_payments.settle)."""
    ts = (
        await tx.session.get(TableSession, payment.table_session_id)
        if payment.table_session_id else None
    )
    table = await tx.session.get(DiningTable, ts.table_id) if ts else None
    if ts is None or table is None:
        if succeeded:
            await _refund(tx, payment.id, now)
        return
    if not succeeded:
        await _unpaid(tx, config, table, payment, "payment.failed")
        return
    touched = await tx.session.execute(
        update(TableSession)
        .where(TableSession.id == ts.id, TableSession.status == "open")
        .values(last_activity_at=now)
        .execution_options(synchronize_session=False)
    )
    if touched.rowcount != 1:
        # Settled or freed while the payer was at the checkout: nothing to pay for.
        await _refund(tx, payment.id, now)
        await _unpaid(tx, config, table, payment, "payment.refunded")
        return
    if payment.purpose == "round":
        await _round_paid(tx, config, table, payment, now)
    else:
        await _bill_paid(tx, config, table, ts, payment, now)


async def _round_paid(
    tx: Tx, config: OrderingConfig, table: DiningTable, payment: ProviderPayment, now: datetime
) -> None:
    rnd = await tx.session.get(Round, payment.round_id) if payment.round_id else None
    sent = None
    if rnd is not None:
        sent = await tx.session.scalar(
            update(Round)
            .where(Round.id == rnd.id, Round.status == AWAITING_PAYMENT)
            .values(status="to_validate", submitted_at=now, updated_at=now)
            .returning(Round.number)
        )
    if sent is None:
        await _refund(tx, payment.id, now)  # its round is gone: the money goes back
        await table_changed(tx, config, table.id, table.site_id, "payment.refunded",
                            {"amount": payment.amount, "purpose": "round"})
        return
    await tx.session.refresh(rnd)
    await table_changed(
        tx, config, table.id, table.site_id, "round.paid",
        {"round": sent, "amount": payment.amount},
    )


async def _bill_paid(
    tx: Tx, config: OrderingConfig, table: DiningTable, ts: TableSession,
    payment: ProviderPayment, now: datetime,
) -> None:
    rounds, paid = await rounds_and_paid(tx.session, ts.id)
    settles = bill(rounds, paid).due == 0 and not any(s == "to_validate" for s, _ in rounds)
    if settles:
        await tx.session.execute(
            update(TableSession)
            .where(TableSession.id == ts.id, TableSession.status == "open")
            .values(status="settled", settled_at=now)
            .execution_options(synchronize_session=False)
        )
        await tx.session.refresh(ts)
    await table_changed(
        tx, config, table.id, table.site_id, "session.settled" if settles else "payment.succeeded",
        {"amount": payment.amount, "method": "online", "purpose": "bill"},
    )


async def _refund(tx: Tx, payment_id: int, now: datetime) -> bool:
    """Hand a taken payment to the refund sweeper (machines/runtime.refund_due), once."""
    moved = await tx.session.execute(
        update(ProviderPayment)
        .where(ProviderPayment.id == payment_id, ProviderPayment.status == "succeeded")
        .values(status="refund_due", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return moved.rowcount == 1


async def round_refused(tx: Tx, round_id: int, now: datetime) -> bool:
    """Staff refused a round: what was paid for it goes back (once, however often asked)."""
    moved = await tx.session.execute(
        update(ProviderPayment)
        .where(
            ProviderPayment.round_id == round_id,
            ProviderPayment.purpose == "round",
            ProviderPayment.status == "succeeded",
        )
        .values(status="refund_due", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return moved.rowcount > 0


async def require_unpaid(tx: Tx, round_id: int) -> None:
    """A paid round's amount is what the diners paid: staff refuse it rather than edit it."""
    paid = await tx.session.scalar(
        select(ProviderPayment.id).where(
            ProviderPayment.round_id == round_id,
            ProviderPayment.purpose == "round",
            ProviderPayment.status == "succeeded",
        )
    )
    if paid is not None:
        raise PaidRound()


def register(config: OrderingConfig) -> None:
    """Table payments settle through this module, whichever way the verdict arrives."""

    async def settle(tx: Tx, payment: ProviderPayment, succeeded: bool, now: datetime) -> None:
        await settled(config, tx, payment, succeeded, now)

    for purpose in PURPOSES:
        provider_payments.on_settled(purpose, settle)
