"""Reading chained records back with their legal fields, a till (or a period) at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pos import chain
from pos.journal import entry_fields
from pos.legal import closing_fields, link_fields, ticket_fields
from pos.models import (
    ChainLink,
    Closing,
    JournalEntry,
    Ticket,
    TicketLine,
    TicketPayment,
    TicketTax,
)

CHUNK = 500


@dataclass(frozen=True)
class Chained:
    """A link as stored, with the fields recomputed from its record (None: record gone)."""

    entry: chain.Entry
    ticket: Ticket | None
    closing: Closing | None


async def till_chain(
    session: AsyncSession, till_id: int, *, start: datetime | None = None,
    end: datetime | None = None,
) -> list[Chained]:
    statement = select(ChainLink).where(ChainLink.till_id == till_id)
    if start is not None:
        statement = statement.where(ChainLink.recorded_at >= start)
    if end is not None:
        statement = statement.where(ChainLink.recorded_at < end)
    links = (await session.scalars(statement.order_by(ChainLink.position))).all()
    tickets = await _tickets(session, [link.ticket_id for link in links if link.ticket_id])
    closing_ids = [link.closing_id for link in links if link.closing_id]
    closings = {c.id: c for c in (await session.scalars(
        select(Closing).where(Closing.id.in_(closing_ids)))).all()} if closing_ids else {}
    out = []
    for link in links:
        ticket = tickets.get(link.ticket_id) if link.ticket_id else None
        closing = closings.get(link.closing_id) if link.closing_id else None
        record: dict[str, Any] = (
            ticket[1] if ticket else closing_fields(closing) if closing else {"record": None}
        )
        out.append(Chained(
            chain.Entry(link.position, link_fields(link, record), link.previous_hash,
                        link.hash),
            ticket[0] if ticket else None, closing,
        ))
    return out


async def journal_chain(
    session: AsyncSession, company_id: int, *, start: datetime | None = None,
    end: datetime | None = None,
) -> list[chain.Entry]:
    statement = select(JournalEntry).where(JournalEntry.company_id == company_id)
    if start is not None:
        statement = statement.where(JournalEntry.recorded_at >= start)
    if end is not None:
        statement = statement.where(JournalEntry.recorded_at < end)
    entries = (await session.scalars(statement.order_by(JournalEntry.position))).all()
    return [chain.Entry(e.position, entry_fields(e), e.previous_hash, e.hash) for e in entries]


async def _tickets(
    session: AsyncSession, ids: Sequence[int]
) -> dict[int, tuple[Ticket, dict[str, Any]]]:
    found: dict[int, tuple[Ticket, dict[str, Any]]] = {}
    for at in range(0, len(ids), CHUNK):
        chunk = ids[at:at + CHUNK]
        tickets = (await session.scalars(select(Ticket).where(Ticket.id.in_(chunk)))).all()
        lines = await _by_ticket(session, TicketLine, chunk)
        taxes = await _by_ticket(session, TicketTax, chunk)
        payments = await _by_ticket(session, TicketPayment, chunk)
        corrected_ids = [t.corrects_id for t in tickets if t.corrects_id]
        uuids = dict((await session.execute(select(Ticket.id, Ticket.uuid).where(
            Ticket.id.in_(corrected_ids)))).all()) if corrected_ids else {}
        for ticket in tickets:
            found[ticket.id] = (ticket, ticket_fields(
                ticket, lines.get(ticket.id, []), taxes.get(ticket.id, []),
                payments.get(ticket.id, []),
                uuids.get(ticket.corrects_id) if ticket.corrects_id else None,
            ))
    return found


async def _by_ticket(
    session: AsyncSession, model: type[Any], ids: Sequence[int]
) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in (await session.scalars(select(model).where(model.ticket_id.in_(ids)))).all():
        grouped.setdefault(row.ticket_id, []).append(row)
    return grouped
