"""Closings: the X report (any time, journalled), the daily Z, monthly and yearly closings.

A closing is a record: signed with the company's key, entered in the chain of every till
of its site, and from then on its period takes no new record. A day closes only with every
record in: no till of the site may miss a number or hold sales waiting to sync.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company, Site
from domain import outbox
from domain.events import PeriodClosed
from payments.secret_box import SecretBox
from pos import chain, clock, keys
from pos.errors import (
    AlreadyClosed,
    NoTill,
    PeriodNotOver,
    PeriodsOpen,
    SalesWaiting,
    SequenceGap,
    UnknownTill,
)
from pos.journal import JournalKind, stamp, to_the_second, write
from pos.legal import closing_fields
from pos.models import Closing, Ticket, TicketPayment, TicketTax, Till
from pos.periods import bounds, local_day, month_span, year_span, zone_of
from pos.records import append_link
from pos.reports import Fact, cash_expected, missing_numbers, report
from pos.tills import chain_head, lock_till
from realtime.events import Tx


class TillSync(StrEnum):
    """A till as a day's Z sees it: all in, holding the Z back (it has not synced since the
    Z was asked for), or declared out of service for the day (the Z does not wait for it,
    nor for its missing numbers)."""

    IN = "in"
    WAITING = "waiting"
    OUT_OF_SERVICE = "out_of_service"


# The offline sync (pos/till_sync.py) tells it through `use_pending_sync`; until then every
# till is in.
PendingSync = Callable[[AsyncSession, Till, date], Awaitable[TillSync]]


async def _none_pending(_session: AsyncSession, _till: Till, _day: date) -> TillSync:
    return TillSync.IN


_pending: PendingSync = _none_pending


def use_pending_sync(check: PendingSync) -> None:
    global _pending
    _pending = check


@dataclass(frozen=True)
class CloseDay:
    uuid: uuid.UUID  # a retry with it returns the first closing
    company_id: int
    site_id: int
    day: date  # in the company's calendar
    staff_id: int
    counted_cash: int  # what the drawer holds, counted by staff (cents)


@dataclass(frozen=True)
class CloseMonth:
    uuid: uuid.UUID
    company_id: int
    site_id: int
    year: int
    month: int
    staff_id: int


@dataclass(frozen=True)
class CloseYear:
    uuid: uuid.UUID
    company_id: int
    site_id: int
    year: int
    staff_id: int


async def x_report(tx: Tx, company_id: int, site_id: int, staff_id: int) -> dict[str, Any]:
    """Today's totals so far (not a record; the journal notes that it was read)."""
    await _site(tx, company_id, site_id)
    zone = await zone_of(tx.session, company_id)
    today = local_day(clock.now(), zone)
    totals = report(await _facts(tx.session, site_id, *bounds(today, today, zone)))
    await write(tx, company_id, JournalKind.X_REPORT,
                {"day": today.isoformat(), "total_incl": totals["total_incl"]},
                site_id=site_id, staff_id=staff_id)
    return {"day": today.isoformat(), **totals}


async def close_day(tx: Tx, box: SecretBox, command: CloseDay) -> Closing:
    found = await _retry(tx, command.uuid, command.company_id)
    if found:
        return found
    tills = await _lock_tills(tx, command.company_id, command.site_id)
    zone = await zone_of(tx.session, command.company_id)
    if command.day > local_day(clock.now(), zone):
        raise PeriodNotOver()
    await _refuse_closed(tx, command.site_id, "day", command.day)
    waiting = []
    for till in tills:
        state = await _pending(tx.session, till, command.day)
        if state is TillSync.OUT_OF_SERVICE:
            continue
        numbers = (await tx.session.scalars(
            select(Ticket.sequence).where(Ticket.till_id == till.id))).all()
        missing = missing_numbers(numbers)
        if missing:
            raise SequenceGap(till=till.prefix, numbers=", ".join(map(str, missing[:20])))
        if state is TillSync.WAITING:
            waiting.append(till.prefix)
    if waiting:
        raise SalesWaiting(till=", ".join(waiting))
    start, end = bounds(command.day, command.day, zone)
    totals = report(await _facts(tx.session, command.site_id, start, end))
    expected = cash_expected(totals)
    totals["cash"] = {"expected": expected, "counted": command.counted_cash,
                      "difference": command.counted_cash - expected}
    return await _close(tx, box, tills, command.uuid, command.company_id, command.site_id,
                        "day", command.day, command.day, command.staff_id, totals, end)


