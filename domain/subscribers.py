"""Who hears which fact: the subscribers app.py registers at assembly.

A subscriber's name is the key of its deliveries: keep it stable once events were
recorded for it, or it would hear them all again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from domain.events import DomainEvent
from realtime.events import Tx

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[Tx, E], Awaitable[None]]


@dataclass(frozen=True)
class Subscriber:
    name: str
    handle: Handler[Any]


_subscribers: dict[str, dict[str, Subscriber]] = {}


def subscribe(event: type[E], name: str, handle: Handler[E]) -> None:
    """`handle` runs in a transaction of its own that also marks the event delivered to
    `name`: its effects commit once. Registering the same name again replaces it."""
    _subscribers.setdefault(event.name, {})[name] = Subscriber(name, handle)


def unsubscribe(event: type[DomainEvent], name: str) -> None:
    _subscribers.get(event.name, {}).pop(name, None)


def subscribers_of(name: str) -> list[Subscriber]:
    return list(_subscribers.get(name, {}).values())
