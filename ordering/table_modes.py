"""Table modes: a site's default and a table's own setting (menu only, or ordering)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from accounts.models import Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import on_site, site_for
from domain import audit
from errors import N_, InvalidInput
from ordering.config import OrderingConfig
from ordering.models import DiningTable
from ordering.publishing import table_changed
from realtime.events import Tx

# Paying from the phone goes through the payment provider: ordering/payment_service.py.
MODES = ("menu", "order", "order_and_pay", "pay_only")


class BadMode(InvalidInput):
    """The table mode is not one of menu, order (or null for a table, to follow the site)."""

    code = "bad_mode"
    message = N_("Unknown table mode.")


async def set_site_mode(
    tx: Tx, config: OrderingConfig, staff: StaffIdentity, site_id: int, mode: str
) -> Site:
    """Set the whole site at once (a mode of MODES); tables with their own mode keep it."""
    staff.require(Permission.CONFIGURE)
    site = await site_for(tx.session, staff, site_id)
    if site.mode_chosen_at is None:
        site.mode_chosen_at = datetime.now(UTC)  # chosen, even if the default is kept
    if site.table_mode == mode:
        await tx.session.flush()
        return site
    await audit.record(tx, staff.id, site.company_id, "site.mode", f"{site.name} (#{site.id})",
                       {"table_mode": [site.table_mode, str(mode)]})
    site.table_mode = str(mode)
    await tx.session.flush()
    tables = (
        await tx.session.scalars(
            select(DiningTable).where(DiningTable.site_id == site.id, DiningTable.mode.is_(None))
        )
    ).all()
    for table in tables:
        await table_changed(
            tx, config, table.id, site.id, "table.mode", {"mode": mode}, pos=False
        )
    return site


async def set_table_mode(
    tx: Tx, config: OrderingConfig, staff: StaffIdentity, table_id: int, mode: str | None
) -> DiningTable:
    """Set one table's mode (of MODES), or None to follow the site's."""
    staff.require(Permission.CONFIGURE)
    table = await on_site(tx.session, staff, DiningTable, table_id)
    if table.mode != mode:
        table.mode = mode
        await tx.session.flush()
        await table_changed(
            tx, config, table.id, table.site_id, "table.mode", {"mode": mode}, pos=False
        )
    return table
