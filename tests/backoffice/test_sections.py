"""Managers limited to some sections (customers, campaigns, statistics, loyalty settings) and
some sites: what they open, what they are refused (a page in their language with a way
back), what the navigation shows them, and the staff form that sets their limits."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.models import Staff, StaffSection
from accounts.roles import ROLES, Permission
from accounts.sections import SECTIONED, Section, holds, permissions_of
from accounts.service import StaffIdentity, identity
from backoffice.stats_topic import StatsTopic
from demo.seed import DemoVenue, demo_hash
from domain.models import AuditEntry
from errors import Forbidden
from realtime.topics import Viewer
from tests.api.test_bad_input import login
from tests.backoffice.conftest import ADMIN, audit_actions, post_form, sign_in
from tests.backoffice.stat_rows import PASSWORD, Fact, company_of, roll_up, second_site
from tests.conftest import Database, client_for

RANGE = "start=2026-03-09&end=2026-03-11"


async def limited(db: Database, company_id: int, email: str, sections: list[str] | None,
                  role: str = "manager", sites: list[int] | None = None) -> int:
    """A member of `role` limited to `sections` (None: every one) and `sites` (None: all),
    with the PIN 2468; their id."""
    from accounts.models import StaffSite

    async with db.sessionmaker() as session, session.begin():
        member = Staff(company_id=company_id, email=email, name=email.split("@")[0], role=role,
                       password_hash=demo_hash(PASSWORD), pin_hash=demo_hash("2468"),
                       all_sections=sections is None, all_sites=sites is None)
        session.add(member)
        await session.flush()
        session.add_all(StaffSection(staff_id=member.id, section=s) for s in sections or [])
        session.add_all(StaffSite(staff_id=member.id, site_id=s) for s in sites or [])
        return member.id


def _nav(html: str) -> list[str]:
    nav = html.split('class="bo-nav"')[1].split("</nav>")[0]
    return [a.split('"')[1] for a in nav.split("href=")[1:]]


def _refused_page(answer: httpx.Response) -> None:
    """Refused as a page in French with a way back, not a bare error."""
    assert answer.status_code == 403, answer.text[:200]
    assert '<html lang="fr">' in answer.text
    assert "Vous n’êtes pas autorisé à effectuer cette action." in answer.text.replace(
        "&#39;", "’").replace("'", "’")
    assert "data-back" in answer.text


# What a section takes away, and only that


def test_a_limited_role_keeps_the_rest_of_its_permissions() -> None:
    manager = ROLES["manager"]
    assert permissions_of("manager", None) == manager
    assert permissions_of("manager", frozenset()) == manager - SECTIONED
    only_customers = permissions_of("manager", frozenset({Section.CUSTOMERS}))
    assert only_customers == manager - {Permission.REPORT, Permission.CAMPAIGNS,
                                        Permission.LOYALTY}
    # A section never gives what the role lacks: a cashier given statistics has none.
    assert Permission.REPORT not in permissions_of("cashier", frozenset({"statistics"}))
    member = StaffIdentity(1, 1, "manager", "M", None, frozenset({Section.STATISTICS}))
    assert member.may("report") and member.may(Permission.FLOOR)
    assert not member.may(Permission.CUSTOMERS) and not member.may("no-such-permission")
    assert holds(Viewer(role="manager", sections=frozenset({"customers"})), "customers")
    assert not holds(Viewer(role="manager", sections=frozenset({"customers"})), "report")


def test_no_permission_is_asked_of_a_role_alone() -> None:
    """Every check of a member goes through them (their sections apply): outside the roles'
    own table, no source calls `can(role, …)`, and nobody reads ROLES for a member."""
    root = Path(__file__).resolve().parents[2]
    wrong = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "tests/", "bench/", "build/")) or relative in (
                "accounts/roles.py", "accounts/sections.py", "comptoir_cli.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                    node.func.id in ("can", "require", "require_any")):
                wrong.append(f"{relative}:{node.lineno} {node.func.id}(…)")
            if isinstance(node, ast.ImportFrom) and node.module == "accounts.roles" and {
                    "ROLES", "can"} & {alias.name for alias in node.names} and (
                    relative not in ("accounts/staff_admin.py",)):  # which roles exist
                wrong.append(f"{relative}:{node.lineno} imports ROLES or can")
    assert not wrong, wrong


# A manager limited to customers


async def test_a_manager_limited_to_customers_is_refused_the_statistics_and_keeps_the_floor(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company = await company_of(db, venue)
    email = "clients@cafe-de-la-gare.fr"
    member_id = await limited(db, company, email, ["customers"])
    async with client_for(app) as client:
        client.cookies.set("lang", "fr")
        await login(client, email, PASSWORD)
        for path in ("/backoffice/stats", "/backoffice/stats/hours", "/backoffice/dashboard",
                     "/backoffice/dashboard/widgets/new"):
            _refused_page(await client.get(path))
        home = await client.get("/backoffice")
        assert home.status_code == 200
        nav = _nav(home.text)
        assert "/backoffice/stats" not in nav and "/backoffice/dashboard" not in nav
        # The rest of the manager's role: the floor, the menu, the tables, the staff.
        assert {"/backoffice/tables", "/backoffice/menu", "/backoffice/staff", "/staff"} <= set(
            nav)
        assert 'class="kpi-revenue"' not in home.text  # the day's money is statistics
        assert (await client.get(f"/pos/{venue.site_id}")).status_code == 200
        assert (await client.get(f"/backoffice/menu/{venue.site_id}")).status_code == 200
        me = (await client.get("/api/v1/staff/me")).json()
        assert "report" not in me["permissions"] and "loyalty" not in me["permissions"]
        assert {"customers", "floor", "validate", "configure"} <= set(me["permissions"])
    # Nor do they watch the company's figures live.
    async with db.sessionmaker() as session:
        member = await identity(session, member_id)
        assert member is not None and member.sections == frozenset({Section.CUSTOMERS})
        viewer = Viewer(staff_id=member.id, company_id=company, role="manager",
                        sections=member.sections)
        assert not await StatsTopic().authorize(session, [str(company)], viewer)
        assert await StatsTopic().authorize(session, [str(company)], Viewer(
            staff_id=member.id, company_id=company, role="manager"))


async def test_at_the_till_a_manager_limited_to_customers_needs_an_approval_for_a_report(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    """The till's member switched in by PIN is limited as when signed in: the X report
    (REPORT) asks for someone's approval; the rest of the till is theirs."""
    from tests.api.test_permission_matrix import _till_device

    company = await company_of(db, venue)
    email = "caisse-clients@cafe-de-la-gare.fr"
    await limited(db, company, email, ["customers"])
    till, csrf = await _till_device(app, db, email, 1)
    try:
        x = await till.post("/api/v1/till/reports/x", json={},
                            headers={"x-csrf-token": csrf, "accept": "application/json"})
        assert x.status_code == 409 and x.json()["error"]["code"] == "approval_needed", x.text
        assert (await till.get("/till/tickets")).status_code == 200
        home = await till.get("/till")
        assert "/till/sell" in home.text
    finally:
        await till.aclose()


