"""The customers' timers: groups' regular recharges and the mail outbox."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from customers import recharge
from customers.mail import log_pending, send_pending
from realtime.bus import Bus
from realtime.events import run
from settings import Settings

log = logging.getLogger(__name__)


async def sweep_once(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, settings: Settings,
    now: datetime | None = None,
) -> None:
    moment = now or datetime.now(UTC)
    await run(sessionmaker, bus, lambda tx: recharge.run_due(tx, moment))
    if settings.smtp_url:
        await send_pending(sessionmaker, settings.smtp_url, settings.mail_from, moment)
    else:
        await log_pending(sessionmaker, moment)
