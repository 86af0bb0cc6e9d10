"""Kinds of topic: who may watch one, its snapshot, and what each audience sees of it.

A topic is named `kind:id…` (`table:12`, `site:3:pos`). Domain packages register their
kinds at start-up; the hub and the websocket endpoint know only this interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)  # one per open socket: no instance dict
class Viewer:
    """Who is behind a socket or a request."""

    device_key: str | None = None  # HMAC of the device id: never the id itself
    staff_id: int | None = None
    company_id: int | None = None
    role: str | None = None
    locale: str = "fr"
    consumer_id: int | None = None  # a signed-in coffee-machine consumer (machines/)
    # The sites a member of staff may work at: None for every site of their company.
    sites: frozenset[int] | None = None
    # The back office's sections a member of staff is limited to: None for all of them
    # (what they hold is asked through accounts.sections.holds).
    sections: frozenset[str] | None = None
    scanned_tables: tuple[int, ...] = ()  # ids of the tables this browser holds the token of
    scanned_machines: tuple[int, ...] = ()  # ids of the coffee machines, likewise (machines/)

    def may_use(self, site_id: int) -> bool:
        """May this member of staff work at the site (as `StaffIdentity.may_use`)?"""
        return self.sites is None or site_id in self.sites

    @property
    def kind(self) -> str:
        """Who this is, in one word, for the metrics: device, staff, consumer, diner or
        anonymous."""
        if self.role == "device":
            return "device"
        if self.staff_id is not None:
            return "staff"
        if self.consumer_id is not None:
            return "consumer"
        return "diner" if self.device_key is not None else "anonymous"


class TopicKind(Protocol):
    """A kind may also set `cache_snapshots = False` when its view changes without its
    version changing (a machine's pending commands, which the machine takes without a
    word to its channel): its snapshot is then read afresh for every socket.

    And `guest_limit`, a number: at most that many sockets of viewers who are not staff
    watch one of its topics in a process (a table's: its diners'); the next one to
    subscribe is closed with 1013, try again later (realtime/websocket.py)."""

    async def authorize(self, session: AsyncSession, args: list[str], viewer: Viewer) -> bool:
        """May this viewer watch the topic at all?"""
        ...

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        """The topic's whole current view (without its version)."""
        ...

    def audience(self, view: dict[str, Any], viewer: Viewer) -> str:
        """Which cut of the view this viewer gets ("full" means the view itself)."""
        ...

    def present(self, view: dict[str, Any], audience: str) -> dict[str, Any]:
        """The view as this audience may see it, for JSON clients."""
        ...

    def render(
        self,
        view: dict[str, Any],
        event: str | None,
        change: dict[str, Any] | None,
        audience: str,
        locale: str,
    ) -> dict[str, Any]:
        """HTML for the page: {"html": {element id: fragment}, "notify": text or None}."""
        ...


class OneAudience:
    """For topics whose watchers all see the whole view (authorisation decides who watches)."""

    def audience(self, view: dict[str, Any], viewer: Viewer) -> str:
        return "full"

    def present(self, view: dict[str, Any], audience: str) -> dict[str, Any]:
        return view


MAX_TOPIC_LENGTH = 200
_kinds: dict[str, TopicKind] = {}


def register(name: str, kind: TopicKind) -> None:
    _kinds[name] = kind


def parse(topic: str) -> tuple[TopicKind, list[str]] | None:
    name, _, rest = topic.partition(":")
    kind = _kinds.get(name)
    if kind is None or not rest or len(topic) > MAX_TOPIC_LENGTH:
        return None
    return kind, rest.split(":")
