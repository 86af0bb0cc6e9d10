"""The ordering topics as the hub and websocket see them: access, snapshot, cuts, HTML."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site
from accounts.tenant import belongs
from ordering import views
from ordering.config import OrderingConfig
from ordering.models import DiningTable, Member, TableSession
from ordering.table_view import table_view
from realtime import topics
from realtime.topics import OneAudience, Viewer
from web.templating import render


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 else None


async def _staff_site(session: AsyncSession, site_id: int | None, viewer: Viewer) -> bool:
    if site_id is None or viewer.company_id is None:
        return False
    site = await session.get(Site, site_id)
    return belongs(viewer, site.company_id if site else None)


async def _member(session: AsyncSession, table_id: int, device_key: str | None) -> bool:
    """Is this device a member of the table's open session?"""
    if device_key is None:
        return False
    member = await session.scalar(
        select(Member.id)
        .join(TableSession, TableSession.id == Member.session_id)
        .where(
            TableSession.table_id == table_id,
            TableSession.closed_at.is_(None),
            Member.device_key == device_key,
        )
    )
    return member is not None


def notification(change: dict[str, Any] | None, event: str | None, locale: str) -> str | None:
    if not change or not event:
        return None
    return render(locale, "_notify.txt", event=event, change=change).strip() or None


class TableTopic:
    """`table:{id}`: members and staff see everything; whoever scanned the table, its state.

    As registered, watched by at most `guest_limit` sockets of diners (not staff) in a
    process: a table's QR code is no licence to open thousands (WS_MAX_PER_TABLE)."""

    def __init__(self, guest_limit: int | None = None) -> None:
        self.guest_limit = guest_limit

    async def authorize(self, session: AsyncSession, args: list[str], viewer: Viewer) -> bool:
        table_id = _int(args[0]) if len(args) == 1 else None
        table = await session.get(DiningTable, table_id) if table_id else None
        if table is None:
            return False
        # Its public state (free, occupied, locked) is for whoever holds its token (the QR
        # code): ids are sequential, so knowing one proves nothing.
        if table.id in viewer.scanned_tables:
            return True
        return await _staff_site(session, table.site_id, viewer) or await _member(
            session, table.id, viewer.device_key
        )

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        return await table_view(session, int(args[0]))

    def audience(self, view: dict[str, Any], viewer: Viewer) -> str:
        if viewer.company_id is not None and viewer.company_id == view["table"]["company_id"]:
            return "full"  # staff of the company that runs the table
        detail = view.get("session")
        if detail and any(m["key"] == viewer.device_key for m in detail["members"]):
            return "full"
        return "public"

    def present(self, view: dict[str, Any], audience: str) -> dict[str, Any]:
        if audience == "full":
            return view
        detail = view.get("session")
        return {
            "table": view["table"],
            "currency": view["currency"],
            "session": {"status": detail["status"]} if detail else None,
            "version": view["version"],
        }

    def render(
        self,
        view: dict[str, Any],
        event: str | None,
        change: dict[str, Any] | None,
        audience: str,
        locale: str,
    ) -> dict[str, Any]:
        html = render(locale, "_table_live.html", view=view, audience=audience)
        bar = render(locale, "_cart_bar.html", view=view, audience=audience)
        out: dict[str, Any] = {"html": {"table-live": html, "cart-bar": bar}}
        text = notification(change, event, locale)
        if text:
            out["notify"] = {"text": text, "actor": (change or {}).get("member_id")}
        return out


class SiteTopic(OneAudience):
    """`site:{id}:pos` for POS screens and `site:{id}:station:{name}` for production."""

    def __init__(self, config: OrderingConfig) -> None:
        self.config = config

    async def authorize(self, session: AsyncSession, args: list[str], viewer: Viewer) -> bool:
        if not args or not (args[1:] == ["pos"] or (len(args) == 3 and args[1] == "station")):
            return False
        return await _staff_site(session, _int(args[0]), viewer)

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        site_id = int(args[0])
        if args[1] == "pos":
            return await views.pos_view(session, site_id, self.config)
        return await views.station_view(session, site_id, args[2])

    def render(
        self,
        view: dict[str, Any],
        event: str | None,
        change: dict[str, Any] | None,
        audience: str,
        locale: str,
    ) -> dict[str, Any]:
        if "station" in view:
            return {"html": {"station-live": render(locale, "_station_live.html", view=view)}}
        out: dict[str, Any] = {"html": {"pos-live": render(locale, "_pos_live.html", view=view)}}
        text = notification(change, event, locale)
        if text:
            out["notify"] = {"text": text}
        return out


class MenuTopic:
    """`menu:{site id}`: availability, for every open menu of the site."""

    async def authorize(self, session: AsyncSession, args: list[str], viewer: Viewer) -> bool:
        site_id = _int(args[0]) if len(args) == 1 else None
        return site_id is not None and await session.get(Site, site_id) is not None

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        return await views.menu_view(session, int(args[0]))

    def audience(self, view: dict[str, Any], viewer: Viewer) -> str:
        return "staff" if viewer.company_id is not None else "full"

    def present(self, view: dict[str, Any], audience: str) -> dict[str, Any]:
        return view

    def render(
        self,
        view: dict[str, Any],
        event: str | None,
        change: dict[str, Any] | None,
        audience: str,
        locale: str,
    ) -> dict[str, Any]:
        html = render(locale, "_menu.html", menu=view, staff=audience == "staff")
        return {"html": {"menu-live": html}}


def register_all(config: OrderingConfig) -> None:
    topics.register("table", TableTopic(config.table_sockets))
    topics.register("site", SiteTopic(config))
    topics.register("menu", MenuTopic())
