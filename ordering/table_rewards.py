"""A loyalty reward on a table's bill, as the bill and the table's end see it: what it
takes off, the lines it is reckoned on, and giving it back when the table closes unpaid.

A diner applies it from their phone (ordering/reward_service.py): loyalty takes the points
or the coupon under a key of this session (`loyalty_key`), and a `TableReward` row keeps
its discount, reckoned on the bill's lines when applied. What comes off the bill is that
discount capped at what is left to pay (`table_payment.Bill.discount`). When the session
closes without being settled (freed by staff, or idle), each reward still applied is given
back in that same transaction: a conditional update marks it given back once, and
loyalty's `give_back` is itself once per key.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import changed
from loyalty import service as loyalty_service
from loyalty.commands import Line
from ordering.models import OrderLine, Round, TableReward
from ordering.table_payment import UNBILLED
from realtime.events import Tx


def loyalty_key(session_id: int, client_key: str) -> str:
    """The key loyalty takes the reward under: the diner's key, scoped by the session (a
    client's key is unique for its own requests only), within 64 characters."""
    return f"table:{session_id}:{hashlib.sha256(client_key.encode()).hexdigest()[:32]}"


def _active(session_id: int) -> Select[TableReward]:
    return select(TableReward).where(TableReward.session_id == session_id,
                                     TableReward.given_back_at.is_(None))


async def active(session: AsyncSession, session_id: int) -> TableReward | None:
    """The reward applied to the session's bill and not given back (one at most)."""
    return await session.scalar(_active(session_id).order_by(TableReward.id).limit(1))


async def applied_discount(session: AsyncSession, session_id: int) -> int:
    """The discount of the reward applied to the session's bill, as applied (0: none)."""
    return int(await session.scalar(
        select(func.coalesce(func.sum(TableReward.discount), 0)).where(
            TableReward.session_id == session_id, TableReward.given_back_at.is_(None))
    ) or 0)


async def billed_lines(session: AsyncSession, session_id: int) -> list[Line]:
    """The bill's lines (rounds refused or still being paid are not on it), as loyalty
    reckons a reward on them."""
    rows = (await session.execute(
        select(OrderLine.product_id, OrderLine.unit_price, OrderLine.quantity)
        .join(Round, Round.id == OrderLine.round_id)
        .where(Round.session_id == session_id, Round.status.not_in(UNBILLED),
               OrderLine.quantity > 0)
        .order_by(OrderLine.id)
    )).all()
    return [Line(product_id=product_id, unit_price=price, quantity=quantity)
            for product_id, price, quantity in rows]


async def give_back(tx: Tx, company_id: int, reward: TableReward, now: datetime) -> bool:
    """Take the reward off the bill and give its points or coupon back, once: of two
    transactions giving it back at once, one marks it and gives back."""
    marked = changed(await tx.session.execute(
        update(TableReward)
        .where(TableReward.id == reward.id, TableReward.given_back_at.is_(None))
        .values(given_back_at=now)
        .execution_options(synchronize_session=False)
    ))
    if marked != 1:
        return False
    await loyalty_service.give_back(tx, company_id, reward.reward_key,
                                    None if reward.coupon else reward.consumer_id)
    await tx.session.refresh(reward)
    return True


async def give_back_all(tx: Tx, company_id: int, session_id: int, now: datetime) -> int:
    """The session closes without being settled: every reward still on its bill is given
    back, in the closing's own transaction. How many were."""
    rewards = (await tx.session.scalars(_active(session_id))).all()
    return sum([await give_back(tx, company_id, reward, now) for reward in rewards])
