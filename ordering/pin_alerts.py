"""Staff and the PIN alert: lifting the slowdown wrong PINs put on a table."""

from __future__ import annotations

from accounts.roles import Permission
from accounts.service import StaffIdentity
from ordering import pin
from ordering.config import OrderingConfig
from ordering.models import DiningTable
from ordering.publishing import table_changed
from ordering.staff_service import staff_table
from realtime.events import Tx
from web import ratelimit


async def lift(
    tx: Tx, config: OrderingConfig, staff: StaffIdentity, table_id: object
) -> DiningTable:
    """Forget the table's wrong PINs: anyone may try the PIN again at once (each phone
    keeps its own count). The POS hears of it when the table was slowed."""
    staff.require(Permission.LIFT_PIN_LIMIT)
    table = await staff_table(tx, staff, table_id)
    rule = pin.table_rule(config)
    if await ratelimit.lift(tx.session, rule.scope, str(table.id)) >= rule.limit:
        await table_changed(tx, config, table.id, table.site_id, "pin.lifted", {})
    return table
