"""Machines from the back office: the adding wizard (model, serial, site and mode, the secret
shown once), editing, moving to another site, the list filtered by site a page at a time;
every refusal next to its field and nothing changed; every change in the audit log."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from accounts.models import Site
from customers.models import UserGroup
from demo.seed import DemoVenue
from machines.device_service import hash_secret
from machines.models import Machine
from tests.backoffice.conftest import ADMIN, CASHIER, audit_actions, post_form, sign_in
from tests.conftest import Database, client_for

WIZARD = "/backoffice/machines/new"
SUPERVISOR = ("superviseur@cafe-de-la-gare.fr", "super-demo")
KITCHEN = ("cuisine@cafe-de-la-gare.fr", "cuisine-demo")


async def _machines(db: Database) -> list[Machine]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(Machine).order_by(Machine.id))).all())


async def _add_site(db: Database, venue: DemoVenue, name: str, archived: bool = False) -> int:
    async with db.sessionmaker() as session, session.begin():
        first = await session.get(Site, venue.site_id)
        assert first is not None
        site = Site(company_id=first.company_id, name=name, address="1 rue du Port",
                    archived_at=datetime.now(UTC) if archived else None)
        session.add(site)
        await session.flush()
        return site.id


def _error(html: str, field: str) -> str:
    found = re.search(rf'id="e-{field}"[^>]*>([^<]*)<', html)
    assert found is not None, html[:2000]
    return found.group(1).strip()


def _step(html: str) -> str:
    found = re.search(r'data-step="(\w+)"', html)
    assert found is not None, html[:2000]
    return found.group(1)


async def test_the_wizard_adds_a_machine_and_shows_its_secret_once(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    first = await client.get(WIZARD)
    assert first.status_code == 200 and _step(first.text) == "model"
    assert "Jura X8" in first.text and first.headers["cache-control"] == "no-store"
    serial_step = await post_form(client, WIZARD, {"step": "model", "model": "Jura X8"})
    assert serial_step.status_code == 200 and _step(serial_step.text) == "serial"
    assert 'type="hidden" name="model" value="Jura X8"' in serial_step.text
    place = await post_form(client, WIZARD, {"step": "serial", "model": "Jura X8",
                                             "serial": "JX8-0042"})
    assert place.status_code == 200 and _step(place.text) == "place"
    assert f'<option value="{venue.site_id}"' in place.text
    before = len(await _machines(db))
    added = await post_form(client, WIZARD, {
        "step": "place", "model": "Jura X8", "serial": "JX8-0042", "name": "Comptoir bas",
        "site_id": str(venue.site_id), "mode": "prepaid"})
    assert added.status_code == 200, added.text[:1000]
    assert added.headers["cache-control"] == "no-store"
    secret = re.search(r'id="device-secret">([^<]+)<', added.text)
    assert secret is not None
    machines = await _machines(db)
    assert len(machines) == before + 1
    new = machines[-1]
    assert (new.serial, new.name, new.model, new.mode, new.site_id) == (
        "JX8-0042", "Comptoir bas", "Jura X8", "prepaid", venue.site_id)
    assert new.secret_hash == hash_secret(secret.group(1))  # the one that works, kept hashed
    assert f"/m/{new.token}" in added.text and "<svg" in added.text
    # Reloading (the wizard's address) or the machine's pages never show it again.
    for url in (WIZARD, f"/staff/machines/{new.id}", "/staff/machines",
                f"/backoffice/machines/{new.id}"):
        assert secret.group(1) not in (await client.get(url)).text, url
    # Posting the last step again (a reload that resends) adds nothing and shows no secret.
    again = await post_form(client, WIZARD, {
        "step": "place", "model": "Jura X8", "serial": "JX8-0042", "name": "Comptoir bas",
        "site_id": str(venue.site_id), "mode": "prepaid"})
    assert again.status_code == 422 and _step(again.text) == "serial"
    assert "device-secret" not in again.text and len(await _machines(db)) == before + 1
    assert ("machine.added", f"Comptoir bas (#{new.id})") in await audit_actions(db)


async def test_each_step_checks_every_answer_again_and_says_what_is_wrong(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    archived = await _add_site(db, venue, "Ancien kiosque", archived=True)
    before = len(await _machines(db))
    no_model = await post_form(client, WIZARD, {"step": "model", "model": ""})
    assert no_model.status_code == 422 and _step(no_model.text) == "model"
    assert _error(no_model.text, "model") == "Choisissez un modèle dans la liste."
    unknown = await post_form(client, WIZARD, {"step": "model", "model": "Moka 3000"})
    assert unknown.status_code == 422 and _error(unknown.text, "model")
    for serial in ("", "x", "JX8 0042", "<b>"):
        bad = await post_form(client, WIZARD, {"step": "serial", "model": "Jura X8",
                                               "serial": serial})
        assert bad.status_code == 422 and _step(bad.text) == "serial", serial
        assert "numéro de série" in _error(bad.text, "serial"), serial
    taken = await post_form(client, WIZARD, {"step": "serial", "model": "Jura X8",
                                             "serial": "DEMO-HALL-1"})
    assert taken.status_code == 422
    assert _error(taken.text, "serial") == "Une autre machine a déjà ce numéro de série."
    # A hidden answer changed on the way: the step it belongs to comes back, with its error.
    tampered = await post_form(client, WIZARD, {
        "step": "place", "model": "Moka 3000", "serial": "JX8-0043", "site_id":
        str(venue.site_id), "mode": "open"})
    assert tampered.status_code == 422 and _step(tampered.text) == "model"
    for site, mode, field in ((str(archived), "open", "site_id"), ("", "open", "site_id"),
                              ("999999", "open", "site_id"),
                              (str(venue.site_id), "free-for-all", "mode")):
        refused = await post_form(client, WIZARD, {
            "step": "place", "model": "Jura X8", "serial": "JX8-0043", "site_id": site,
            "mode": mode})
        assert refused.status_code == 422 and _step(refused.text) == "place", (site, mode)
        assert _error(refused.text, field), (site, mode)
    assert f'<option value="{archived}"' not in refused.text  # an archived site: not offered
    assert len(await _machines(db)) == before
    assert await audit_actions(db) == []


async def test_editing_a_machine_renames_it_and_sets_its_mode(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    machine = (await _machines(db))[0]
    form = await client.get(f"/backoffice/machines/{machine.id}")
    assert form.status_code == 200 and f'value="{machine.name}"' in form.text
    empty = await post_form(client, f"/backoffice/machines/{machine.id}",
                            {"name": " ", "mode": "open"})
    assert empty.status_code == 422 and _error(empty.text, "name")
    bad_mode = await post_form(client, f"/backoffice/machines/{machine.id}",
                               {"name": "Hall", "mode": "gratis"})
    assert bad_mode.status_code == 422 and _error(bad_mode.text, "mode")
    assert (await _machines(db))[0].name == machine.name
    saved = await post_form(client, f"/backoffice/machines/{machine.id}",
                            {"name": "Hall d'entrée", "mode": "payment"})
    assert saved.headers["hx-redirect"] == f"/backoffice/machines/{machine.id}?saved=1"
    changed = (await _machines(db))[0]
    assert (changed.name, changed.mode) == ("Hall d'entrée", "payment")
    actions = [a for a, _ in await audit_actions(db)]
    assert actions == ["machine.renamed", "machine.mode"]


async def test_moving_a_machine_asks_first_and_goes_only_to_an_open_site(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    kiosk = await _add_site(db, venue, "Le Kiosque")
    archived = await _add_site(db, venue, "Ancien kiosque", archived=True)
    machine = (await _machines(db))[0]
    url = f"/backoffice/machines/{machine.id}/move"
    page = await client.get(f"/backoffice/machines/{machine.id}")
    assert "hx-confirm=" in page.text and f'<option value="{kiosk}"' in page.text
    assert f'<option value="{archived}"' not in page.text
    unconfirmed = await post_form(client, url, {"site_id": str(kiosk)})
    assert unconfirmed.status_code == 422
    for site in (str(archived), "999999", "x"):
        refused = await post_form(client, url, {"site_id": site, "confirm": "yes"})
        assert refused.status_code == 422 and _error(refused.text, "site_id"), site
    assert (await _machines(db))[0].site_id == venue.site_id and await audit_actions(db) == []
    moved = await post_form(client, url, {"site_id": str(kiosk), "confirm": "yes"})
    assert moved.headers["hx-redirect"] == f"/backoffice/machines/{machine.id}?moved=1"
    assert (await _machines(db))[0].site_id == kiosk
    assert await audit_actions(db) == [("machine.moved", f"{machine.name} (#{machine.id})")]
    shown = await client.get(f"/backoffice/machines/{machine.id}?moved=1")
    assert "Le Kiosque" in shown.text


async def test_the_list_is_filtered_by_site_on_the_server_a_page_at_a_time(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    kiosk = await _add_site(db, venue, "Le Kiosque")
    async with db.sessionmaker() as session, session.begin():
        for n in range(23):
            session.add(Machine(site_id=kiosk, name=f"Kiosque {n:02}", model="Simulator",
                                serial=f"SIM-K{n:02}", mode="open", token=f"kiosque-{n:02}",
                                settings_pin="111111", maintenance_pin="222222", alerts=[]))
    demo = await client.get(f"/staff/machines?site={venue.site_id}")
    assert demo.status_code == 200
    assert "Machine du hall" in demo.text and "Kiosque 00" not in demo.text
    first = await client.get(f"/staff/machines?site={kiosk}")
    assert "Machine du hall" not in first.text and "Kiosque 00" in first.text
    assert "Kiosque 19" in first.text and "Kiosque 20" not in first.text
    assert "SIM-K00 · Le Kiosque</small>" in first.text  # each card says its site
    assert f"/staff/machines?site={kiosk}&amp;page=2" in first.text
    second = await client.get(f"/staff/machines?site={kiosk}&page=2")
    assert "Kiosque 20" in second.text and "Kiosque 19" not in second.text
    assert (await client.get("/staff/machines?site=999999")).status_code == 404
    async with db.sessionmaker() as session:
        total = await session.scalar(select(func.count()).select_from(Machine))
    assert total == 25


NEW_ROUTES = [
    ("GET", WIZARD, {}),
    ("POST", WIZARD, {"step": "model", "model": "Jura X8"}),
    ("GET", "/backoffice/machines/{machine}", {}),
    ("POST", "/backoffice/machines/{machine}", {"name": "À moi", "mode": "open"}),
    ("POST", "/backoffice/machines/{machine}/move", {"site_id": "{site}", "confirm": "yes"}),
    ("POST", "/backoffice/groups/{group}", {"name": "À moi"}),
    ("POST", "/backoffice/groups/topups", {"topup-0": "5"}),
]


async def test_roles_without_the_configure_permission_get_a_translated_refusal(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    machine = (await _machines(db))[0]
    async with db.sessionmaker() as session:
        group = await session.scalar(select(UserGroup.id))
    ids = {"machine": machine.id, "site": venue.site_id, "group": group}
    for who in (CASHIER, SUPERVISOR, KITCHEN):
        async with client_for(app) as client:
            await sign_in(client, who)
            client.headers.pop("hx-request")  # as a browser's address bar asks: the page
            for method, path, form in NEW_ROUTES:
                url = path.format(**ids)
                data = {k: v.format(**ids) for k, v in form.items()}
                answer = await (client.get(url) if method == "GET"
                                else client.post(url, data=data))
                assert answer.status_code == 403, (who, url, answer.text[:300])
                refusal = html.unescape(answer.text)
                assert "Vous n'êtes pas autorisé à effectuer cette action." in refusal
                assert 'href="' in answer.text  # a way back
    assert await audit_actions(db) == []
    assert [(m.name, m.mode) for m in await _machines(db)][0] == (machine.name, machine.mode)
