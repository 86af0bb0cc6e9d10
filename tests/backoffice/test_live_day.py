"""The day, live, on the back office's home: each role sees its part of it (the floor for
the floor's roles, the machines for the machines' roles), of its own sites only, and the
page watches the topics whose changes make it fetch the day again."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update
from starlette.applications import Starlette

from accounts.models import Site, Staff, StaffSite
from backoffice.live_day import LiveDay, SiteFloor, topics_of
from demo.seed import DemoVenue, demo_hash
from machines.fleet import MachineState
from machines.models import Machine
from ordering.floor_summary import FloorSummary
from ordering.models import Ticket
from tests.api.test_bad_input import key, login
from tests.conftest import Database, client_for
from tests.pos.test_receipt_pages import sold

ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")
CASHIER = ("caisse@cafe-de-la-gare.fr", "caisse-demo")
PASSWORD = "live-day-1"


async def _member(db: Database, role: str, sites: list[int] | None = None) -> tuple[str, str]:
    """A member of the demo company with this role, on every site or only on `sites`."""
    email = f"{role}-{key()[:8]}@cafe-de-la-gare.fr"
    async with db.sessionmaker() as session, session.begin():
        admin = await session.scalar(select(Staff).where(Staff.email == ADMIN[0]))
        assert admin is not None
        member = Staff(company_id=admin.company_id, email=email, name=role.title(), role=role,
                       password_hash=demo_hash(PASSWORD), all_sites=sites is None)
        session.add(member)
        await session.flush()
        session.add_all(StaffSite(staff_id=member.id, site_id=s) for s in sites or [])
    return email, PASSWORD


async def _second_site(db: Database) -> int:
    async with db.sessionmaker() as session, session.begin():
        admin = await session.scalar(select(Staff).where(Staff.email == ADMIN[0]))
        assert admin is not None
        site = Site(company_id=admin.company_id, name="Le Kiosque")
        session.add(site)
        await session.flush()
        return site.id


async def _round(app: Starlette, venue: DemoVenue, table: int = 0) -> None:
    """A diner opens the table and sends a round of two of a product."""
    token = venue.table_tokens[table][1]
    async with client_for(app) as diner:
        await _send(diner, token)


async def _send(diner: httpx.AsyncClient, token: str) -> None:
    await diner.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
    state = (await diner.get(f"/api/v1/tables/{token}")).json()
    product = state["menu"]["categories"][0]["products"][0]["id"]
    line = {"client_id": key(), "product_id": product, "quantity": 2}
    assert (await diner.post(f"/api/v1/tables/{token}/cart/lines", json=line)).is_success
    sent = await diner.post(f"/api/v1/tables/{token}/rounds", json={"idempotency_key": key()})
    assert sent.is_success, sent.text


async def _day(app: Starlette, who: tuple[str, str], query: str = "") -> httpx.Response:
    async with client_for(app) as client:
        await login(client, *who)
        return await client.get(f"/backoffice/home/live{query}")


def _part(html: str, name: str) -> str:
    found = re.search(rf'<section class="live-part {name}".*?</section>', html, re.S)
    return found.group(0) if found else ""


async def test_the_floor_shows_open_tables_and_the_round_waiting_then_the_stations(
    app: Starlette, venue: DemoVenue
) -> None:
    before = await _day(app, ADMIN)
    assert before.status_code == 200
    floor = _part(before.text, "live-floor")
    assert 'class="kpi-open-tables" data-value="0"' in floor
    assert 'class="kpi-waiting-rounds" data-value="0"' in floor
    assert "live-waiting" not in floor and "live-stations" not in floor

    await _round(app, venue)
    floor = _part((await _day(app, ADMIN)).text, "live-floor")
    assert 'class="kpi-open-tables" data-value="1"' in floor
    assert 'class="kpi-waiting-rounds" data-value="1"' in floor
    waiting = re.search(r'<ul class="live-list live-waiting">.*?</ul>', floor, re.S)
    assert waiting and 'data-table="Table 1"' in waiting.group(0)
    assert 'time class="waiting"' in waiting.group(0)
    assert 'data-state="to_validate"' in floor

    async with client_for(app) as cashier:
        await login(cashier, *CASHIER)
        pos = (await cashier.get(f"/api/v1/staff/sites/{venue.site_id}/pos")).json()
        round_id = pos["queue"][0]["id"]
        done = await cashier.post(f"/api/v1/staff/rounds/{round_id}/validate", json={})
        assert done.status_code == 200, done.text
    floor = _part((await _day(app, ADMIN)).text, "live-floor")
    assert 'class="kpi-waiting-rounds" data-value="0"' in floor
    stations = re.search(r'<ul class="live-list live-stations">.*?</ul>', floor, re.S)
    assert stations is not None, floor
    assert 'class="level-ok" data-station=' in stations.group(0)
    assert 'data-state="in_production"' in floor


async def test_a_station_turns_amber_then_red_as_its_oldest_ticket_waits(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    await _round(app, venue)
    async with client_for(app) as cashier:
        await login(cashier, *CASHIER)
        pos = (await cashier.get(f"/api/v1/staff/sites/{venue.site_id}/pos")).json()
        done = await cashier.post(f"/api/v1/staff/rounds/{pos['queue'][0]['id']}/validate",
                                  json={})
        assert done.status_code == 200, done.text
    levels = []
    for minutes in (12, 25):  # the demo site's thresholds: amber after 10, red after 20
        async with db.sessionmaker() as session, session.begin():
            await session.execute(update(Ticket).values(
                reached_at=datetime.now(UTC) - timedelta(minutes=minutes)))
        floor = _part((await _day(app, ADMIN)).text, "live-floor")
        found = re.search(r'<li class="level-(\w+)" data-station=.*?data-elapsed="(\d+)"',
                          floor, re.S)
        assert found is not None, floor
        levels.append((found.group(1), int(found.group(2))))
    assert levels == [("amber", 12), ("red", 25)]


def test_the_home_watches_at_most_a_sockets_topics() -> None:
    """The figures first, then every site's POS, then machines, up to 32 in all."""
    floors = [SiteFloor(f"Site {n}", FloorSummary(n, 0, [], [], [], 10, 20))
              for n in range(1, 21)]
    machines = [MachineState(n, f"M{n}", 1, True, False, [], []) for n in range(1, 41)]
    day = LiveDay(datetime.now(UTC), "EUR", "Europe/Paris", [], None, 7, None, floors,
                  machines)
    watched = topics_of(day)
    assert len(watched) == 32
    assert watched[:2] == ["site:1:pos", "site:2:pos"] and watched[19] == "site:20:pos"
    assert watched[20:] == [f"machine:{n}" for n in range(1, 13)]


