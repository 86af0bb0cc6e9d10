"""Table modes: a site's default and a table's own setting (menu only, or ordering)."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Site
from accounts.roles import Permission, require
from accounts.service import StaffIdentity
from accounts.tenant import on_site, site_for
from errors import N_, InvalidInput
from ordering.config import OrderingConfig
from ordering.models import DiningTable
from ordering.publishing import table_changed
from realtime.events import Tx

# Paying from the phone goes through the payment provider: ordering/payment_service.py.
MODES = ("menu", "order", "order_and_pay", "pay_only")


class BadMode(InvalidInput):
    code = "bad_mode"
    message = N_("Unknown table mode.")


def _check(mode: object, *, allow_inherit: bool) -> str | None:
    if mode is None and allow_inherit:
        return None
    if mode not in MODES:
        raise BadMode()
    return str(mode)


async def set_site_mode(
    tx: Tx, config: OrderingConfig, staff: StaffIdentity, site_id: object, mode: object
) -> Site:
    """Set the whole site at once; tables with their own mode keep it."""
    require(staff.role, Permission.CONFIGURE)
    value = _check(mode, allow_inherit=False)
    site = await site_for(tx.session, staff, site_id)
    if site.table_mode == value:
        return site
    site.table_mode = str(value)
    await tx.session.flush()
    tables = (
        await tx.session.scalars(
            select(DiningTable).where(DiningTable.site_id == site.id, DiningTable.mode.is_(None))
        )
    ).all()
    for table in tables:
        await table_changed(
            tx, config, table.id, site.id, "table.mode", {"mode": value}, pos=False
        )
    return site


async def set_table_mode(
    tx: Tx, config: OrderingConfig, staff: StaffIdentity, table_id: object, mode: object
) -> DiningTable:
    """Set one table's mode, or None to follow the site's."""
    require(staff.role, Permission.CONFIGURE)
    value = _check(mode, allow_inherit=True)
    table = await on_site(tx.session, staff, DiningTable, table_id)
    if table.mode != value:
        table.mode = value
        await tx.session.flush()
        await table_changed(
            tx, config, table.id, table.site_id, "table.mode", {"mode": value}, pos=False
        )
    return table
