"""A loyalty reward on what a till sells: whether the one a sale names was really taken (a
counter sale's, with the customer's points or a coupon; a table bill's, applied from a
diner's phone), and giving one back when the cashier removes it from the ticket or
abandons the ticket.

Loyalty grants the reward (loyalty/service.py); the till's records say whether a sale used
it: a reward named by a recorded ticket is spent and is never given back, and one given
back is named by no sale (it would be recorded unverified, and flagged, when synced).
"""

from __future__ import annotations

from sqlalchemy import select

from errors import N_, Conflict
from loyalty import service as loyalty_service
from ordering.models import DiningTable, TableReward
from ordering.table_rewards import active
from ordering.table_view import session_detail
from ordering.views import active_session
from pos.models import Ticket, Till
from pos.tills import lock_till
from realtime.events import Tx


class RewardOnTicket(Conflict):
    """A recorded ticket already names this reward: it was used, and is not given back."""

    code = "reward_on_ticket"
    message = N_("This reward is on a recorded ticket: it was used and cannot be given back.")


class RewardOfTable(Conflict):
    """This reward is on a table's bill: the diner removes it from their phone, and it is
    given back if the table is freed unpaid."""

    code = "reward_of_table"
    message = N_("This reward is on a table's bill: it is removed from the diner's phone.")


async def on_ticket(tx: Tx, till: Till, reward_key: str) -> bool:
    """Whether a recorded ticket of the till's company names this reward's key."""
    return await tx.session.scalar(select(Ticket.id).where(
        Ticket.reward_key == reward_key, Ticket.company_id == till.company_id).limit(1)
    ) is not None


async def reward_taken(tx: Tx, till: Till, customer_id: int | None,
                       reward_key: str | None) -> bool:
    """Whether the customer named on the sale took a reward under this key, or a coupon
    was used under it (at this till's company), not given back, and no other ticket applied
    it: then what it takes off the ticket needs no approval, as loyalty granted it."""
    if not reward_key:
        return False
    taken = customer_id is not None and await loyalty_service.redeemed(
        tx.session, till.company_id, customer_id, reward_key) is not None
    if not taken and not await loyalty_service.coupon_used(tx.session, till.company_id,
                                                           reward_key):
        return False
    return not await on_ticket(tx, till, reward_key)


async def table_discount(tx: Tx, till: Till, table_id: int) -> tuple[TableReward, int] | None:
    """The reward on the open bill of this table of the till's site, and what it takes off
    the bill now (at most what is due); None when it has none."""
    table = await tx.session.get(DiningTable, table_id)
    if table is None or table.site_id != till.site_id:
        return None
    ts = await active_session(tx.session, table.id)
    reward = await active(tx.session, ts.id) if ts is not None else None
    if ts is None or reward is None:
        return None
    return reward, (await session_detail(tx.session, ts))["discount"]


async def verified(tx: Tx, till: Till, customer_id: int | None, table_id: int | None,
                   reward_key: str | None, discount: int) -> bool:
    """Whether the reward a sale names, for `discount` off, was granted: a counter sale's
    taken by its customer (or a coupon), a table bill's the one on that table's bill for
    what it takes off the bill now; in both, named by no other ticket."""
    if table_id is None:
        return await reward_taken(tx, till, customer_id, reward_key)
    found = await table_discount(tx, till, table_id)
    return found is not None and found[0].reward_key == reward_key \
        and found[1] == discount and not await on_ticket(tx, till, reward_key)


async def give_back(tx: Tx, till: Till, customer_id: int | None,
                    reward_key: str) -> loyalty_service.GivenBack:
    """The cashier removed the reward from the ticket, or abandoned the ticket: its points
    or coupon go back, unless a recorded ticket names it (the till's lock orders this with
    the sales it records) or it is a table's."""
    await lock_till(tx, till.id, company_id=till.company_id)
    if await on_ticket(tx, till, reward_key):
        raise RewardOnTicket()
    if await tx.session.scalar(select(TableReward.id).where(
            TableReward.reward_key == reward_key)) is not None:
        raise RewardOfTable()
    if customer_id is not None:
        await loyalty_service.consumer_of(tx.session, till.company_id, customer_id)
    return await loyalty_service.give_back(tx, till.company_id, reward_key, customer_id)
