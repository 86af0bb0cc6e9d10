"""Views read for subscriptions, kept briefly so that a burst of subscribes reads each
topic once per version (realtime/hub.py holds one)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from realtime.frames import Outgoing


class Snapshots:
    """Views read for subscriptions, by topic and version, kept for a short while.

    When many sockets subscribe at once (a venue opening, a worker restart, every socket
    resyncing after Redis came back), each topic is read from the database once per version,
    and each cut of it framed once, instead of once per socket. A version names one committed
    state, so a view read at that version is the view at that version; the time-to-live
    bounds how stale the few time-dependent parts of a view (the POS's PIN-lockout alerts)
    can get.
    """

    def __init__(self, ttl: float = 1.0, limit: int = 4096) -> None:
        self.ttl = ttl
        self.limit = limit
        # topic -> (version, read at, view, frames by cut), oldest first
        self._entries: OrderedDict[str, tuple[int, float, dict[str, Any], dict[Any, str]]] = (
            OrderedDict()
        )

    def view(self, topic: str, version: int) -> dict[str, Any] | None:
        entry = self._entries.get(topic)
        if entry is None or entry[0] != version or time.monotonic() - entry[1] > self.ttl:
            return None
        return entry[2]

    def keep(self, topic: str, version: int, view: dict[str, Any]) -> None:
        now = time.monotonic()
        entries = self._entries
        entries.pop(topic, None)
        # Expired views go as new ones come, not only at the limit: a venue's worth of
        # views and frames would otherwise stay in memory long after its sockets subscribed.
        while entries and (
            len(entries) >= self.limit or now - next(iter(entries.values()))[1] > self.ttl
        ):
            entries.popitem(last=False)
        entries[topic] = (version, now, view, {})

    def frame(self, topic: str, version: int, cut: Any, make: Callable[[], str]) -> str:
        """The framed snapshot for one cut (audience, locale, format), made once."""
        entry = self._entries.get(topic)
        if entry is None or entry[0] != version:
            return make()
        text = entry[3].get(cut)
        if text is None:
            text = entry[3][cut] = Outgoing(make())
        return text