# A manager limited to statistics


async def test_a_manager_limited_to_statistics_sees_them_and_no_other_section(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company = await company_of(db, venue)
    email = "chiffres@cafe-de-la-gare.fr"
    member_id = await limited(db, company, email, ["statistics"])
    async with client_for(app) as client:
        await login(client, email, PASSWORD)
        for path in ("/backoffice/stats", "/backoffice/dashboard",
                     f"/backoffice/stats/hours?{RANGE}&format=csv"):
            assert (await client.get(path)).status_code == 200, path
        nav = _nav((await client.get("/backoffice/stats")).text)
        assert {"/backoffice/stats", "/backoffice/dashboard"} <= set(nav)
        me = (await client.get("/api/v1/staff/me")).json()
        assert "report" in me["permissions"]
        assert not {"customers", "campaigns", "loyalty"} & set(me["permissions"])
    async with db.sessionmaker() as session:
        member = await identity(session, member_id)
    assert member is not None
    for refused in (Permission.CUSTOMERS, Permission.CAMPAIGNS, Permission.LOYALTY):
        assert not member.may(refused)
    # The loyalty customers' pages (built elsewhere) ask for CUSTOMERS through the pages'
    # one guard (backoffice/forms.member_for), which asks the member.
    with pytest.raises(Forbidden):
        member.require(Permission.CUSTOMERS)
    with pytest.raises(Forbidden):
        member.require_any(Permission.CAMPAIGNS, Permission.LOYALTY)


# A manager of one site


async def test_a_manager_of_one_site_sees_only_that_sites_figures_and_places(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company = await company_of(db, venue)
    kiosk = await second_site(db, company)
    await roll_up(db, company,
                  Fact(venue.site_id, "2026-03-10T09", "sales", count=2, amount=1250),
                  Fact(venue.site_id, "2026-03-10T10", "brews", count=3, amount=300),
                  Fact(kiosk, "2026-03-10T09", "sales", count=1, amount=700))
    email = "kiosque@cafe-de-la-gare.fr"
    await limited(db, company, email, None, sites=[kiosk])
    async with client_for(app) as client:
        await login(client, email, PASSWORD)
        by_site = (await client.get(
            f"/backoffice/stats/consumption?{RANGE}&by=site&format=csv")).text
        assert "Le Kiosque" in by_site and "Café de la Gare" not in by_site
        assert "7.00" in by_site and "12.50" not in by_site
        sales = await client.get(f"/backoffice/stats?{RANGE}&format=csv")
        assert "7.00" in sales.text and "12.50" not in sales.text and "15.50" not in sales.text
        for other in (f"/backoffice/stats?{RANGE}&site={venue.site_id}",
                      f"/backoffice/stats/hours?{RANGE}&site={venue.site_id}",
                      f"/backoffice?site={venue.site_id}",
                      f"/backoffice/menu/{venue.site_id}", f"/pos/{venue.site_id}",
                      f"/backoffice/hours?site={venue.site_id}",
                      f"/backoffice/sites/{venue.site_id}"):
            assert (await client.get(other)).status_code == 404, other
        # Where the back office sends them first, and what it lists: their site only.
        assert (await client.get("/backoffice/menu", follow_redirects=False)).headers[
            "location"] == f"/backoffice/menu/{kiosk}"
        assert (await client.get("/staff", follow_redirects=False)).headers[
            "location"] == f"/pos/{kiosk}"
        company_page = (await client.get("/backoffice/company")).text
        assert f"/backoffice/sites/{kiosk}" in company_page
        assert f"/backoffice/sites/{venue.site_id}" not in company_page
        home = (await client.get("/backoffice")).text
        assert f"/backoffice/sites/{venue.site_id}" not in home
        tills = (await client.get("/backoffice/tills")).text
        assert "Café de la Gare" not in tills
        qr = (await client.get("/staff/machines/qr")).text
        assert "/m/" not in qr  # the demo's machines are at the other site


# The staff form


async def test_the_staff_form_saves_and_clears_sections_and_refuses_bad_ones(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company = await company_of(db, venue)
    chef_id = await limited(db, company, "chef@cafe-de-la-gare.fr", None)
    await sign_in(client, ADMIN)
    url = f"/backoffice/staff/{chef_id}"
    form = (await client.get(url)).text
    assert 'name="section-customers"' in form and 'value="only"' in form
    saved = await post_form(client, url, {"role": "manager", "all_sites": "1",
                                          "sections": "only", "section-customers": "1",
                                          "section-statistics": "1"})
    assert saved.status_code == 200 and saved.headers["hx-redirect"] == url, saved.text

    async def stored() -> tuple[bool, list[str]]:
        async with db.sessionmaker() as session:
            chef = await session.get(Staff, chef_id)
            assert chef is not None
            await session.refresh(chef)
            rows = (await session.scalars(select(StaffSection.section).where(
                StaffSection.staff_id == chef_id).order_by(StaffSection.section))).all()
            return chef.all_sections, list(rows)

    assert await stored() == (False, ["customers", "statistics"])
    listing = (await client.get("/backoffice/staff")).text
    assert "Clients, Statistiques" in listing
    for bad in ({"sections": "only", "section-bogus": "1"}, {"sections": "perhaps"}):
        refused = await post_form(client, url, {"role": "manager", "all_sites": "1", **bad})
        assert refused.status_code == 422 and 'class="field-error"' in refused.text, bad
        assert await stored() == (False, ["customers", "statistics"])
    # None of them: a manager of the floor who opens no customers and no statistics.
    assert (await post_form(client, url, {"role": "manager", "all_sites": "1",
                                          "sections": "only"})).status_code == 200
    assert await stored() == (False, [])
    assert "Aucune rubrique" in (await client.get("/backoffice/staff")).text
    cleared = await post_form(client, url, {"role": "manager", "all_sites": "1",
                                            "sections": "all", "section-customers": "1"})
    assert cleared.status_code == 200
    assert await stored() == (True, [])
    target = f"staff:{chef_id}"
    assert await audit_actions(db) == [("staff.sections", target)] * 3
    async with db.sessionmaker() as session:
        first = await session.scalar(select(AuditEntry).order_by(AuditEntry.id))
    assert first is not None and first.changes["after"]["sections"] == [
        "customers", "statistics"]
    audit = (await client.get("/backoffice/audit")).text
    assert "Rubriques d’un membre de l’équipe modifiées" in audit.replace("'", "’")
    assert "Clients, Statistiques" in audit


async def test_a_role_that_opens_no_section_is_not_limited_and_a_limited_giver_gives_no_more(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company = await company_of(db, venue)
    cashier_id = await limited(db, company, "caisse2@cafe-de-la-gare.fr", None, role="cashier")
    await sign_in(client, ADMIN)
    answer = await post_form(client, f"/backoffice/staff/{cashier_id}", {
        "role": "cashier", "all_sites": "1", "sections": "only", "section-customers": "1"})
    assert answer.status_code == 200
    async with db.sessionmaker() as session:
        cashier = await session.get(Staff, cashier_id)
        assert cashier is not None and cashier.all_sections
    # A manager limited to customers gives neither every section nor statistics.
    await limited(db, company, "petit-chef@cafe-de-la-gare.fr", ["customers"])
    async with client_for(app) as manager:
        await sign_in(manager, ("petit-chef@cafe-de-la-gare.fr", PASSWORD))
        other = await limited(db, company, "autre@cafe-de-la-gare.fr", ["customers"])
        for sections in ({"sections": "all"},
                         {"sections": "only", "section-statistics": "1"}):
            refused = await post_form(manager, f"/backoffice/staff/{other}", {
                "role": "manager", "all_sites": "1", **sections})
            assert refused.status_code == 422 and 'class="field-error"' in refused.text
        invited = await post_form(manager, "/backoffice/staff", {
            "name": "Léa", "email": "lea@cafe-de-la-gare.fr", "role": "manager",
            "all_sites": "1", "sections": "all"})
        assert invited.status_code == 422
        ok = await post_form(manager, "/backoffice/staff", {
            "name": "Léa", "email": "lea@cafe-de-la-gare.fr", "role": "manager",
            "all_sites": "1", "sections": "only", "section-customers": "1"})
        assert ok.status_code == 200, ok.text
    async with db.sessionmaker() as session:
        lea = await session.scalar(select(Staff).where(Staff.email == "lea@cafe-de-la-gare.fr"))
        assert lea is not None and not lea.all_sections
        assert (await session.scalars(select(StaffSection.section).where(
            StaffSection.staff_id == lea.id))).all() == ["customers"]
