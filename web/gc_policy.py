"""When the garbage collector looks at which objects: the server's policy.

CPython frees most objects by their reference counts; its cyclic collector only finds
reference cycles, by walking every object of the generations it collects while the event
loop waits. A full collection walks them all: with thousands of open websockets (each a
hundred or so objects in the server, Starlette and here) that is about 0.1 ms per socket,
a stall of every socket at once, which CPython repeats each time the long-lived heap has
grown by a quarter (a ramp of sockets makes a dozen, the last ones near a second long).

The policy:

1. **At start-up**, what the process keeps for its whole life and would otherwise make on
   first use (mapper configuration, compiled templates, locale data and catalogs, the
   database dialect's first connection) is made now (`warm_up`), then everything is
   collected and frozen (`gc.freeze`): moved where the collector never looks.
2. **After a slow full collection.** One that took longer than `slow_ms` means the
   long-lived heap has grown (sockets connected, caches filled). Its survivors are live
   by definition, so they are frozen at once: the next full collections walk only what
   came since, and stay short however many sockets stay open.
3. **Rarely, everything.** A frozen object that dies is still freed by its reference
   count, but a cycle among frozen objects stays until a collection that sees it: every
   closed socket leaves one (uvicorn's protocol and its transport, about fifty objects).
   When the frozen objects that died since everything was last collected amount to
   `turnover` of those frozen, the policy thaws them all, collects once, and freezes the
   survivors again: one long pause, so that such garbage stays bounded.
4. **Young collections on a clock.** CPython starts one when allocations outnumber
   deallocations by 700, and every deallocation counts, even of an old or frozen object.
   uvicorn's keepalive replaces each socket's ping timers (and websockets its frame parser)
   every 20 s: as many objects die as are made, the count stays put, and the young
   generation fills with every socket's new ones until a collection finally walks them all
   (15 ms for the youngest, 80 ms for the middle one at 15,000 sockets). Collected every
   second, the youngest holds one second's worth, and the middle one ten.

Every collection's pause is timed (`gc.callbacks`) and reported by /healthz, so that the
benchmark (bench/socket_memory.py) and operators can see them.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import deque
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import configure_mappers

from web.i18n import LOCALES, clock, money, when
from web.templating import environment

# How often to count the frozen objects: a walk over all of them, ~15 ms for two million
# (15,000 sockets), so not often; garbage piles up slowly anyway.
CHECK_S = 300.0
RECENT = 64  # full-collection pauses kept for /healthz
YOUNG_S = 1.0  # a young collection at least this often (rule 4)
MIDDLE_EVERY = 10  # and one of the middle generation every so many, as CPython does


async def warm_up(engine: AsyncEngine) -> None:
    """Make now what would otherwise be made on first use and kept for ever."""
    configure_mappers()
    for locale in LOCALES:
        templates = environment(locale)
        for name in templates.list_templates():
            templates.get_template(name)  # compiled once, cached by the environment
        # Loads the locale's number and date data (Babel keeps it per process).
        money(0, "EUR", locale)
        when("2000-01-01T00:00:00+00:00", locale)
        clock("2000-01-01T00:00:00+00:00", locale)
    async with engine.connect() as connection:  # the dialect learns the server on first use
        await connection.execute(text("SELECT 1"))


class GcPolicy:
    """Freezes what lives long, times every collection; see the module's docstring."""

    def __init__(self, slow_ms: float = 10.0, turnover: float = 0.25) -> None:
        self.slow_ms = slow_ms
        self.turnover = turnover
        self.collections = [0, 0, 0]
        self.young_pause_max_ms = 0.0
        self.full_pauses_ms: deque[float] = deque(maxlen=RECENT)
        self.freezes = 0
        self.thaws = 0
        self.frozen = 0  # counted at the last freeze or check
        self._expected = 0  # frozen now if none had died since everything was collected
        self._started: float | None = None
        self._thawing = False

    def start(self, freeze: bool = True) -> None:
        """Collect and freeze what start-up made (after warm_up), then watch collections.
        Without `freeze` (the tests' many short-lived apps) only the watching starts."""
        if freeze:
            gc.collect()
            gc.freeze()
            self.frozen = self._expected = gc.get_freeze_count()
            self.freezes += 1
        gc.callbacks.append(self._on_collection)

    def stop(self) -> None:
        """Leave the collector as it was: watching everything, untimed."""
        if self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)
        gc.unfreeze()

    async def run(self, every_s: float = CHECK_S, young_s: float = YOUNG_S) -> None:
        """Young collections on a clock (rule 4); now and then, the turnover check."""
        ticks = 0
        per_check = max(1, round(every_s / young_s))
        while True:
            await asyncio.sleep(young_s)
            ticks += 1
            gc.collect(1 if ticks % MIDDLE_EVERY == 0 else 0)
            if ticks % per_check == 0:
                self.check()

    def check(self) -> bool:
        """Thaw, collect everything and freeze again if enough frozen objects died."""
        self.frozen = gc.get_freeze_count()
        died = self._expected - self.frozen
        if died <= self.turnover * self._expected:
            return False
        self.thaw()
        return True

    def thaw(self) -> None:
        self._thawing = True
        try:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        finally:
            self._thawing = False
        self.frozen = self._expected = gc.get_freeze_count()
        self.thaws += 1

    def stats(self) -> dict[str, Any]:
        return {
            "collections": list(self.collections),
            "young_pause_max_ms": round(self.young_pause_max_ms, 2),
            "full_pauses_ms": list(self.full_pauses_ms),
            "frozen": self.frozen,
            "freezes": self.freezes,
            "thaws": self.thaws,
        }

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started is None:
            return
        pause_ms = (time.perf_counter() - self._started) * 1000
        self._started = None
        generation = info["generation"]
        self.collections[generation] += 1
        if generation < 2:
            self.young_pause_max_ms = max(self.young_pause_max_ms, pause_ms)
            return
        self.full_pauses_ms.append(round(pause_ms, 2))
        if pause_ms > self.slow_ms and not self._thawing:
            # Everything left after a full collection is reachable: freeze it (rule 2).
            # After a full collection the young generations are empty: the oldest holds
            # every object the collector still watches.
            moved = len(gc.get_objects(2))
            gc.freeze()
            self._expected += moved
            self.frozen += moved
            self.freezes += 1
