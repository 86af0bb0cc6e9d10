"""A table session linked to a customer's loyalty account: a diner signed in on their phone
collects the table's points ("Collect my points"), or the cashier names them when the bill
is paid at a till. The table's settlement then names the customer (`TableSettled`), and
loyalty awards the bill's points once (loyalty/hearing.py)."""

from __future__ import annotations

from sqlalchemy import update

from loyalty import service as loyalty_service
from ordering.config import OrderingConfig
from ordering.diner_service import table_access
from ordering.errors import CustomerAlreadyLinked, CustomerSignInNeeded, SessionEnded
from ordering.models import TableSession
from ordering.session_state import SessionStatus
from ordering.table_lock import Access
from realtime.events import Tx


async def link(tx: Tx, ts: TableSession, customer_id: int) -> None:
    """Name the customer on the open session, once: a conditional update, so that of two
    diners linking at once one wins and the other is told. The same customer again: done."""
    if ts.customer_id == customer_id:
        return
    taken = await tx.session.scalar(
        update(TableSession)
        .where(TableSession.id == ts.id, TableSession.customer_id.is_(None),
               TableSession.status == SessionStatus.OPEN)
        .values(customer_id=customer_id)
        .returning(TableSession.id)
        .execution_options(synchronize_session=False)
    )
    await tx.session.refresh(ts)
    if taken is None and ts.customer_id != customer_id:
        if ts.status != SessionStatus.OPEN:
            raise SessionEnded()
        raise CustomerAlreadyLinked()


async def link_from_phone(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, consumer_id: int | None
) -> loyalty_service.Customer:
    """A member of the table's open session, signed in to their customer account of the
    venue's company, links the session to it; their points and rewards come back."""
    if consumer_id is None:
        raise CustomerSignInNeeded()
    found = await table_access(tx, config, token, device_key)
    ts = found.session
    if found.access is not Access.MEMBER or ts is None or ts.status != SessionStatus.OPEN:
        raise SessionEnded()
    customer = await loyalty_service.customer(tx, found.header.company_id, consumer_id)
    await link(tx, ts, consumer_id)
    return customer
