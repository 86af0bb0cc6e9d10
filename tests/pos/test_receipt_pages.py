"""The receipt's 80 mm page and its print route: the page's words in French and English,
print-ready (80 mm, nothing from elsewhere), for staff who sell at the ticket's site only;
printing through the route against a fake printer, and a printer that refuses."""

from __future__ import annotations

import asyncio
import socket
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette

from accounts.models import Site, Staff, StaffSite
from demo.seed import DemoVenue
from pos.models import Ticket, Till
from pos.records import Method, Origin, PaymentInput, Sale, record_sale
from pos.tills import NewTill, create_till
from pos.vat import INTERMEDIATE, STANDARD, Line
from realtime.bus import make_bus
from realtime.events import run
from tests.api.test_bad_input import ADMIN, CASHIER, KITCHEN, expect, login
from tests.conftest import Database, client_for
from tests.pos.at_till import new_till, pair, switch_in
from tests.realtime.phones import another_company_admin

pytestmark = pytest.mark.asyncio


@dataclass
class Sold:
    ticket_id: int
    till_id: int


async def sold(db: Database, venue: DemoVenue) -> Sold:
    """A till at the demo site and a sale on it: a coffee and a beer, paid 10.00 cash."""
    bus = make_bus(None)
    async with db.sessionmaker() as session:
        cashier = await session.scalar(select(Staff).where(Staff.email == CASHIER[0]))
        assert cashier is not None
    till = await run(db.sessionmaker, bus, lambda tx: create_till(tx, NewTill(
        cashier.company_id, venue.site_id, "T1", "Comptoir", cashier.id)))
    sale = Sale(Origin(uuid.uuid4(), till.id, cashier.company_id, cashier.id),
                [Line("Café", 1, 150, INTERMEDIATE), Line("Bière", 1, 400, STANDARD)],
                [PaymentInput(Method.CASH, 550, 1000)])
    recorded = await run(db.sessionmaker, bus, lambda tx: record_sale(tx, sale))
    await bus.close()
    return Sold(recorded.ticket.id, till.id)


async def _till(db: Database, till_id: int) -> Till:
    async with db.sessionmaker() as session:
        till = await session.get(Till, till_id)
    assert till is not None
    return till


def _json(csrf: str) -> dict[str, str]:
    return {"x-csrf-token": csrf, "accept": "application/json"}


