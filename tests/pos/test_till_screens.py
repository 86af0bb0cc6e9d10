"""The screens over the till's records, through HTTP: refunds and voids approved by a
supervisor's PIN on a cashier's till, the X then the Z (refused with a gap, naming the
till), the back office's records page (archives checked alone, the public key, the chains'
check), and the yearly archive kept once."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from starlette.applications import Starlette

from accounts.models import Staff
from demo.seed import PINS, DemoVenue
from pos import archives
from pos.archive_check import verify_archive
from pos.models import Closing, JournalEntry, StoredArchive, Ticket, Till
from pos.records import Method, Origin, PaymentInput, Sale, record_sale
from pos.signing import sealing_box
from pos.vat import INTERMEDIATE, STANDARD, Line
from pos.verification import Mismatch
from realtime.bus import make_bus
from realtime.events import run
from tests.backoffice.conftest import ADMIN, CASHIER, audit_actions, sign_in
from tests.conftest import Database, client_for
from tests.pos.conftest import SECRET, Clock, Shop
from tests.pos.test_till_device import _add_till, _code, _staff_id
from tests.realtime.phones import another_company_admin

SUPERVISOR = "superviseur@cafe-de-la-gare.fr"
CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


@dataclass
class AtTill:
    device: httpx.AsyncClient
    till: Till
    cashier: int
    supervisor: int
    db: Database

    def approval(self, pin: str | None = None) -> dict[str, object]:
        return {"staff_id": self.supervisor, "pin": pin or PINS[SUPERVISOR]}

    async def sell(self, *lines: Line, card: bool = False, till: Till | None = None,
                   sequence: int | None = None) -> Ticket:
        on = till or self.till
        total = sum(line.total_incl for line in lines)
        sale = Sale(Origin(uuid.uuid4(), on.id, on.company_id, self.cashier, sequence=sequence),
                    list(lines), [PaymentInput(Method.CARD if card else Method.CASH, total)])
        bus = make_bus(None)
        try:
            done = await run(self.db.sessionmaker, bus, lambda tx: record_sale(tx, sale))
        finally:
            await bus.close()
        return done.ticket

    async def switch(self, email: str) -> None:
        staff_id = await _staff_id(self.db, email)
        answer = await self.device.post("/api/v1/till/switch",
                                        json={"staff_id": staff_id, "pin": PINS[email]})
        assert answer.status_code == 200, answer.text


@pytest_asyncio.fixture
async def at_till(app: Starlette, db: Database, venue: DemoVenue) -> AsyncIterator[AtTill]:
    """The demo site's till T1, paired, the cashier switched in on it."""
    async with client_for(app) as admin, client_for(app) as device:
        device.headers["accept-language"] = "en"
        await sign_in(admin, ADMIN)
        till = await _add_till(admin, venue)
        paired = await device.post("/api/v1/till/pair", json={"code": await _code(admin, till)})
        assert paired.status_code == 200, paired.text
        here = AtTill(device, till, await _staff_id(db, CASHIER[0]),
                      await _staff_id(db, SUPERVISOR), db)
        await here.switch(CASHIER[0])
        yield here


COFFEE = Line("Café", 1, 150, INTERMEDIATE)
CROISSANT = Line("Croissant", 1, 120, INTERMEDIATE)
WINE = Line("Verre de vin", 2, 450, STANDARD)


