"""Each topic's events handed on in version order: a later version waits, briefly, for the
one before it.

Two changes committed together can reach the bus in either order (each is published after
its own commit, from its own task or process), so version 6 may arrive before version 5.
Handed on at once, 6 would make 5 old news for every socket, and each would fetch a snapshot.
The sequencer holds 6 instead, for at most `hold_s`, and hands on 5 then 6 as soon as 5 is
there. Only a version that does not come within the hold (lost with a Redis restart, or its
publish failed) leaves a gap, which sockets fill from a snapshot (docs/realtime.md).

State exists only for topics a local socket watches (`open` to `close`), and at most
`limit` events wait per topic: past that, what waits is handed on at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

HOLD_LIMIT = 256  # events waiting per topic, at most (a socket's send queue holds as many)


class _Topic:
    __slots__ = ("last", "held", "timer")

    def __init__(self) -> None:
        # The highest version handed on; None until known (see Sequencer's `floor`).
        self.last: int | None = None
        # Versions waiting for an earlier one: version -> (arrived at, loop time; item).
        self.held: dict[int, tuple[float, Any]] = {}
        self.timer: asyncio.TimerHandle | None = None


class Sequencer:
    """Puts each watched topic's items back in version order before `deliver` gets them.

    `floor(topic)` tells where a topic starts when the sequencer has handed nothing on yet:
    the version every socket watching it holds, or None while one of them is still reading
    its snapshot (its version is not known yet). It is asked again when an item skips
    versions, since snapshots may have put every socket past the gap already (after the bus
    lost messages).
    """

    def __init__(
        self,
        deliver: Callable[[str, Any], None],
        floor: Callable[[str], int | None],
        hold_s: float,
        limit: int = HOLD_LIMIT,
    ) -> None:
        self._deliver = deliver
        self._floor = floor
        self.hold_s = hold_s
        self.limit = limit
        self._topics: dict[str, _Topic] = {}

    def open(self, topic: str) -> None:
        """A local socket watches the topic: follow its versions."""
        self._topics.setdefault(topic, _Topic())

    def close(self, topic: str) -> None:
        """No local socket watches it any more: forget it, and what waits for it."""
        state = self._topics.pop(topic, None)
        if state is not None and state.timer is not None:
            state.timer.cancel()

    def close_all(self) -> None:
        for topic in list(self._topics):
            self.close(topic)

    def __len__(self) -> int:
        """How many topics it follows."""
        return len(self._topics)

    def waiting(self, topic: str) -> int:
        """How many of the topic's items wait for an earlier version."""
        state = self._topics.get(topic)
        return len(state.held) if state is not None else 0

    def push(self, topic: str, version: int, item: Any) -> None:
        """An item for the topic at this version: handed on now, held, or dropped (a
        duplicate, or older than what was handed on)."""
        state = self._topics.get(topic)
        if state is None or self.hold_s <= 0:
            self._hand_on(topic, item)
            return
        if state.last is None:
            state.last = self._floor(topic)
        last = state.last
        if last is not None:
            if version > last + 1 and not state.held:
                # A gap opens: unless snapshots already put every socket past it (after
                # the bus lost messages), the missing versions are on their way.
                floor = self._floor(topic)
                if floor is not None and floor >= version - 1:
                    last = self._advance(topic, state, floor)
            if version <= last:
                return  # a duplicate, or older than what every socket has
            if version == last + 1:  # the next one: it goes, and what waited for it
                state.last = version
                self._hand_on(topic, item)
                self._release_next(topic, state)
                return
        if version in state.held:
            return  # a duplicate (a publish retried after a Redis restart)
        loop = asyncio.get_running_loop()
        state.held[version] = (loop.time(), item)
        if len(state.held) > self.limit:
            self._release_all(topic, state)  # too many waiting: no longer worth it
        elif state.timer is None:
            state.timer = loop.call_at(loop.time() + self.hold_s, self._expire, topic)

    def settle(self, topic: str) -> None:
        """A socket's snapshot arrived (or a subscription ended): if the topic's start was
        not known for want of it, it may be now."""
        state = self._topics.get(topic)
        if state is None or state.last is not None:
            return
        floor = self._floor(topic)
        if floor is not None:
            self._advance(topic, state, floor)

    def advance(self, topic: str, version: int) -> None:
        """Every socket watching the topic holds at least this version now (a snapshot sent
        to all of them): what waited for versions up to it waits no more."""
        state = self._topics.get(topic)
        if state is not None and state.last is not None:
            self._advance(topic, state, version)

    def _advance(self, topic: str, state: _Topic, version: int) -> int:
        """Every socket holds `version`: drop what it covers, hand on what follows it."""
        last = state.last = version if state.last is None else max(state.last, version)
        for old in [v for v in state.held if v <= last]:
            del state.held[old]
        self._release_next(topic, state)
        return state.last

    def _release_next(self, topic: str, state: _Topic) -> None:
        """Hand on the versions that now follow without a gap; wait on for the others."""
        held = state.held
        if held and state.last is not None:
            while (following := held.pop(state.last + 1, None)) is not None:
                state.last += 1
                self._hand_on(topic, following[1])
        self._rearm(topic, state)

    def _rearm(self, topic: str, state: _Topic) -> None:
        """Each waiting item waits at most `hold_s` from its own arrival."""
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        if state.held:
            oldest = min(arrived for arrived, _ in state.held.values())
            state.timer = asyncio.get_running_loop().call_at(
                oldest + self.hold_s, self._expire, topic
            )

    def _expire(self, topic: str) -> None:
        """An item waited its whole hold: the versions missing before it are given up on,
        and it goes with everything before it, in order. Sockets that see the gap fetch a
        snapshot; items behind a later gap wait on, each for its own hold."""
        state = self._topics.get(topic)
        if state is None:
            return
        state.timer = None
        now = asyncio.get_running_loop().time()
        due = [v for v, (arrived, _) in state.held.items() if arrived + self.hold_s <= now + 1e-3]
        if due:
            until = max(due)
            for version in sorted(v for v in state.held if v <= until):
                state.last = version
                self._hand_on(topic, state.held.pop(version)[1])
        self._release_next(topic, state)

    def _release_all(self, topic: str, state: _Topic) -> None:
        held, state.held = state.held, {}
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        for version in sorted(held):
            state.last = version
            self._hand_on(topic, held[version][1])

    def _hand_on(self, topic: str, item: Any) -> None:
        try:
            self._deliver(topic, item)
        except Exception:
            # One bad message must not hold back the ones after it, nor the topic's order.
            log.exception("could not deliver a message on %s", topic)
