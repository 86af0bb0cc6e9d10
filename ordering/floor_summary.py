"""A site's floor at a glance, for the back office's live day: its open tables and their
state, the rounds waiting for validation since when, and each production station's load
and its oldest ticket not yet ready. Read from the POS's own reading of the tables
(ordering/pos_tables.py) and one grouped query of the stations' tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site
from ordering.models import Ticket
from ordering.pos_tables import pos_tables
from ordering.round_state import RoundStatus, TicketStatus


@dataclass(frozen=True)
class OpenTable:
    id: int
    label: str
    state: str  # ordering/table_lock.py's table_state: ordering, to_validate, to_settle…
    members: int
    due: int  # minor units
    opened_at: str  # ISO, UTC


@dataclass(frozen=True)
class WaitingRound:
    table: str
    number: int
    submitted_at: str  # ISO, UTC: how long it has waited is counted from here


@dataclass(frozen=True)
class StationLoad:
    station: str
    in_progress: int  # tickets queued or in preparation
    ready: int  # made, not yet served
    oldest_at: str | None  # when the oldest ticket not yet ready reached the station


@dataclass(frozen=True)
class FloorSummary:
    site_id: int
    tables: int  # every table of the site
    open_tables: list[OpenTable]
    waiting: list[WaitingRound]  # oldest first
    stations: list[StationLoad]
    amber_after_min: int
    red_after_min: int


_NOT_READY = (TicketStatus.QUEUED, TicketStatus.IN_PREPARATION)


async def floor_summary(session: AsyncSession, site_id: int) -> FloorSummary:
    site = await session.get(Site, site_id)
    assert site is not None
    tables = await pos_tables(session, site_id)
    open_tables = [
        OpenTable(t.tile["id"], t.tile["label"], t.tile["state"], t.tile["members"],
                  t.tile["due"], t.tile["opened_at"])
        for t in tables if t.tile["session_id"] is not None
    ]
    waiting = sorted(
        (WaitingRound(t.tile["label"], r["number"], r["submitted_at"])
         for t in tables for r in t.rounds if r["status"] == RoundStatus.TO_VALIDATE),
        key=lambda w: w.submitted_at,
    )
    rows = (await session.execute(
        select(Ticket.station, Ticket.status, func.count(Ticket.id), func.min(Ticket.reached_at))
        .where(Ticket.site_id == site_id, Ticket.status != TicketStatus.SERVED)
        .group_by(Ticket.station, Ticket.status)
    )).all()
    loads: dict[str, tuple[int, int, datetime | None]] = {}
    for station, status, count, oldest in rows:
        busy, ready, since = loads.get(station, (0, 0, None))
        if status in _NOT_READY:
            busy += count
            since = oldest if since is None or oldest < since else since
        else:
            ready += count
        loads[station] = (busy, ready, since)
    stations = [
        StationLoad(name, busy, ready, since.isoformat() if since else None)
        for name, (busy, ready, since) in sorted(loads.items())
    ]
    return FloorSummary(site_id, len(tables), open_tables, waiting, stations,
                        site.ticket_amber_min, site.ticket_red_min)

