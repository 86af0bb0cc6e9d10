"""The ordering topics as the hub and websocket see them: access, snapshot, cuts, HTML."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site
from accounts.roles import Permission
from accounts.sections import Holder, holds
from accounts.tenant import works_at
from errors import N_
from ordering import views
from ordering.config import OrderingConfig
from ordering.models import DiningTable, Member, TableSession
from ordering.table_view import table_view
from realtime import topics
from realtime.topics import Viewer
from web.i18n import gettext
from web.templating import render


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 else None


async def _staff_site(session: AsyncSession, site_id: int | None, viewer: Viewer) -> bool:
    """Staff of the site's company who may work at the site (a member given only some
    sites watches nothing of the others)."""
    if site_id is None or viewer.company_id is None or not holds(viewer, Permission.FLOOR):
        return False  # the machines' roles have no business on the café's floor
    site = await session.get(Site, site_id)
    return works_at(viewer, site.company_id if site else None, site_id)


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


def notification(
    change: dict[str, Any] | None, event: str | None, locale: str, table: str | None = None
) -> str | None:
    """The change told in a sentence, or None when it tells nothing; `table` names the table
    first, for screens that watch many (the POS)."""
    if not change or not event:
        return None
    text = render(locale, "_notify.txt", event=event, change=change).strip()
    if text and table:
        return gettext(locale, N_("%(table)s — %(notice)s")) % {"table": table, "notice": text}
    return text or None


def _table_label(view: dict[str, Any], change: dict[str, Any] | None) -> str | None:
    table_id = (change or {}).get("table_id")
    return next((t["label"] for t in view.get("tables", ()) if t["id"] == table_id), None)


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
        table = view["table"]
        if works_at(viewer, table["company_id"], table["site_id"]) and holds(
                viewer, Permission.FLOOR):
            return "full"  # staff of the company that runs the table, at its site
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


# What a POS screen offers, each shown only to the roles that may do it (validating,
# editing, refusing and taking orders, which also needs the tables' PINs; settling;
# freeing; lifting a PIN slowdown). A role that may do all of them sees the whole view.
POS_ACTIONS = (Permission.VALIDATE, Permission.SETTLE, Permission.FREE,
               Permission.LIFT_PIN_LIMIT)
_ALL_POS_ACTIONS = frozenset(p.value for p in POS_ACTIONS)


def pos_audience(who: Holder | None) -> str:
    """A POS viewer's cut: "full", or "only:" and the POS actions they may do."""
    allowed = [p.value for p in POS_ACTIONS if holds(who, p)]
    return "full" if len(allowed) == len(POS_ACTIONS) else "only:" + ",".join(allowed)


def pos_actions(audience: str) -> frozenset[str]:
    """The POS actions a cut may show (a Permission's value each), for its templates."""
    if audience == "full":
        return _ALL_POS_ACTIONS
    return frozenset(a for a in audience.removeprefix("only:").split(",") if a)


def pos_actions_of(who: Holder | None) -> frozenset[str]:
    return pos_actions(pos_audience(who))


class SiteTopic:
    """`site:{id}:pos` for POS screens and `site:{id}:station:{name}` for production.

    A POS is cut by what its viewer's role may do there (`pos_audience`): the kitchen's
    screen has no Validate, Settle or Free button and no PINs. A cut other than "full"
    gets no notifications (realtime/hub.py: what happened is for the full audience)."""

    def __init__(self, config: OrderingConfig) -> None:
        self.config = config

    def audience(self, view: dict[str, Any], viewer: Viewer) -> str:
        return "full" if "station" in view else pos_audience(viewer)

    def present(self, view: dict[str, Any], audience: str) -> dict[str, Any]:
        if audience == "full" or Permission.VALIDATE.value in pos_actions(audience):
            return view
        return {**view, "tables": [{**t, "pin": None} for t in view.get("tables", [])]}

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
        html = render(locale, "_pos_live.html", view=view, may=pos_actions(audience))
        out: dict[str, Any] = {"html": {"pos-live": html}}
        text = notification(change, event, locale, _table_label(view, change))
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
