"""Regular recharges of user groups, run on a timer by every process, once per period.

Claiming a period is an insert of (group, period) that does nothing when the row exists:
of several processes, exactly one claims it, and each member's credit carries a key of
its own, so even a claim retried after a crash cannot credit twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from accounts.models import Company
from customers import credit
from customers.ledger import Kind, recharge_key
from customers.models import GroupMember, RechargeRun, UserGroup
from customers.schedule import current_period
from realtime.events import Tx


async def run_due(tx: Tx, now: datetime) -> int:
    """Recharge every group whose current period has not run yet; returns credits made."""
    session = tx.session
    groups = (
        await session.execute(
            select(UserGroup, Company.timezone)
            .join(Company, Company.id == UserGroup.company_id)
            .where(UserGroup.recharge_every.is_not(None), UserGroup.recharge_amount > 0)
        )
    ).all()
    made = 0
    for group, tz in groups:
        assert group.recharge_every is not None
        period, _ = current_period(group.recharge_every, group.recharge_at, tz, now)
        claimed = await session.scalar(
            credit.insert_for(session)(RechargeRun)
            .values(group_id=group.id, period=period, ran_at=now)
            .on_conflict_do_nothing(index_elements=[RechargeRun.group_id, RechargeRun.period])
            .returning(RechargeRun.id)
        )
        if claimed is None:
            continue  # this period ran already, here or in another process
        members = (
            await session.scalars(
                select(GroupMember.consumer_id).where(GroupMember.group_id == group.id)
            )
        ).all()
        for consumer_id in members:
            posted = await credit.post(
                tx, consumer_id, group.recharge_amount, Kind.RECHARGE,
                recharge_key(group.id, period, consumer_id), note=group.name,
            )
            made += 0 if posted.duplicate else 1
    return made