async def test_a_cashier_refunds_lines_then_the_rest_with_a_supervisors_pin(
    at_till: AtTill, db: Database
) -> None:
    device = at_till.device
    sale = await at_till.sell(Line("Café", 2, 150, INTERMEDIATE), CROISSANT)
    listing = await device.get("/till/tickets")
    assert listing.status_code == 200 and "T1-000001" in listing.text
    assert f"/till/tickets/{sale.id}/refund" in listing.text
    assert f"/till/tickets/{sale.id}\"" in listing.text  # the receipt page
    found = await device.get("/till/tickets?q=t1-1")
    assert "T1-000001" in found.text
    assert "T1-000001" not in (await device.get("/till/tickets?q=T1-000009")).text
    page = await device.get(f"/till/tickets/{sale.id}/refund")
    assert page.status_code == 200 and "Croissant" in page.text
    url = f"/api/v1/till/tickets/{sale.id}/refund"
    key = str(uuid.uuid4())
    body = {"uuid": key, "lines": [{"position": 1, "quantity": 1}], "reason": "Froid",
            "method": "cash"}
    needed = await device.post(url, json=body)
    assert needed.status_code == 409, needed.text
    assert needed.json()["error"]["code"] == "approval_needed"
    wrong = await device.post(url, json={**body, "approval": at_till.approval("0000")})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "pin_refused"
    done = await device.post(url, json={**body, "approval": at_till.approval()})
    assert done.status_code == 200, done.text
    refund = done.json()
    assert refund["ticket"]["total_incl"] == -150 and refund["first"] is True
    assert refund["ticket"]["supervisor_id"] == at_till.supervisor
    assert refund["ticket"]["corrects"] == "T1-000001"
    assert refund["redirect"] == f"/till/tickets?done={refund['ticket']['id']}"
    # The same request again (a retry): the first refund, nothing more.
    again = await device.post(url, json={**body, "approval": at_till.approval()})
    assert again.status_code == 200 and again.json()["first"] is False
    assert again.json()["ticket"]["id"] == refund["ticket"]["id"]
    # More than is left of a line: refused, said why.
    beyond = await device.post(url, json={
        **body, "uuid": str(uuid.uuid4()), "lines": [{"position": 1, "quantity": 2}],
        "approval": at_till.approval()})
    assert beyond.status_code == 422, beyond.text
    assert "beyond what is left" in beyond.json()["error"]["message"]
    no_reason = await device.post(url, json={**body, "uuid": str(uuid.uuid4()), "reason": " ",
                                             "approval": at_till.approval()})
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["code"] == "reason_missing"
    # The rest, by the page's form: the whole ticket, by card.
    csrf = CSRF.search(page.text)
    assert csrf
    rest = await device.post(url, data={
        "uuid": str(uuid.uuid4()), "whole": "1", "reason": "Client parti", "method": "card",
        "approval_staff_id": str(at_till.supervisor), "approval_pin": PINS[SUPERVISOR]},
        headers={"hx-request": "true", "x-csrf-token": csrf.group(1)})
    assert rest.status_code == 200, rest.text
    assert rest.json()["ticket"]["total_incl"] == -270
    assert rest.headers["hx-redirect"].startswith("/till/tickets?done=")
    shown = await device.get(rest.headers["hx-redirect"])
    assert "T1-000003" in shown.text
    nothing = await device.post(url, json={**body, "uuid": str(uuid.uuid4()), "whole": True,
                                           "lines": [], "approval": at_till.approval()})
    assert nothing.status_code == 422
    assert nothing.json()["error"]["code"] == "nothing_to_refund"
    assert "already given back" in (await device.get(f"/till/tickets/{sale.id}/refund")).text
    refunds = [(a, t) for a, t in await audit_actions(db) if a == "ticket.refund"]
    assert len(refunds) == 2
    async with db.sessionmaker() as session:
        tickets = (await session.scalars(select(Ticket).order_by(Ticket.id))).all()
    assert [(t.kind, t.total_incl, t.supervisor_id, t.staff_id) for t in tickets] == [
        ("sale", 420, None, at_till.cashier),
        ("refund", -150, at_till.supervisor, at_till.cashier),
        ("refund", -270, at_till.supervisor, at_till.cashier)]
    assert tickets[2].reason == "Client parti"