async def close_month(tx: Tx, box: SecretBox, command: CloseMonth) -> Closing:
    found = await _retry(tx, command.uuid, command.company_id)
    if found:
        return found
    first, last = month_span(command.year, command.month)
    return await _close_span(tx, box, command.uuid, command.company_id, command.site_id,
                             "month", first, last, command.staff_id)


async def close_year(tx: Tx, box: SecretBox, command: CloseYear) -> Closing:
    found = await _retry(tx, command.uuid, command.company_id)
    if found:
        return found
    first, last = year_span(command.year)
    return await _close_span(tx, box, command.uuid, command.company_id, command.site_id,
                             "year", first, last, command.staff_id)


async def _close_span(
    tx: Tx, box: SecretBox, key: uuid.UUID, company_id: int, site_id: int, kind: str,
    first: date, last: date, staff_id: int,
) -> Closing:
    tills = await _lock_tills(tx, company_id, site_id)
    zone = await zone_of(tx.session, company_id)
    if last >= local_day(clock.now(), zone):
        raise PeriodNotOver()
    await _refuse_closed(tx, site_id, kind, first)
    start, end = bounds(first, last, zone)
    # Each day (for a month) or month (for a year) that has records is closed first.
    inner = "day" if kind == "month" else "month"
    moments = (await tx.session.scalars(select(Ticket.created_at).where(
        Ticket.site_id == site_id, Ticket.created_at >= start, Ticket.created_at < end))).all()
    wanted = {_period_start(inner, local_day(at, zone)) for at in moments}
    closed = set((await tx.session.scalars(select(Closing.period_start).where(
        Closing.site_id == site_id, Closing.kind == inner,
        Closing.period_start >= first, Closing.period_start <= last))).all())
    still_open = sorted(wanted - closed)
    if still_open:
        raise PeriodsOpen(periods=", ".join(
            day.isoformat()[:7] if inner == "month" else day.isoformat() for day in still_open))
    totals = report(await _facts(tx.session, site_id, start, end))
    return await _close(tx, box, tills, key, company_id, site_id, kind, first, last,
                        staff_id, totals, end)


def _period_start(kind: str, day: date) -> date:
    return day if kind == "day" else day.replace(day=1)


async def _close(
    tx: Tx, box: SecretBox, tills: list[Till], key: uuid.UUID, company_id: int,
    site_id: int, kind: str, first: date, last: date, staff_id: int,
    totals: dict[str, Any], end: datetime,
) -> Closing:
    """Sign the closing, enter it in each till's chain, journal it and tell it."""
    now = to_the_second(clock.now())
    perpetual, absolute = (await tx.session.execute(
        select(func.coalesce(func.sum(Ticket.total_incl), 0),
               func.coalesce(func.sum(func.abs(Ticket.total_incl)), 0))
        .where(Ticket.site_id == site_id, Ticket.training.is_(False), Ticket.created_at < end)
    )).one()
    heads = []
    for till in tills:
        position, head = await chain_head(tx, till.id)
        heads.append({"till_id": till.id, "till": till.prefix, "position": position,
                      "hash": head})
    company = await tx.session.get(Company, company_id)
    assert company is not None
    body = {
        "record": "closing", "uuid": str(key), "company_id": company_id, "site_id": site_id,
        "kind": kind, "period_start": first.isoformat(), "period_end": last.isoformat(),
        "at": stamp(now), "staff_id": staff_id, "currency": company.currency,
        "report": totals,
        "grand_total": {"period": totals["total_incl"], "perpetual": int(perpetual),
                        "perpetual_absolute": int(absolute)},
        "chains": heads,
    }
    signing_key = await keys.company_key(tx, box, company_id)
    signed = chain.canonical(body)
    closing = Closing(
        uuid=str(key), company_id=company_id, site_id=site_id, kind=kind,
        period_start=first, period_end=last, created_at=now, staff_id=staff_id,
        body=signed.decode("utf-8"), key_id=signing_key.id,
        signature=keys.sign(box, signing_key, signed),
    )
    tx.session.add(closing)
    await tx.session.flush()
    for till in tills:
        await append_link(tx, till, closing_fields(closing), now, closing_id=closing.id)
    await write(tx, company_id, JournalKind.CLOSING,
                {"closing": closing.uuid, "kind": kind, "period_start": first.isoformat(),
                 "period_end": last.isoformat(), "total_incl": totals["total_incl"]},
                site_id=site_id, staff_id=staff_id, now=now)
    await outbox.record(tx, PeriodClosed(
        company_id=company_id, site_id=site_id, closing_id=closing.id, kind=kind,
        period_start=first.isoformat(), period_end=last.isoformat(),
        total=totals["total_incl"], currency=company.currency,
    ))
    return closing


