"""Tills: created for a site, each with its prefix and its own chain of records."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from accounts.models import Site
from db.engine import on_postgresql
from pos import chain, clock
from pos.errors import BadPrefix, PrefixTaken, TillRevoked, UnknownTill
from pos.journal import JournalKind, write
from pos.models import ChainLink, Till
from pos.printer_address import address_of
from realtime.events import Tx

PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")


@dataclass(frozen=True)
class NewTill:
    company_id: int
    site_id: int
    prefix: str  # "T2": opens its tickets' numbers
    name: str
    staff_id: int  # who creates it (journalled)


async def create_till(tx: Tx, command: NewTill) -> Till:
    prefix = command.prefix.strip().upper()
    if not PREFIX.match(prefix):
        raise BadPrefix()
    site = await tx.session.get(Site, command.site_id)
    if site is None or site.company_id != command.company_id:
        raise UnknownTill()
    taken = await tx.session.scalar(select(Till.id).where(
        Till.company_id == command.company_id, Till.prefix == prefix))
    if taken is not None:
        raise PrefixTaken(prefix=prefix)
    till = Till(company_id=command.company_id, site_id=command.site_id, prefix=prefix,
                name=command.name.strip()[:120])
    tx.session.add(till)
    await tx.session.flush()
    await write(tx, command.company_id, JournalKind.CONFIG_CHANGED,
                {"change": "till_created", "prefix": prefix, "name": till.name},
                site_id=till.site_id, till_id=till.id, staff_id=command.staff_id)
    return till


async def revoke_till(tx: Tx, company_id: int, till_id: int, staff_id: int) -> Till:
    """The till records nothing more; its records stay."""
    till = await tx.session.get(Till, till_id)
    if till is None or till.company_id != company_id:
        raise UnknownTill()
    if till.revoked_at is None:
        till.revoked_at = clock.now()
        await write(tx, company_id, JournalKind.TILL_REVOKED, {"prefix": till.prefix},
                    site_id=till.site_id, till_id=till.id, staff_id=staff_id)
    return till


async def tills_of_site(tx: Tx, site_id: int) -> list[Till]:
    return list((await tx.session.scalars(
        select(Till).where(Till.site_id == site_id).order_by(Till.id)
    )).all())


async def lock_till(tx: Tx, till_id: int, *, company_id: int | None = None) -> Till:
    """The till, locked for the rest of the transaction: appends to its chain queue here
    (FOR NO KEY UPDATE on PostgreSQL, which rows referring to the till do not wait for;
    SQLite's transactions begin IMMEDIATE, one writer at a time)."""
    statement = select(Till).where(Till.id == till_id).execution_options(populate_existing=True)
    if on_postgresql(tx.session):
        statement = statement.with_for_update(key_share=True)
    till = await tx.session.scalar(statement)
    if till is None or (company_id is not None and till.company_id != company_id):
        raise UnknownTill()
    return till


def refuse_revoked(till: Till) -> None:
    if till.revoked_at is not None:
        raise TillRevoked()


async def chain_head(tx: Tx, till_id: int) -> tuple[int, str]:
    """The last position of the till's chain and its hash: (0, GENESIS) when empty."""
    last = (await tx.session.execute(
        select(ChainLink.position, ChainLink.hash).where(ChainLink.till_id == till_id)
        .order_by(ChainLink.position.desc()).limit(1)
    )).first()
    return (last[0], last[1]) if last else (0, chain.GENESIS)


async def set_printer(tx: Tx, company_id: int, till_id: int, printer: str | None,
                      staff_id: int) -> Till:
    till = await tx.session.get(Till, till_id)
    if till is None or till.company_id != company_id:
        raise UnknownTill()
    printer = (printer or "").strip() or None
    if printer is not None:
        address_of(printer)  # BadPrinter when it is not an address
    if printer != till.printer:
        till.printer = printer
        await write(tx, company_id, JournalKind.CONFIG_CHANGED,
                    {"change": "printer", "prefix": till.prefix, "printer": printer},
                    site_id=till.site_id, till_id=till.id, staff_id=staff_id)
    return till


async def next_prefix(tx: Tx, company_id: int) -> str:
    """The first free "T<n>" of the company: what the form proposes."""
    taken = set((await tx.session.scalars(
        select(Till.prefix).where(Till.company_id == company_id))).all())
    return next(f"T{n}" for n in range(1, len(taken) + 2) if f"T{n}" not in taken)