async def test_each_role_sees_its_part_of_the_day_and_nothing_else(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    await _round(app, venue)
    seen = {}
    for role in ("kitchen", "cashier", "manager", "product_manager", "machine_owner",
                 "reporter", "user_manager"):
        response = await _day(app, await _member(db, role))
        assert response.status_code == 200, (role, response.text)
        seen[role] = (bool(_part(response.text, "live-floor")),
                      bool(_part(response.text, "live-machines")))
    floor_and_machines = (True, True)
    machines_only = (False, True)
    assert seen == {
        "kitchen": floor_and_machines, "cashier": floor_and_machines,
        "manager": floor_and_machines, "product_manager": machines_only,
        "machine_owner": machines_only, "reporter": (False, False),  # the figures only
        "user_manager": (False, False),
    }


async def test_the_machines_online_brewing_and_in_alert(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        first = await session.scalar(select(Machine).order_by(Machine.id))
        assert first is not None
        await session.execute(update(Machine).values(online=False, alerts=[]))
        first.online = True
        first.alerts = ["beans"]
        name = first.name
        total = len((await session.scalars(select(Machine))).all())
    part = _part((await _day(app, ADMIN)).text, "live-machines")
    assert f'class="kpi-machines-online" data-value="1">1 / {total}' in part
    assert 'class="kpi-machines-alert" data-value="1"' in part
    assert 'class="kpi-machines-brewing" data-value="0"' in part
    assert name in part and 'class="badge alert"' in part


def _figure(html: str, name: str) -> int:
    found = re.search(rf'class="kpi-{name}" data-value="(-?\d+)"', _part(html, "live-figures"))
    assert found is not None, html
    return int(found.group(1))


async def test_the_days_money_counts_a_till_sale_by_channel_method_and_site(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    elsewhere = await _second_site(db)
    before = (await _day(app, ADMIN)).text
    assert _figure(before, "revenue") == 0 and _figure(before, "tickets") == 0
    await sold(db, venue)  # a coffee and a beer at the counter: 5.50 in cash
    after = (await _day(app, ADMIN)).text
    assert _figure(after, "revenue") == 550
    assert _figure(after, "tickets") == 1 and _figure(after, "basket") == 550
    figures = _part(after, "live-figures")
    for kind, row in (("channel", "counter"), ("method", "cash"), ("site", venue.site_id)):
        listed = re.search(rf'data-by="{kind}".*?</ul>', figures, re.S)
        assert listed is not None, kind
        assert re.search(rf'data-key="{row}">.*?data-value="550"', listed.group(0), re.S), kind
    # A manager of the other site only sees none of it; nor does one site chosen.
    theirs = (await _day(app, await _member(db, "manager", sites=[elsewhere]))).text
    assert _figure(theirs, "revenue") == 0
    assert _figure((await _day(app, ADMIN, f"?site={elsewhere}")).text, "revenue") == 0
    assert _figure((await _day(app, ADMIN, f"?site={venue.site_id}")).text, "revenue") == 550


async def test_a_member_of_one_site_sees_that_site_only(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    elsewhere = await _second_site(db)
    member = await _member(db, "manager", sites=[elsewhere])
    await _round(app, venue)
    mine = await _day(app, member)
    assert mine.status_code == 200
    assert f'data-site-id="{elsewhere}"' in mine.text
    assert f'data-site-id="{venue.site_id}"' not in mine.text
    assert "Table 1" not in mine.text and "data-machine-id" not in mine.text
    # Asking for the other site by its id: as if it did not exist.
    assert (await _day(app, member, f"?site={venue.site_id}")).status_code == 404
    # Everyone's: both sites, or one chosen.
    both = await _day(app, ADMIN)
    assert f'data-site-id="{elsewhere}"' in both.text
    assert f'data-site-id="{venue.site_id}"' in both.text
    one = await _day(app, ADMIN, f"?site={venue.site_id}")
    assert f'data-site-id="{elsewhere}"' not in one.text and "Table 1" in one.text


async def test_the_home_watches_the_topics_of_what_the_role_sees(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session:
        machines = sorted((await session.scalars(select(Machine.id))).all())
    watched = {}
    for who in (ADMIN, await _member(db, "product_manager"), await _member(db, "user_manager"),
                await _member(db, "reporter")):
        async with client_for(app) as client:
            await login(client, *who)
            home = await client.get("/backoffice")
            assert home.status_code == 200
            found = re.search(r"data-topics='([^']*)'", home.text)
            assert found is not None
            watched[who[0].split("-")[0].split("@")[0]] = json.loads(found.group(1))
    machine_topics = {f"machine:{m}" for m in machines}
    # The company's figures, the site's POS (the one topic of its whole floor), then its
    # machines.
    assert watched["admin"][1] == f"site:{venue.site_id}:pos"
    assert re.fullmatch(r"stats:\d+", watched["admin"][0])
    assert set(watched["admin"][2:]) == machine_topics
    assert set(watched["product_manager"]) == machine_topics
    assert watched["reporter"] == watched["admin"][:1]  # the figures, nothing else
    assert watched["user_manager"] == []


async def test_signed_out_the_fragment_is_refused(app: Starlette) -> None:
    async with client_for(app) as client:
        response = await client.get("/backoffice/home/live")
    assert response.status_code in (401, 403)
