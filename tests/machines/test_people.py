"""Consumers' names, e-mails, balances and ledgers are for the roles that manage people
(managers, administrators): the kitchen, the till and the supervisor work without them."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.roles import Permission, can
from customers.models import Consumer
from demo.seed import DemoVenue
from machines.live import MachineTopic
from machines.views import machine_view
from realtime.topics import Viewer
from tests.conftest import Database, client_for
from tests.machines.conftest import Coffee


async def _staff(client: httpx.AsyncClient, venue: DemoVenue, role: str) -> None:
    email, password = next((e, p) for e, p, r in venue.staff if r == role)
    signed = await client.post("/api/v1/staff/login", json={"email": email, "password": password})
    assert signed.status_code == 200, signed.text


def test_only_managers_and_administrators_see_people() -> None:
    seeing = {role for role in ("kitchen", "cashier", "supervisor", "manager", "admin")
              if can(role, Permission.PEOPLE)}
    assert seeing == {"manager", "admin"}
    assert {r for r in ("manager", "admin") if can(r, Permission.READ_MAIL)} == {"admin"}


async def test_the_machines_and_groups_pages_show_people_to_managers_only(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    email = venue.consumers[0][0]
    async with db.sessionmaker() as session:
        lea = await session.scalar(select(Consumer).where(Consumer.email == email))
        assert lea is not None
    for role in ("kitchen", "cashier", "supervisor"):
        async with client_for(app) as staff:
            await _staff(staff, venue, role)
            for path in ("/staff/machines", "/staff/groups"):
                page = await staff.get(path)
                assert page.status_code == 200, (role, path)
                assert email not in page.text and lea.name not in page.text, (role, path)
                assert 'class="people"' not in page.text
    async with client_for(app) as admin:
        await _staff(admin, venue, "admin")
        for path in ("/staff/machines", "/staff/groups"):
            assert email in (await admin.get(path)).text


async def test_who_brewed_is_shown_to_the_roles_that_see_people(coffee: Coffee) -> None:
    machine = await coffee.machine()
    drinks = await coffee.drinks(machine)
    zoe = await coffee.consumer("Zoé")
    await coffee.brew(machine, next(iter(drinks.values())), zoe)
    async with coffee.db.sessionmaker() as session:
        view = await machine_view(session, machine.id)
    view["version"] = 1
    kind = MachineTopic()

    def seen_by(role: str) -> tuple[list[dict[str, Any]], str]:
        """The recent brews of the JSON view, and the HTML card, as this role gets them."""
        viewer = Viewer(company_id=coffee.company_id, staff_id=1, role=role)
        audience = kind.audience(view, viewer)
        html = kind.render(view, None, None, audience, "en")["html"]
        return kind.present(view, audience)["recent"], html[f"machine-card-{machine.id}"]

    recent, card = seen_by("admin")
    assert recent[0]["consumer"] == "Zoé" and "Zoé" in card
    for role in ("kitchen", "cashier", "supervisor"):
        recent, card = seen_by(role)
        assert recent and "consumer" not in recent[0] and "consumer_id" not in recent[0]
        assert "Zoé" not in card
