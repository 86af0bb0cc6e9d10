"""The machine, device and user topics as the hub and websocket see them: access, cuts, HTML."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site
from accounts.roles import Permission
from accounts.sections import holds
from accounts.tenant import belongs, works_at
from customers import views as customer_views
from customers.models import Consumer
from machines import views
from machines.device_channel import DeviceTopic
from machines.models import Machine
from realtime import topics
from realtime.topics import OneAudience, Viewer
from web.templating import render

PUBLIC_BREW = ("id", "product", "type", "status", "progress", "reason", "refunded", "requested_at",
               "finished_at")


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 else None


class MachineTopic:
    """`machine:{id}`: online, busy, alerts, the current brew. Its staff whose role sees
    the machines (`Permission.MACHINES`) see its recent brews, and who brewed them when
    their role sees people too (`Permission.PEOPLE`); whoever
    scanned it sees its status. The machine itself is told what to make on a channel of its
    own (machines/device_channel.py), never on this one."""

    async def authorize(self, session: AsyncSession, args: list[str], viewer: Viewer) -> bool:
        machine_id = _int(args[0]) if len(args) == 1 else None
        machine = await session.get(Machine, machine_id) if machine_id else None
        if machine is None:
            return False
        # Its public status is for whoever holds its token (the QR code): ids are
        # sequential, so knowing one proves nothing.
        if machine.id in viewer.scanned_machines:
            return True
        if viewer.company_id is None or not holds(viewer, Permission.MACHINES):
            return False  # the café's floor roles watch no machine they have not scanned
        site = await session.get(Site, machine.site_id)
        return works_at(viewer, site.company_id if site else None, machine.site_id)

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        return await views.machine_view(session, int(args[0]))

    def audience(self, view: dict[str, Any], viewer: Viewer) -> str:
        machine = view["machine"]
        if works_at(viewer, machine["company_id"], machine["site_id"]) and holds(
                viewer, Permission.MACHINES):
            return "full" if holds(viewer, Permission.PEOPLE) else "staff"
        return "public"

    def present(self, view: dict[str, Any], audience: str) -> dict[str, Any]:
        if audience == "full":
            return view
        if audience == "staff":  # everything but who brewed
            hidden = ("consumer", "consumer_id")
            recent = [{k: v for k, v in b.items() if k not in hidden} for b in view["recent"]]
            return {**view, "recent": recent}
        machine = view["machine"]
        brew = view["brew"]
        return {
            "machine": {k: machine[k] for k in ("id", "name", "mode", "online", "alerts",
                                                "missing")},
            "busy": view["busy"],
            "brew": {k: brew[k] for k in PUBLIC_BREW} if brew else None,
            "currency": view["currency"],
            "selections": view["selections"],
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
        shown = self.present(view, audience)
        html = {"machine-live": render(locale, "machines/_machine_live.html", view=shown)}
        # The machine page lists one of these (the visitor's selection) and swaps it.
        for selection in view["selections"]:
            html[f"drinks-{selection['id']}"] = render(
                locale, "machines/_drinks.html", drinks=selection["drinks"],
                currency=view["currency"],
            )
        if audience != "public":
            card = render(locale, "machines/_machine_card.html", view=shown)
            html[f"machine-card-{view['machine']['id']}"] = card
        return {"html": html}


class UserTopic(OneAudience):
    """`user:{id}`: a consumer's name, e-mail, balance, brews and ledger, for that
    consumer's screens, and for their company's staff whose role sees people (managers,
    administrators): not the kitchen's, nor the till's."""

    async def authorize(self, session: AsyncSession, args: list[str], viewer: Viewer) -> bool:
        consumer_id = _int(args[0]) if len(args) == 1 else None
        if consumer_id is None:
            return False
        if viewer.consumer_id == consumer_id:
            return True
        if not holds(viewer, Permission.PEOPLE):
            return False
        consumer = await session.get(Consumer, consumer_id)
        return belongs(viewer, consumer.company_id if consumer else None)

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        return await customer_views.user_view(session, int(args[0]))

    def render(
        self,
        view: dict[str, Any],
        event: str | None,
        change: dict[str, Any] | None,
        audience: str,
        locale: str,
    ) -> dict[str, Any]:
        return {"html": {"user-live": render(locale, "machines/_user_live.html", view=view)}}


def register_all() -> None:
    topics.register("machine", MachineTopic())
    topics.register("device", DeviceTopic())
    topics.register("user", UserTopic())