async def test_the_receipt_page_in_french_and_english(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    ticket = await sold(db, venue)
    async with client_for(app) as cashier:
        await login(cashier, *CASHIER)
        page = await cashier.get(f"/till/tickets/{ticket.ticket_id}")
        assert page.status_code == 200, page.text
        html = page.text
        for words in ("Café de la Gare SARL", "T1-000001", "Café", "Bière", "TOTAL",
                      "Total HT", "TVA", "Espèces", "Monnaie rendue", "Empreinte",
                      "Caisse", "Servi par"):
            assert words in html, words
        assert "5,50" in html and "4,50" in html  # the total, the change
        assert 'href="/static/receipt.css"' in html
        # Signed in with a password, not at a till: receipts are printed at a till.
        assert "data-browser-print" not in html and "depuis une caisse" in html
        assert "Réimprimer" not in html
        assert "http://" not in html.replace("http://testserver", "")
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        cashier.cookies.set("lang", "en")
        english = (await cashier.get(f"/till/tickets/{ticket.ticket_id}")).text
        for words in ("Receipt", "Total excl. VAT", "VAT", "Cash", "Change given",
                      "Record fingerprint", "Till", "Served by", "€5.50"):
            assert words in english, words
        css = await cashier.get("/static/receipt.css")
        assert "@page { size: 80mm 297mm; size: 80mm auto; margin: 0; }" in css.text


async def test_the_receipt_is_refused_to_staff_of_another_company_or_site(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    ticket = await sold(db, venue)
    page = f"/till/tickets/{ticket.ticket_id}"
    printing = f"{page}/print"
    other = await another_company_admin(db)
    async with client_for(app) as outsider:
        csrf = await login(outsider, *other)
        response = await outsider.get(page)
        assert response.status_code == 404 and "Introuvable" in response.text
        # Printing is a till's: a device that is not one prints nothing.
        expect(await outsider.post(printing, json={}, headers=_json(csrf)),
               403, "till_not_paired")
    async with db.sessionmaker() as session, session.begin():
        admin = await session.scalar(select(Staff).where(Staff.email == ADMIN[0]))
        assert admin is not None
        elsewhere = Site(company_id=admin.company_id, name="Le Kiosque")
        session.add(elsewhere)
        await session.flush()
        admin.all_sites = False
        session.add(StaffSite(staff_id=admin.id, site_id=elsewhere.id))
    async with client_for(app) as admin_elsewhere:
        csrf = await login(admin_elsewhere, *ADMIN)
        assert (await admin_elsewhere.get(page)).status_code == 404
    async with client_for(app) as till_elsewhere:  # a till of the other site
        await pair(db, till_elsewhere, await new_till(db, "K1", site_id=elsewhere.id))
        at = await switch_in(till_elsewhere, db, ADMIN[0])
        expect(await till_elsewhere.post(printing, json={}, headers=_json(at.csrf)),
               404, "not_found")
    async with client_for(app) as kitchen:  # of the site, but kitchen staff do not sell
        csrf = await login(kitchen, *KITCHEN)
        response = await kitchen.get(page)
        assert response.status_code == 403 and "Retour" in response.text
    async with client_for(app) as kitchen_till:
        await pair(db, kitchen_till, await _till(db, ticket.till_id))
        at = await switch_in(kitchen_till, db, KITCHEN[0])
        expect(await kitchen_till.post(printing, json={}, headers=_json(at.csrf)),
               403, "forbidden")
    async with client_for(app) as nobody:
        assert (await nobody.get(page)).headers["location"] == "/staff/login"


async def test_printing_from_the_page_then_reprinting_and_a_silent_printer(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    ticket = await sold(db, venue)
    jobs: list[bytes] = []
    arrived = asyncio.Event()

    async def keep(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        jobs.append(await reader.read())
        writer.close()
        arrived.set()

    server = await asyncio.start_server(keep, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Till).where(Till.id == ticket.till_id).values(
            printer=f"127.0.0.1:{port}"))
    async with server, client_for(app) as cashier:
        await pair(db, cashier, await _till(db, ticket.till_id))
        csrf = (await switch_in(cashier, db, CASHIER[0])).csrf
        page = await cashier.get(f"/till/tickets/{ticket.ticket_id}")
        assert "Réimprimer" in page.text
        headers = {"x-csrf-token": csrf, "hx-request": "true"}
        first = await cashier.post(f"/till/tickets/{ticket.ticket_id}/print",
                                   data={"idempotency_key": uuid.uuid4().hex}, headers=headers)
        assert first.status_code == 200 and "Ticket T1-000001 imprimé." in first.text
        await asyncio.wait_for(arrived.wait(), 5)
        arrived.clear()
        assert b"TOTAL" in jobs[-1] and b"\x1dV\x00" in jobs[-1]
        assert b"DUPLICATA" not in jobs[-1]
        again = await cashier.post(f"/till/tickets/{ticket.ticket_id}/print",
                                   data={"idempotency_key": uuid.uuid4().hex}, headers=headers)
        assert again.status_code == 200
        assert "Réimprimé : DUPLICATA 1 du ticket T1-000001." in again.text
        await asyncio.wait_for(arrived.wait(), 5)
        assert b"DUPLICATA 1" in jobs[-1]
        listening = await cashier.post(f"/till/tickets/{ticket.ticket_id}/print", json={},
                                       headers=_json(csrf))
        assert listening.json()["duplicate"] == 2
    # The printer is gone: a translated error, never a 500, and nothing recorded.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        gone = sock.getsockname()[1]
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Till).where(Till.id == ticket.till_id).values(
            printer=f"127.0.0.1:{gone}"))
    async with client_for(app) as cashier:
        await pair(db, cashier, await _till(db, ticket.till_id))
        csrf = (await switch_in(cashier, db, CASHIER[0])).csrf
        refused = await cashier.post(f"/till/tickets/{ticket.ticket_id}/print", json={},
                                     headers=_json(csrf))
        expect(refused, 503, "printer_unavailable")
        assert "L'imprimante de tickets ne répond pas" in refused.json()["error"]["message"]
        cashier.cookies.set("lang", "en")
        refused = await cashier.post(f"/till/tickets/{ticket.ticket_id}/print", json={},
                                     headers={"x-csrf-token": csrf, "hx-request": "true"})
        assert refused.status_code == 503
        assert "The receipt printer does not answer" in refused.json()["error"]["message"]


async def test_a_print_from_the_page_is_the_original_once_then_a_recorded_duplicate(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    ticket = await sold(db, venue)
    url = f"/till/tickets/{ticket.ticket_id}/browser-print"
    async with client_for(app) as device, client_for(app) as elsewhere:
        await pair(db, device, await _till(db, ticket.till_id))
        cashier = await switch_in(device, db, CASHIER[0])
        page = await device.get(f"/till/tickets/{ticket.ticket_id}")
        assert "data-browser-print" in page.text and "data-till-number" in page.text
        # The till sends a number it reserved: the original takes none and gives it back.
        first = await device.post(url, json={"idempotency_key": "first-print", "sequence": 2},
                                   headers=_json(cashier.csrf))
        assert first.status_code == 200 and first.json()["print"] is True
        assert first.headers["x-unused-sequence"] == "2"
        again = {"idempotency_key": "second-print", "sequence": 2}
        second = await device.post(url, json=again, headers=_json(cashier.csrf))
        assert second.json()["print"] is False and second.json()["duplicate"] == 1
        assert "x-unused-sequence" not in second.headers
        duplicate = second.json()["ticket_id"]
        assert second.json()["redirect"] == f"/till/tickets/{duplicate}?print=1"
        retried = await device.post(url, json=again, headers=_json(cashier.csrf))
        assert retried.json()["ticket_id"] == duplicate  # a retry records nothing more
        shown = await device.get(f"/till/tickets/{duplicate}?print=1")
        assert "DUPLICATA 1" in shown.text and "T1-000002" in shown.text
        # Not at a till: nothing is printed.
        csrf = await login(elsewhere, *CASHIER)
        expect(await elsewhere.post(url, json={}, headers=_json(csrf)), 403,
               "till_not_paired")
    async with db.sessionmaker() as session:
        kinds = (await session.execute(select(Ticket.kind, Ticket.sequence)
                                       .order_by(Ticket.id))).all()
    assert [tuple(k) for k in kinds] == [("sale", 1), ("duplicate", 2)]
