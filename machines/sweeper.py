"""The machines' timers: machines that went quiet, brews that stalled or were never paid."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from machines import device_service
from machines.device_service import Timeouts
from realtime.bus import Bus
from realtime.events import run
from settings import Settings

log = logging.getLogger(__name__)


def timeouts(settings: Settings) -> Timeouts:
    return Timeouts(
        offline_after_s=settings.machine_offline_after_s,
        accept_s=settings.brew_accept_timeout_s,
        stall_s=settings.brew_stall_timeout_s,
        payment_s=settings.brew_payment_timeout_s,
    )


async def sweep_once(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, settings: Settings,
    now: datetime | None = None,
) -> None:
    moment = now or datetime.now(UTC)
    await run(sessionmaker, bus, lambda tx: device_service.sweep(tx, timeouts(settings), moment))
