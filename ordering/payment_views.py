"""What the table's and the POS's views show of the payments made from phones.

Apart from ordering/payment_service.py so that ordering/views.py can read it without
importing the services (which publish through the views).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ordering.models import OrderLine, Round
from payments.models import ProviderPayment
from payments.payment_state import PaymentStatus

# Money: from the lines, never from the client.
LINE_AMOUNT = OrderLine.quantity * OrderLine.unit_price


async def paid_online(session: AsyncSession, session_id: int) -> int:
    paid = await session.scalar(
        select(func.coalesce(func.sum(ProviderPayment.amount), 0)).where(
            ProviderPayment.table_session_id == session_id,
            ProviderPayment.status == PaymentStatus.SUCCEEDED,
        )
    )
    return int(paid or 0)


def payment_state(payments: Iterable[Any]) -> dict[str, Any]:
    """Paid online (and not refunded), and the payment in progress if any.

    `payments`: the session's pending and succeeded payments, rows with `id`, `status`,
    `purpose`, `amount`, `round_id`, `checkout_url` and `created_at` (read with the rest
    of the table's view, ordering/table_view.py).
    """
    rows = list(payments)
    pending = next((p for p in rows if p.status == PaymentStatus.PENDING), None)
    return {
        "paid": sum(p.amount for p in rows if p.status == PaymentStatus.SUCCEEDED),
        "payment": None if pending is None else {
            "id": pending.id,
            "purpose": pending.purpose,
            "amount": pending.amount,
            "round_id": pending.round_id,
            "checkout_url": pending.checkout_url,
            "started_at": pending.created_at.isoformat(),
        },
    }


async def rounds_and_paid(
    session: AsyncSession, session_id: int
) -> tuple[list[tuple[str, int]], int]:
    """Each round's status and total, and what was paid online: what a bill is made of."""
    totals = (
        await session.execute(
            select(Round.status, func.coalesce(func.sum(LINE_AMOUNT), 0))
            .outerjoin(OrderLine, OrderLine.round_id == Round.id)
            .where(Round.session_id == session_id)
            .group_by(Round.id, Round.status)
        )
    ).all()
    return [(status, int(total)) for status, total in totals], await paid_online(
        session, session_id
    )
