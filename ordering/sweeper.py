"""Closes idle table sessions on a timer; safe to run in every process at once."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from ordering.config import OrderingConfig
from ordering.diner_service import expire_idle
from realtime.events import transaction
from web.state import AppState

log = logging.getLogger(__name__)


async def sweep_once(state: AppState, config: OrderingConfig) -> int:
    async with transaction(state.sessionmaker, state.bus) as tx:
        return await expire_idle(tx, config, datetime.now(UTC))


async def sweep_forever(state: AppState, config: OrderingConfig) -> None:
    while True:
        await asyncio.sleep(state.settings.sweep_interval_s)
        try:
            await sweep_once(state, config)
        except Exception:
            log.exception("idle session sweep failed")