async def test_a_void_needs_the_void_permission_and_gives_all_back(
    at_till: AtTill, db: Database
) -> None:
    sale = await at_till.sell(WINE, card=True)
    url = f"/api/v1/till/tickets/{sale.id}/void"
    body = {"uuid": str(uuid.uuid4()), "reason": "Erreur de saisie"}
    assert (await at_till.device.post(url, json=body)).status_code == 409
    voided = await at_till.device.post(url, json={**body, "approval": at_till.approval()})
    assert voided.status_code == 200, voided.text
    assert voided.json()["ticket"]["kind"] == "void"
    assert voided.json()["ticket"]["total_incl"] == -900
    # A supervisor on the till approves their own action.
    await at_till.switch(SUPERVISOR)
    twice = await at_till.device.post(url, json={"uuid": str(uuid.uuid4()), "reason": "Encore"})
    assert twice.status_code == 422 and "already" in twice.json()["error"]["message"]
    assert (await at_till.device.post("/api/v1/till/tickets/999999/void", json=body)
            ).status_code == 404
    assert ("ticket.void", f"ticket:{voided.json()['ticket']['id']}") in await audit_actions(db)


async def test_a_refund_needs_a_paired_till_and_someone_on_it(
    app: Starlette, at_till: AtTill
) -> None:
    sale = await at_till.sell(COFFEE)
    async with client_for(app) as stranger:
        answer = await stranger.post(f"/api/v1/till/tickets/{sale.id}/refund", json={
            "uuid": str(uuid.uuid4()), "whole": True, "reason": "x", "method": "cash"})
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "till_not_paired"
        page = await stranger.get("/till/tickets")
        assert page.status_code == 303 and page.headers["location"] == "/till/pair"
    await at_till.device.post("/api/v1/till/lock", json={})
    locked = await at_till.device.get(f"/till/tickets/{sale.id}/refund")
    assert locked.status_code == 303 and locked.headers["location"] == "/till"


async def test_the_x_then_the_z_refused_with_a_gap_naming_the_till(
    app: Starlette, at_till: AtTill, db: Database, venue: DemoVenue
) -> None:
    device = at_till.device
    await at_till.sell(COFFEE)
    await at_till.sell(WINE, card=True)
    page = await device.get("/till/reports")
    assert page.status_code == 200 and "/api/v1/till/reports/z" in page.text
    assert (await device.post("/api/v1/till/reports/x", json={})).status_code == 409
    x = await device.post("/api/v1/till/reports/x", json={"approval": at_till.approval()})
    assert x.status_code == 200, x.text
    report = x.json()["report"]
    assert report["tickets"] == 2 and report["total_incl"] == 1050
    assert {r["method"]: r["amount"] for r in report["by_method"]} == {"card": 900,
                                                                        "cash": 150}
    assert report["tills"] == [{"till": "T1", "first": "T1-000001", "last": "T1-000002",
                                "records": 2}]
    shown = await device.post("/api/v1/till/reports/x", json={"approval": at_till.approval()},
                              headers={"hx-request": "true"})
    assert shown.status_code == 200 and "report-paper" in shown.text
    assert "10,50" in shown.text or "10.50" in shown.text
    # Another till of the site misses its first numbers: no Z, and the refusal names it.
    async with client_for(app) as admin:
        await sign_in(admin, ADMIN)
        other = await _add_till(admin, venue, "T9")
    await at_till.sell(COFFEE, till=other, sequence=3)
    body = {"uuid": str(uuid.uuid4()), "counted_cash": 150}
    assert (await device.post("/api/v1/till/reports/z", json=body)).status_code == 409
    refused = await device.post("/api/v1/till/reports/z",
                                json={**body, "approval": at_till.approval()})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "sequence_gap"
    assert "T9" in refused.json()["error"]["message"]
    french = await device.post("/api/v1/till/reports/z",
                               json={**body, "approval": at_till.approval()},
                               headers={"accept-language": "fr"})
    assert "T9" in french.json()["error"]["message"]
    assert french.json()["error"]["message"] != refused.json()["error"]["message"]
    for missing in (1, 2):
        await at_till.sell(COFFEE, till=other, sequence=missing)
    closed = await device.post("/api/v1/till/reports/z", json={
        **body, "counted_cash": 600, "approval": at_till.approval()},
        headers={"hx-request": "true"})
    assert closed.status_code == 200, closed.text
    assert "z-report-paper" in closed.text and "report-signature" in closed.text
    async with db.sessionmaker() as session:
        closing = await session.scalar(select(Closing))
    assert closing is not None and closing.staff_id == at_till.supervisor
    assert ("day.close", f"closing:{closing.id}") in await audit_actions(db)
    # The Z again (a retry): the same closing.
    again = await device.post("/api/v1/till/reports/z", json={
        **body, "counted_cash": 600, "approval": at_till.approval()})
    assert again.status_code == 200 and again.json()["closing"]["id"] == closing.id
    assert again.json()["closing"]["signed"] is True
    assert again.json()["body"]["report"]["cash"] == {"expected": 600, "counted": 600,
                                                      "difference": 0}
    # Reading it again needs the report permission.
    assert (await device.get(f"/till/reports/z/{closing.id}")).status_code == 403
    await at_till.switch(SUPERVISOR)
    reprint = await device.get(f"/till/reports/z/{closing.id}")
    assert reprint.status_code == 200 and "data-print" in reprint.text
    assert (await device.get("/till/reports/z/999999")).status_code == 404
    # The day is closed: nothing more is sold on it.
    kinds = [k for k in await _journal_kinds(db)]
    assert "x_report" in kinds and "closing" in kinds


