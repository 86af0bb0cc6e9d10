"""What ordering tells other rooms: rounds sent, validated or refused; tables settled, freed.

Recorded in the transaction of the change itself (domain/outbox.py), with the company and
its currency, so a listener (loyalty, dashboards) never has to ask ordering back.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, select

from domain.events import (
    RoundRefused,
    RoundSubmitted,
    RoundValidated,
    TableFreed,
    TableSettled,
)
from domain.outbox import record
from ordering.models import DiningTable, OrderLine, Round, TableSession
from ordering.payment_views import LINE_AMOUNT
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
    method: Literal["cash", "card", "online"], staff_id: int | None,
) -> None:
    """`amount`: the whole bill, whatever part of it was paid from phones before."""
    company = await company_of_site(tx.session, table.site_id)
    await record(tx, TableSettled(
        company_id=company.id, site_id=table.site_id, table_id=table.id, session_id=ts.id,
        amount=amount, currency=company.currency, method=method, staff_id=staff_id,
    ))


async def table_freed(
    tx: Tx, table: DiningTable, ts: TableSession, reason: Literal["freed", "idle"],
    settled: bool, staff_id: int | None = None,
) -> None:
    company = await company_of_site(tx.session, table.site_id)
    await record(tx, TableFreed(
        company_id=company.id, site_id=table.site_id, table_id=table.id, session_id=ts.id,
        reason=reason, settled=settled, staff_id=staff_id,
    ))