async def _retry(tx: Tx, key: uuid.UUID, company_id: int) -> Closing | None:
    closing = await tx.session.scalar(select(Closing).where(Closing.uuid == str(key)))
    if closing is not None and closing.company_id != company_id:
        raise AlreadyClosed()
    return closing


async def _site(tx: Tx, company_id: int, site_id: int) -> Site:
    site = await tx.session.get(Site, site_id)
    if site is None or site.company_id != company_id:
        raise UnknownTill()
    return site


async def _lock_tills(tx: Tx, company_id: int, site_id: int) -> list[Till]:
    """Every till of the site, locked in id order (no deadlock between two closings)."""
    await _site(tx, company_id, site_id)
    ids = (await tx.session.scalars(
        select(Till.id).where(Till.site_id == site_id).order_by(Till.id))).all()
    if not ids:
        raise NoTill()
    return [await lock_till(tx, till_id) for till_id in ids]


async def _refuse_closed(tx: Tx, site_id: int, kind: str, first: date) -> None:
    """Closed once: by a closing of its own kind, or of a larger one that covers it."""
    kinds = ("day", "month", "year")
    done = await tx.session.scalar(select(Closing.id).where(
        Closing.site_id == site_id, Closing.kind.in_(kinds[kinds.index(kind):]),
        Closing.period_start <= first, Closing.period_end >= first).limit(1))
    if done is not None:
        raise AlreadyClosed()


async def _facts(
    session: AsyncSession, site_id: int, start: datetime, end: datetime
) -> list[Fact]:
    tickets = (await session.execute(
        select(Ticket, Till.prefix).join(Till, Till.id == Ticket.till_id)
        .where(Ticket.site_id == site_id, Ticket.created_at >= start, Ticket.created_at < end)
        .order_by(Ticket.id)
    )).all()
    ids = [ticket.id for ticket, _ in tickets]
    taxes: dict[int, list[tuple[int, int, int, int]]] = {}
    payments: dict[int, list[tuple[str, int]]] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for tax in (await session.scalars(
                select(TicketTax).where(TicketTax.ticket_id.in_(chunk)))).all():
            taxes.setdefault(tax.ticket_id, []).append(
                (tax.vat_rate, tax.total_excl, tax.total_vat, tax.total_incl))
        for paid in (await session.scalars(
                select(TicketPayment).where(TicketPayment.ticket_id.in_(chunk)))).all():
            payments.setdefault(paid.ticket_id, []).append((paid.method, paid.amount))
    return [
        Fact(prefix, ticket.sequence, ticket.kind, ticket.training, ticket.total_incl,
             ticket.total_excl, ticket.total_vat, ticket.discount, taxes.get(ticket.id, []),
             payments.get(ticket.id, []))
        for ticket, prefix in tickets
    ]
