"""The till's clock (page and API) and the back office's hours (page, CSV, closing a
forgotten clock-out), as staff reach them: in French and English, refused to a cashier,
blind to another company's and another site's staff."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.models import Company, Site, Staff, StaffSite
from accounts.passwords import hash_password
from demo.seed import DemoVenue
from domain.models import AuditEntry
from pos import clock
from pos.models import Shift
from tests.api.test_bad_input import expect, key
from tests.api.test_tenant import nothing_changes
from tests.backoffice.helpers import ADMIN, CASHIER, signed_in
from tests.conftest import Database, client_for
from tests.pos.at_till import at_till
from tests.realtime.phones import another_company_admin

pytestmark = pytest.mark.asyncio

MANAGER = ("gerant@cafe-de-la-gare.fr", "gerant-demo")
SUPERVISOR = ("superviseur@cafe-de-la-gare.fr", "super-demo")
MONDAY = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # 8:00 in Paris, week 2026-W49
WEEK = "/backoffice/hours?week=2026-W49"


async def _manager(db: Database, sites: list[int] | None = None) -> None:
    async with db.sessionmaker() as session, session.begin():
        company_id = await session.scalar(select(Company.id).order_by(Company.id))
        assert company_id is not None
        manager = Staff(company_id=company_id, email=MANAGER[0], name="Gérant",
                        role="manager", password_hash=hash_password(MANAGER[1]),
                        all_sites=sites is None)
        session.add(manager)
        await session.flush()
        for site in sites or []:
            session.add(StaffSite(staff_id=manager.id, site_id=site))


async def _shift(db: Database, email: str, start: datetime, hours: float | None) -> int:
    async with db.sessionmaker() as session, session.begin():
        staff = await session.scalar(select(Staff).where(Staff.email == email))
        site = await session.scalar(select(Site.id).where(Site.company_id == staff.company_id)
                                    .order_by(Site.id)) if staff else None
        assert staff is not None and site is not None
        shift = Shift(company_id=staff.company_id, site_id=site, staff_id=staff.id,
                      clocked_in_at=start,
                      clocked_out_at=start + timedelta(hours=hours) if hours else None,
                      closed_by_id=staff.id if hours else None)
        session.add(shift)
        await session.flush()
        return shift.id


async def _shifts(db: Database) -> list[Shift]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(Shift).order_by(Shift.id))).all())


async def test_a_cashier_clocks_in_then_out_on_the_till_page_and_sees_it_said(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as till:
        cashier = await at_till(till, db, CASHIER[0])
        shown = await cashier.get("/till/clock")
        assert shown.status_code == 200
        assert "Pointer l’arrivée" in shown.text and "Personne n’a pointé sur ce site." in (
            shown.text)
        form_key = key()
        clocked = await cashier.post("/till/clock", {"action": "in", "key": form_key})
        assert clocked.status_code == 200, clocked.text[:300]
        assert 'data-feedback="in"' in clocked.text and "Arrivée pointée à" in clocked.text
        assert "Pointer le départ" in clocked.text and "Chloé Caisse" in clocked.text
        # The same form sent twice (a double tap, a retry) clocks once.
        again = await cashier.post("/till/clock", {"action": "in", "key": form_key})
        assert again.status_code == 200 and len(await _shifts(db)) == 1
        till.cookies.set("lang", "en")
        english = await cashier.get("/till/clock")
        assert "Clock out" in english.text and "Clocked in here" in english.text
        out = await cashier.post("/till/clock", {"action": "out", "key": key()})
        assert 'data-feedback="out"' in out.text and "Departure clocked at" in out.text
        assert "Clock in" in out.text and "Nobody is clocked in at this site." in out.text
    [shift] = await _shifts(db)
    assert shift.clocked_out_at is not None and shift.closed_by_id == shift.staff_id


async def test_the_clock_api_is_idempotent_and_says_when_nobody_is_clocked_in(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as till, client_for(app) as nobody:
        await at_till(till, db, CASHIER[0])
        first = {"action": "in", "key": key()}
        made = await till.post("/api/v1/till/clock", json=first)
        assert made.status_code == 201, made.text
        assert made.json()["clocked_in"] is True and made.json()["changed"] is True
        retry = await till.post("/api/v1/till/clock", json=first)
        assert retry.status_code == 200 and retry.json()["shift"] == made.json()["shift"]
        out = await till.post("/api/v1/till/clock", json={"action": "out", "key": key()})
        assert out.status_code == 201 and out.json()["shift"]["clocked_out_at"]
        expect(await till.post("/api/v1/till/clock", json={"action": "out", "key": key()}),
               409, "not_clocked_in")
        expect(await till.post("/api/v1/till/clock", json={"action": "nap", "key": key()}),
               422, "invalid_input")
        expect(await nobody.post("/api/v1/till/clock", json=first), 403, "till_not_paired")
        # Signed in with a password, not switched in on a till: not a till's clock.
        await signed_in(nobody, CASHIER)
        expect(await nobody.post("/api/v1/till/clock", json=first), 403, "till_not_paired")
    assert len(await _shifts(db)) == 1


async def test_two_tills_clocking_the_same_person_in_at_once_make_one_shift(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as one, client_for(app) as two:
        await at_till(one, db, CASHIER[0], prefix="T1")
        await at_till(two, db, CASHIER[0], prefix="T2")
        answers = await asyncio.gather(
            one.post("/api/v1/till/clock", json={"action": "in", "key": key()}),
            two.post("/api/v1/till/clock", json={"action": "in", "key": key()}))
    assert sorted(a.status_code for a in answers) == [200, 201]
    assert len({a.json()["shift"]["id"] for a in answers}) == 1
    assert len(await _shifts(db)) == 1


async def test_a_manager_reads_the_week_per_person_and_day_in_french_and_english(
    app: Starlette, db: Database, venue: DemoVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: MONDAY + timedelta(days=6, hours=3))
    await _manager(db)
    await _shift(db, CASHIER[0], MONDAY, 7.5)
    await _shift(db, CASHIER[0], MONDAY + timedelta(days=4, hours=12), 6.75)
    await _shift(db, SUPERVISOR[0], MONDAY + timedelta(days=6, hours=1), None)
    async with client_for(app) as browser:
        manager = await signed_in(browser, MANAGER)
        shown = await manager.get(WEEK)
        assert shown.status_code == 200, shown.text[:300]
        text = shown.text
        assert 'href="/backoffice/hours"' in text  # in the navigation
        assert "lun. 30" in text and "Semaine 49" in text
        assert "7 h 30" in text and "14 h 15" in text and "2 h 00" in text
        assert "week=2026-W48" in text and "week=2026-W50" in text
        assert "Toujours présents" in text and "Sacha Superviseur" in text
        browser.cookies.set("lang", "en")
        english = (await manager.get(WEEK)).text
        assert "Mon 30" in english and "7h 30m" in english and "14h 15m" in english
        assert "Previous week" in english
        exported = await manager.get("/backoffice/hours.csv?week=2026-W49")
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        lines = exported.content.decode("utf-8-sig").splitlines()
        assert lines[0] == "Name,2026-11-30,2026-12-01,2026-12-02,2026-12-03,2026-12-04," \
                           "2026-12-05,2026-12-06,Total"
        assert "Chloé Caisse,7:30,0:00,0:00,0:00,4:00,2:45,0:00,14:15" in lines
        assert "Sacha Superviseur,0:00,0:00,0:00,0:00,0:00,0:00,2:00,2:00" in lines
        bad = await manager.get("/backoffice/hours?week=2026-W60")
        assert bad.status_code == 422


async def test_a_cashier_and_a_supervisor_are_refused_the_hours(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    for who in (CASHIER, SUPERVISOR):
        async with client_for(app) as browser:
            staff = await signed_in(browser, who)
            page = await staff.get("/backoffice/hours")
            assert page.status_code == 403 and "autorisé" in page.text
            assert (await staff.get("/backoffice/hours.csv")).status_code == 403
            home = await staff.get("/backoffice/audit")  # any page with the navigation
            assert 'href="/backoffice/hours"' not in home.text


async def test_a_manager_closes_a_forgotten_clock_out_with_a_reason(
    app: Starlette, db: Database, venue: DemoVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: MONDAY + timedelta(days=1))
    await _manager(db)
    shift_id = await _shift(db, CASHIER[0], MONDAY, None)
    url = f"/backoffice/hours/shifts/{shift_id}/close?week=2026-W49"
    async with client_for(app) as browser:
        manager = await signed_in(browser, MANAGER)
        page = (await manager.get(WEEK)).text
        assert f'id="shift-{shift_id}"' in page and "Clore le service" in page
        refused = await manager.post(url, {"clocked_out_at": "2026-11-30T16:00", "reason": ""})
        assert refused.status_code == 422 and "Dites pourquoi" in refused.text
        early = await manager.post(url, {"clocked_out_at": "2026-11-30T07:00",
                                         "reason": "Oubli"})
        assert early.status_code == 422 and "L’heure de départ doit suivre" in early.text
        closed = await manager.post(url, {"clocked_out_at": "2026-11-30T16:00",
                                          "reason": "Oubli de pointage"})
        assert closed.status_code == 200, closed.text[:300]
        assert "closed=" in closed.headers["hx-redirect"]
        after = (await manager.get(closed.headers["hx-redirect"])).text
        assert 'id="hours-feedback"' in after and "8 h 00" in after
    [shift] = await _shifts(db)
    assert shift.clocked_out_at == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 16:00 Paris
    async with db.sessionmaker() as session:
        [entry] = (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "shift.closed"))).all()
        manager_id = await session.scalar(select(Staff.id).where(Staff.email == MANAGER[0]))
    assert entry.actor_staff_id == manager_id and entry.changes["reason"] == "Oubli de pointage"


async def test_another_companys_and_another_sites_manager_see_and_close_nothing(
    app: Starlette, db: Database, venue: DemoVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: MONDAY + timedelta(days=1))
    shift_id = await _shift(db, CASHIER[0], MONDAY, None)
    async with db.sessionmaker() as session, session.begin():
        kiosk = Site(company_id=(await session.get(Site, venue.site_id)).company_id,  # type: ignore[union-attr]
                     name="Le Kiosque")
        session.add(kiosk)
        await session.flush()
        kiosk_id = kiosk.id
    await _manager(db, sites=[kiosk_id])
    other = await another_company_admin(db)
    close = {"clocked_out_at": "2026-11-30T16:00", "reason": "Pas à moi"}
    for who in (other, MANAGER):
        async with client_for(app) as browser:
            outsider = await signed_in(browser, who)
            async with nothing_changes(db):
                page = await outsider.get(WEEK)
                assert page.status_code == 200 and "Chloé Caisse" not in page.text
                assert f"shift-{shift_id}" not in page.text
                csv = await outsider.get("/backoffice/hours.csv?week=2026-W49")
                assert "Chloé" not in csv.content.decode("utf-8-sig")
                for url in (f"/backoffice/hours?site={venue.site_id}",
                            f"/backoffice/hours.csv?site={venue.site_id}"):
                    assert (await outsider.get(url)).status_code == 404
                expect(await outsider.post(f"/backoffice/hours/shifts/{shift_id}/close",
                                           close), 404, "unknown_shift")
    async with client_for(app) as browser:
        admin = await signed_in(browser, ADMIN)
        assert "Chloé Caisse" in (await admin.get(WEEK)).text
