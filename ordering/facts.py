"""What ordering tells other rooms: rounds sent, validated or refused; tables settled, freed.

Recorded in the transaction of the change itself (domain/outbox.py), with the company and
its currency, so a listener (loyalty, dashboards) never has to ask ordering back.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, select

from domain.events import (
    PaidPart,
    RoundRefused,
    RoundSubmitted,
    RoundValidated,
    SoldLine,
    TableFreed,
    TableSettled,
)
from domain.outbox import record
from ordering.models import DiningTable, OrderLine, Product, Round, TableSession
from ordering.payment_views import LINE_AMOUNT, paid_online
from ordering.table_payment import UNBILLED
from ordering.views import company_of_site
from realtime.events import Tx


async def round_submitted(
    tx: Tx, table: DiningTable, rnd: Round, *, member_id: int | None = None,
    staff_id: int | None = None, paid_online: bool = False,
) -> None:
    company = await company_of_site(tx.session, table.site_id)
    total = await tx.session.scalar(
        select(func.coalesce(func.sum(LINE_AMOUNT), 0)).where(OrderLine.round_id == rnd.id)
    )
    await record(tx, RoundSubmitted(
        company_id=company.id, site_id=table.site_id, table_id=table.id,
        session_id=rnd.session_id, round_id=rnd.id, number=rnd.number, total=int(total or 0),
        currency=company.currency, member_id=member_id, staff_id=staff_id,
        paid_online=paid_online,
    ))


async def round_validated(
    tx: Tx, table: DiningTable, rnd: Round, staff_id: int, stations: list[str]
) -> None:
    company = await company_of_site(tx.session, table.site_id)
    await record(tx, RoundValidated(
        company_id=company.id, site_id=table.site_id, table_id=table.id,
        session_id=rnd.session_id, round_id=rnd.id, number=rnd.number, staff_id=staff_id,
        stations=stations,
    ))


async def round_refused(
    tx: Tx, table: DiningTable, rnd: Round, staff_id: int, reason: str
) -> None:
    company = await company_of_site(tx.session, table.site_id)
    await record(tx, RoundRefused(
        company_id=company.id, site_id=table.site_id, table_id=table.id,
        session_id=rnd.session_id, round_id=rnd.id, number=rnd.number, staff_id=staff_id,
        reason=reason,
    ))


async def table_settled(
    tx: Tx, table: DiningTable, ts: TableSession, amount: int,
    method: Literal["cash", "card", "online"], staff_id: int | None, *, at_till: bool = False,
) -> None:
    """`amount`: the whole bill, whatever part of it was paid from phones before; the
    event carries its lines (by product) and its parts (paid from phones, then `method`),
    and the customer the diners linked: this event alone names them, even when the bill
    was paid at a till (its ticket names no customer), so the visit earns once."""
    company = await company_of_site(tx.session, table.site_id)
    await record(tx, TableSettled(
        company_id=company.id, site_id=table.site_id, table_id=table.id, session_id=ts.id,
        amount=amount, currency=company.currency, method=method, staff_id=staff_id,
        lines=await _billed_lines(tx, ts.id), payments=await _parts(tx, ts.id, amount, method),
        opened_at=ts.opened_at, at_till=at_till, customer_id=ts.customer_id,
    ))


async def _billed_lines(tx: Tx, session_id: int) -> list[SoldLine]:
    """The bill's lines added up by product (rounds refused or still being paid are not on
    it)."""
    rows = (await tx.session.execute(
        select(Product.id, Product.category_id, Product.name, Product.station,
               func.sum(OrderLine.quantity), func.sum(LINE_AMOUNT))
        .join(OrderLine, OrderLine.product_id == Product.id)
        .join(Round, Round.id == OrderLine.round_id)
        .where(Round.session_id == session_id, Round.status.not_in(UNBILLED))
        .group_by(Product.id, Product.category_id, Product.name, Product.station)
        .order_by(Product.id)
    )).all()
    return [SoldLine(product_id=product_id, category_id=category_id, name=name,
                     quantity=int(quantity), amount=int(total), station=station)
            for product_id, category_id, name, station, quantity, total in rows
            if quantity]


async def _parts(tx: Tx, session_id: int, amount: int,
                 method: Literal["cash", "card", "online"]) -> list[PaidPart]:
    """What phones paid (online), and the rest by the method that settled it."""
    online = amount if method == "online" else min(amount, await paid_online(tx.session,
                                                                               session_id))
    parts = [PaidPart(method="online", amount=online)] if online else []
    if amount - online:
        parts.append(PaidPart(method=method, amount=amount - online))
    return parts


async def table_freed(
    tx: Tx, table: DiningTable, ts: TableSession, reason: Literal["freed", "idle"],
    settled: bool, staff_id: int | None = None,
) -> None:
    company = await company_of_site(tx.session, table.site_id)
    await record(tx, TableFreed(
        company_id=company.id, site_id=table.site_id, table_id=table.id, session_id=ts.id,
        reason=reason, settled=settled, staff_id=staff_id, opened_at=ts.opened_at,
    ))
