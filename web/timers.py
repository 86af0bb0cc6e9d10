"""Background jobs: a step run again and again, each failure logged, never fatal."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from telemetry import metrics

log = logging.getLogger(__name__)


async def every(interval_s: float, step: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `step` every `interval_s` seconds until cancelled (at shutdown).

    Every job is safe in every process at once: each of its changes is a conditional write
    or a unique claim in its own transaction, so there is no leader to elect."""
    took = metrics.JOB_DURATION.labels(what)
    while True:
        await asyncio.sleep(interval_s)
        started = time.perf_counter()
        try:
            await step()
        except Exception:
            metrics.JOB_RUNS.labels(what, "failed").inc()
            log.exception("%s failed", what)
        else:
            metrics.JOB_RUNS.labels(what, "ok").inc()
        took.observe(time.perf_counter() - started)
