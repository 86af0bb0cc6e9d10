"""The garbage collector's policy: what start-up made is frozen, survivors of a slow full
collection are frozen too, and cycles still go: young ones as before, frozen ones once
enough frozen objects have died."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from web.gc_policy import GcPolicy


class Node:
    """A weakly referenceable object, to tell when the collector freed it."""

    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    """A reference cycle nobody points at any more: only the cyclic collector frees it."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def watched(obj: object) -> bool:
    """Does the collector still look at this object (not frozen)?"""
    return any(o is obj for o in gc.get_objects())


@pytest.fixture
def policy() -> Iterator[GcPolicy]:
    made = GcPolicy(slow_ms=0.0)  # every full collection counts as slow here
    yield made
    made.stop()


def test_what_start_up_made_is_frozen_and_pauses_are_timed(policy: GcPolicy) -> None:
    before = Node()
    policy.start()
    assert not watched(before)
    assert policy.frozen == gc.get_freeze_count() > 0
    gc.collect(0)
    gc.collect()
    stats = policy.stats()
    assert stats["collections"][0] >= 1 and stats["collections"][2] >= 1
    assert len(stats["full_pauses_ms"]) == stats["collections"][2]
    policy.stop()
    assert watched(before)  # stopped: the collector is left as it was
    assert gc.get_freeze_count() == 0


def test_a_cycle_dropped_after_the_freeze_is_collected_without_asking(policy: GcPolicy) -> None:
    policy.start()
    dead = cycle()
    made: list[list[int]] = []
    for _ in range(100_000):  # what requests make: young collections run as it grows
        made.append([])
        if dead() is None:
            break
    assert dead() is None


def test_the_survivors_of_a_slow_full_collection_are_frozen(policy: GcPolicy) -> None:
    policy.start()
    survivor = Node()
    assert watched(survivor)
    gc.collect()  # slower than slow_ms (0 here)
    assert not watched(survivor)
    assert policy.freezes == 2


def test_frozen_cycles_go_once_enough_frozen_objects_died(policy: GcPolicy) -> None:
    policy.turnover = 0.0  # any death of a frozen object is enough here
    policy.start()
    node = Node()
    node.other = node
    dead = weakref.ref(node)
    plain = [Node() for _ in range(100)]
    gc.collect()  # both frozen, as survivors of a slow collection
    del node  # now a cycle nobody points at, but frozen
    gc.collect()
    assert dead() is not None  # no collection sees it any more
    assert not policy.check()  # nothing frozen died yet
    del plain  # freed at once by reference counting, frozen or not
    assert policy.check()  # turnover reached: thawed, collected, frozen again
    assert dead() is None
    assert policy.thaws == 1


async def test_young_collections_run_on_a_clock_when_counts_stand_still(
    policy: GcPolicy,
) -> None:
    policy.start()
    old = [Node() for _ in range(1000)]
    gc.collect()  # frozen: their deaths will balance the new objects below
    dead = cycle()
    young = []
    for _ in range(1000):  # as many made as die: CPython's own trigger never fires
        young.append(Node())
        old.pop()
    assert dead() is not None
    ticking = asyncio.create_task(policy.run(young_s=0.01))
    try:
        for _ in range(100):
            await asyncio.sleep(0.01)
            if dead() is None:
                break
    finally:
        ticking.cancel()
    assert dead() is None