async def _journal_kinds(db: Database) -> list[str]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(
            select(JournalEntry.kind).order_by(JournalEntry.company_id,
                                               JournalEntry.position))).all())


async def test_the_records_page_archives_checks_and_refuses(
    app: Starlette, at_till: AtTill, db: Database, venue: DemoVenue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await at_till.sell(COFFEE)
    closed = await at_till.device.post("/api/v1/till/reports/z", json={
        "uuid": str(uuid.uuid4()), "counted_cash": 150, "approval": at_till.approval()})
    assert closed.status_code == 200, closed.text
    year = date.today().year
    async with client_for(app) as admin, client_for(app) as cashier, \
            client_for(app) as outsider:
        await sign_in(admin, ADMIN)
        admin.headers["accept-language"] = "en"
        listing = await admin.get("/backoffice/records")
        assert listing.status_code == 200
        assert "Signature checks" in listing.text and 'href="/backoffice/records"' in listing.text
        archive = await admin.get(f"/backoffice/records/export/archive?year={year}")
        assert archive.status_code == 200, archive.text[:300]
        assert archive.headers["content-type"] == "application/zip"
        key = await admin.get("/backoffice/records/export/public-key.pem")
        assert key.status_code == 200 and "BEGIN PUBLIC KEY" in key.text
        assert verify_archive(archive.content, key.text) == []
        ranged = await admin.get(f"/backoffice/records/export/archive?first={year}-01-01"
                                 f"&last={year}-12-31")
        assert ranged.status_code == 200 and verify_archive(ranged.content, key.text) == []
        bad = await admin.get("/backoffice/records/export/archive?first=2026-02-01&last=x")
        assert bad.status_code == 422
        checked = await admin.post("/backoffice/records/check")
        assert checked.status_code == 200 and "Every chain" in checked.text
        monkeypatch.setattr("backoffice.records_pages.verify_company", _broken)
        failed = await admin.post("/backoffice/records/check")
        assert failed.status_code == 200 and "T1-000001" in failed.text
        assert (await _journal_kinds(db)).count("chain_check_failed") == 1
        month = await admin.post("/backoffice/records/close", data={
            "uuid": str(uuid.uuid4()), "site_id": str(venue.site_id), "kind": "month",
            "period": f"{year}-13"})
        assert month.status_code == 422 and "YYYY-MM" in month.text
        open_year = await admin.post("/backoffice/records/close", data={
            "uuid": str(uuid.uuid4()), "site_id": str(venue.site_id), "kind": "year",
            "period": str(year)})
        assert open_year.status_code == 422  # not over yet
        earlier = await admin.post("/backoffice/records/close", data={
            "uuid": str(uuid.uuid4()), "site_id": str(venue.site_id), "kind": "year",
            "period": str(year - 1)})
        assert earlier.status_code == 200 and "hx-redirect" in earlier.headers
        # A cashier: refused; another company: none of it exists.
        await sign_in(cashier, CASHIER)
        assert (await cashier.get("/backoffice/records")).status_code == 403
        assert (await cashier.get(f"/backoffice/records/export/archive?year={year}")
                ).status_code == 403
        await sign_in(outsider, await another_company_admin(db))
        outsider.headers["accept-language"] = "en"
        theirs = await outsider.get("/backoffice/records")
        assert theirs.status_code == 200 and "Le Zinc" not in theirs.text
        assert venue.site_id and "Signature checks" not in theirs.text
        assert (await outsider.post("/backoffice/records/close", data={
            "uuid": str(uuid.uuid4()), "site_id": str(venue.site_id), "kind": "year",
            "period": str(year - 2)})).status_code == 404
    box = sealing_box(SECRET)
    bus = make_bus(None)
    async with db.sessionmaker() as session:
        company_id = await session.scalar(select(Staff.company_id).where(
            Staff.email == ADMIN[0]))
    assert company_id is not None
    kept = await run(db.sessionmaker, bus,
                     lambda tx: archives.keep_year(tx, box, company_id, year - 1))
    await bus.close()
    assert kept is not None
    async with client_for(app) as admin, client_for(app) as outsider:
        await sign_in(admin, ADMIN)
        download = await admin.get(f"/backoffice/records/archives/{kept.id}/export")
        assert download.status_code == 200 and download.content == kept.data
        assert verify_archive(download.content) == []
        await sign_in(outsider, ("patron@autre-cafe.fr", "autre-demo"))
        assert (await outsider.get(f"/backoffice/records/archives/{kept.id}/export")
                ).status_code == 404


async def _broken(_session: object, company_id: int) -> list[Mismatch]:
    return [Mismatch(company_id, "till T1", 1, "T1-000001", "hash")]


async def test_the_yearly_archive_is_made_once_after_the_year_ends(
    shop: Shop, clock_at: Clock
) -> None:
    this_year = datetime.now(UTC).year
    clock_at.at = datetime(this_year, 6, 1, 10, 0, tzinfo=UTC)
    await shop.sell(COFFEE)
    box = sealing_box(SECRET)
    # The year is not over in Paris yet (23:30 UTC on 31 December is 00:30 in Paris: over).
    clock_at.at = datetime(this_year, 12, 31, 22, 30, tzinfo=UTC)
    assert await archives.sweep_once(shop.db.sessionmaker, shop.bus, box) == 0
    clock_at.at = datetime(this_year, 12, 31, 23, 30, tzinfo=UTC)
    made = await asyncio.gather(
        archives.sweep_once(shop.db.sessionmaker, shop.bus, box),
        archives.sweep_once(shop.db.sessionmaker, shop.bus, box))
    assert sorted(made) == [0, 1]
    assert await archives.sweep_once(shop.db.sessionmaker, shop.bus, box) == 0
    async with shop.db.sessionmaker() as session:
        kept = (await session.scalars(select(StoredArchive))).all()
        journalled = await session.scalar(select(func.count()).where(
            JournalEntry.kind == "archive_made"))
    assert len(kept) == 1 and journalled == 1
    assert (kept[0].period_start, kept[0].period_end) == (date(this_year, 1, 1),
                                                          date(this_year, 12, 31))
    assert kept[0].staff_id is None and len(kept[0].sha256) == 64
    assert verify_archive(kept[0].data) == []
    async with shop.db.sessionmaker() as session:
        rows = await archives.kept_archives(session, shop.company_id)
    assert [r.scheduled for r in rows] == [True]
