"""Setting up a site's tables: add one or a range, rename, archive, a new token, QR printed.

A table's token is what its QR code holds: a new one makes the old code open nothing at
once (the diners' routes look tables up by token). An archived table keeps its sessions and
rounds; its token opens nothing and it leaves the POS and the QR sheet. Every change needs
the configure permission; archives and new tokens are written to the audit log.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy import func, or_, select

from accounts.models import Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import on_site, site_for
from domain import audit
from errors import N_, Conflict, InvalidInput
from ordering.models import DiningTable, TableSession
from ordering.table_ranges import MAX_LABEL, table_range
from realtime.events import Tx
from web.commands import Collapsed, Command, Invalid


class BadLabel(InvalidInput):
    """A table's label is blank or over 40 characters."""

    code = "bad_label"
    message = N_("Give the table a name of 1 to %(most)s characters.")


class BadRoom(InvalidInput):
    """A room (or profit centre) name is over 60 characters."""

    code = "bad_room"
    message = N_("A room's name has at most %(most)s characters.")


class LabelTaken(InvalidInput):
    """Another table of the site (not archived) already has this label."""

    code = "label_taken"
    message = N_("Another table of this site is already called %(label)s.")


class TableInUse(Conflict):
    """The table has an open session: settle and free it before archiving it."""

    code = "table_in_use"
    message = N_("This table is in use: free it before archiving it.")


Label = Annotated[Collapsed, Field(min_length=1, max_length=MAX_LABEL),
                  Invalid(BadLabel, most=MAX_LABEL)]
Room = Annotated[Collapsed, Field(max_length=60), Invalid(BadRoom, most=60)]


class NewTable(Command):
    label: Label
    room: Room = ""


class NewTables(Command):
    range: Annotated[Collapsed, Field(max_length=100)]  # read by table_range
    room: Room = ""


class TableChange(Command):
    label: Label
    room: Room = ""


def new_token() -> str:
    return secrets.token_urlsafe(16)


PAGE_SIZE = 50  # tables a page of the back office lists


@dataclass(frozen=True)
class TablePage:
    site: Site
    rows: Sequence[DiningTable]
    total: int
    page: int
    pages: int


async def site_tables(
    tx: Tx, staff: StaffIdentity, site_id: object, room: str | None = None,
    archived: bool = False, search: str = "", page: int = 1,
) -> TablePage:
    """The site and a page of its tables in floor order (of one room; the archived ones
    instead), those whose label or room holds `search` when given."""
    site = await site_for(tx.session, staff, site_id)
    query = select(DiningTable).where(
        DiningTable.site_id == site.id,
        DiningTable.archived_at.is_not(None) if archived else DiningTable.archived_at.is_(None),
    )
    if room is not None:
        query = query.where(DiningTable.room == room)
    words = search.strip().lower().replace("%", "").replace("_", "")
    if words:
        like = f"%{words}%"
        query = query.where(or_(func.lower(DiningTable.label).like(like),
                                func.lower(DiningTable.room).like(like)))
    total = await tx.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = (await tx.session.scalars(
        query.order_by(DiningTable.position, DiningTable.id)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))).all()
    return TablePage(site, rows, total, page, pages)


async def rooms(tx: Tx, site_id: int) -> list[str]:
    """The rooms of the site's tables, by name."""
    found = await tx.session.scalars(
        select(DiningTable.room).where(DiningTable.site_id == site_id,
                                       DiningTable.archived_at.is_(None)).distinct())
    return sorted(found)


async def _taken(tx: Tx, site_id: int, labels: list[str], but: int | None = None) -> None:
    query = select(DiningTable.label).where(
        DiningTable.site_id == site_id, DiningTable.archived_at.is_(None),
        func.lower(DiningTable.label).in_([label.lower() for label in labels]))
    if but is not None:
        query = query.where(DiningTable.id != but)
    clash = await tx.session.scalar(query.limit(1))
    if clash is not None:
        error = LabelTaken(label=clash)
        error.field = "label"
        raise error


async def add_tables(
    tx: Tx, staff: StaffIdentity, site_id: object, labels: list[str], room: str,
) -> list[DiningTable]:
    """New tables after the site's last one, each with its own token."""
    site = await site_for(tx.session, staff, site_id)
    staff.require(Permission.CONFIGURE)
    if len({label.lower() for label in labels}) != len(labels):
        raise LabelTaken(label=labels[0])
    await _taken(tx, site.id, labels)
    last = await tx.session.scalar(
        select(func.max(DiningTable.position)).where(DiningTable.site_id == site.id)) or 0
    tables = [DiningTable(site_id=site.id, label=label, room=room, token=new_token(),
                          position=last + offset)
              for offset, label in enumerate(labels, start=1)]
    tx.session.add_all(tables)
    await tx.session.flush()
    return tables


async def add_range(
    tx: Tx, staff: StaffIdentity, site_id: object, new: NewTables,
) -> list[DiningTable]:
    return await add_tables(tx, staff, site_id, table_range(new.range), new.room)


async def _table(tx: Tx, staff: StaffIdentity, table_id: object) -> DiningTable:
    table = await on_site(tx.session, staff, DiningTable, table_id)
    staff.require(Permission.CONFIGURE)
    return table


async def change(tx: Tx, staff: StaffIdentity, table_id: object, new: TableChange) -> DiningTable:
    """Rename the table or move it to another room (its token, and QR code, stay)."""
    table = await _table(tx, staff, table_id)
    if table.archived_at is None:
        await _taken(tx, table.site_id, [new.label], but=table.id)
    before = {"label": table.label, "room": table.room}
    table.label, table.room = new.label, new.room
    site = await tx.session.get(Site, table.site_id)
    assert site is not None
    await audit.record(tx, staff.id, site.company_id, "table.change", f"table:{table.id}",
                       {"before": before, "after": {"label": table.label, "room": table.room}})
    return table


async def archive(tx: Tx, staff: StaffIdentity, table_id: object) -> DiningTable:
    """Archive a free table: its history stays, its QR code opens nothing any more."""
    table = await _table(tx, staff, table_id)
    if table.archived_at is not None:
        return table
    open_session = await tx.session.scalar(select(TableSession.id).where(
        TableSession.table_id == table.id, TableSession.closed_at.is_(None)))
    if open_session is not None:
        raise TableInUse()
    table.archived_at = datetime.now(UTC)
    site = await tx.session.get(Site, table.site_id)
    assert site is not None
    await audit.record(tx, staff.id, site.company_id, "table.archive", f"table:{table.id}",
                       {"label": table.label})
    return table


async def regenerate_token(tx: Tx, staff: StaffIdentity, table_id: object) -> DiningTable:
    """A new token: the printed QR code stops opening the table at once."""
    table = await _table(tx, staff, table_id)
    table.token = new_token()
    site = await tx.session.get(Site, table.site_id)
    assert site is not None
    await audit.record(tx, staff.id, site.company_id, "table.token", f"table:{table.id}",
                       {"label": table.label})
    return table


async def printed(tx: Tx, staff: StaffIdentity, site_id: object) -> Site:
    """Record that the site's QR codes were printed (the onboarding checklist reads it)."""
    site = await site_for(tx.session, staff, site_id)
    staff.require(Permission.PRINT)
    site.qr_printed_at = datetime.now(UTC)
    return site
