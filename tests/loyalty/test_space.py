"""The customer's side of loyalty, through the app: a diner signs up at a table with the
venue's loyalty fields, signs in there and collects the table's points; the customer space
saves the profile and its consents (also embedded: its form posts with the page's CSRF
token); a one-click unsubscribe link changes nothing on GET, unsubscribes on POST without
a session, and refuses a forged link. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select, update
from starlette.applications import Starlette

from accounts.models import Site
from customers.models import Consumer
from demo.seed import DemoVenue
from loyalty import profiles, setup
from loyalty.commands import Profile, SetRules
from loyalty.models import LoyaltyProfile, LoyaltyRules, PointsEntry
from loyalty.unsubscribe import Channel, headers_for, link_for, token_for
from realtime.bus import make_bus
from realtime.events import run
from tests.conftest import Database, client_for
from web.commands import parse

SIGN_UP = "/api/v1/consumers/signup"
LOG_IN = "/api/v1/consumers/login"


async def _programme(db: Database, venue: DemoVenue, **asked: bool) -> int:
    """Loyalty on for the demo company, 50 points for a complete profile; its id."""
    async with db.sessionmaker() as session:
        company_id = await session.scalar(select(Site.company_id).where(
            Site.id == venue.site_id))
    assert company_id is not None
    command = parse(SetRules, {"profile_points": 50})
    bus = make_bus(None)
    try:
        await run(db.sessionmaker, bus, lambda tx: setup.set_rules(tx, company_id, command))
    finally:
        await bus.close()
    if asked:
        async with db.sessionmaker() as session, session.begin():
            await session.execute(update(LoyaltyRules).where(
                LoyaltyRules.company_id == company_id).values(**asked))
    return company_id


async def _profile(db: Database, consumer_id: int) -> LoyaltyProfile | None:
    async with db.sessionmaker() as session:
        return await session.get(LoyaltyProfile, consumer_id)


async def _consumer(db: Database, email: str) -> Consumer | None:
    async with db.sessionmaker() as session:
        return await session.scalar(select(Consumer).where(Consumer.email == email))


async def _points(db: Database, consumer_id: int) -> list[tuple[str, int]]:
    async with db.sessionmaker() as session:
        rows = await session.execute(select(PointsEntry.kind, PointsEntry.points).where(
            PointsEntry.consumer_id == consumer_id).order_by(PointsEntry.id))
        return [(kind, points) for kind, points in rows]


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _sign_up(token: str, email: str, **extra: Any) -> dict[str, Any]:
    return {"machine": f"t:{token}", "email": email, "name": "Inès", "password": "long enough",
            **extra}


async def test_a_diner_signs_up_at_the_table_signs_in_there_and_collects_the_points(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    await _programme(db, venue)  # asks the phone and the birthday (the defaults)
    _, token = venue.table_tokens[3]
    async with client_for(app) as phone:
        started = await phone.post(f"/api/v1/tables/{token}/start", json={"name": "Inès"})
        assert started.status_code in (200, 201), started.text
        table = await phone.get(f"/t/{token}")
        assert f'href="/t/{token}/login"' in table.text
        assert f'href="/t/{token}/signup"' in table.text
        form = await phone.get(f"/t/{token}/signup")
        assert form.status_code == 200
        assert f'value="t:{token}"' in form.text
        assert 'name="phone"' in form.text and 'name="birthday"' in form.text
        assert 'name="postcode"' not in form.text  # not asked
        assert 'name="email_consent" value="on">' in form.text  # unticked
        assert f'href="/t/{token}"' in form.text  # back to the table

        # A bad phone number: refused by its field, and no account is made.
        bad = await phone.post(SIGN_UP, json=_sign_up(token, "ines@example.com", phone="abc"))
        assert bad.status_code == 422
        assert (bad.json()["error"]["code"], bad.json()["error"]["field"]) == (
            "bad_phone", "phone")
        assert await _consumer(db, "ines@example.com") is None

        # The form as the page posts it (a form, its CSRF token, the ticked consent).
        asked = await phone.post(SIGN_UP, headers={"X-CSRF-Token": _csrf(form)}, data=_sign_up(
            token, "ines@example.com", phone="06 98 76 54 32", birthday="1992-03-04",
            email_consent="on"))
        assert asked.status_code == 202, asked.text
        assert asked.json()["redirect"] == f"/t/{token}/login?signed_up=1"
        ines = await _consumer(db, "ines@example.com")
        assert ines is not None
        profile = await _profile(db, ines.id)
        assert profile is not None
        assert (profile.phone, str(profile.birthday)) == ("0698765432", "1992-03-04")
        assert profile.email_consent_at is not None and profile.sms_consent_at is None
        assert await _points(db, ines.id) == [("profile", 50)]

        login = await phone.get(f"/t/{token}/login?signed_up=1")
        assert login.status_code == 200 and "signed-up" in login.text
        signed = await phone.post(LOG_IN, json={
            "machine": f"t:{token}", "email": "ines@example.com", "password": "long enough"})
        assert signed.status_code == 200, signed.text
        assert signed.json()["redirect"] == f"/t/{token}"
        table = await phone.get(f"/t/{token}")
        assert 'id="collect-points-button"' in table.text
        collected = await phone.post(f"/api/v1/tables/{token}/customer", json={})
        assert collected.status_code == 200, collected.text
        assert (collected.json()["consumer_id"], collected.json()["balance"]) == (ines.id, 50)


async def test_an_unknown_table_opens_no_account_page(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as phone:
        for name in ("signup", "login", "forgot"):
            assert (await phone.get(f"/t/no-such-table/{name}")).status_code == 404
        refused = await phone.post(SIGN_UP, json=_sign_up("no-such-table", "x@example.com"))
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "unknown_table"
        assert await _consumer(db, "x@example.com") is None


async def test_a_sign_up_tells_nothing_of_who_has_an_account_or_a_phone(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company_id = await _programme(db, venue)
    email, _ = venue.consumers[0]
    owner = await _consumer(db, email)
    assert owner is not None
    _, token = venue.table_tokens[4]
    async with client_for(app) as phone:
        again = await phone.post(SIGN_UP, json=_sign_up(token, email, phone="0611111111"))
        assert again.status_code == 202
        assert await _profile(db, owner.id) is None  # the stranger changed nothing of hers
        # Her phone number, given by another at sign-up: the account, without it.
        bus = make_bus(None)
        command = parse(Profile, {"phone": "0622222222"})
        try:
            await run(db.sessionmaker, bus,
                      lambda tx: profiles.save(tx, company_id, owner.id, command))
        finally:
            await bus.close()
        taken = await phone.post(SIGN_UP, json=_sign_up(token, "copy@example.com",
                                                        phone="06 22 22 22 22"))
        assert taken.status_code == 202
    copy = await _consumer(db, "copy@example.com")
    assert copy is not None
    kept = await _profile(db, copy.id)
    assert kept is not None and kept.phone is None


async def test_the_machine_sign_up_asks_the_venue_fields_too(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    await _programme(db, venue, ask_phone=False, ask_birthday=False, ask_postcode=True)
    machine = venue.machines[0].token
    async with client_for(app) as phone:
        form = await phone.get(f"/m/{machine}/signup")
        assert 'name="postcode"' in form.text and 'name="phone"' not in form.text
        asked = await phone.post(SIGN_UP, json={
            "machine": machine, "email": "nour@example.com", "name": "Nour",
            "password": "long enough", "postcode": "69001", "sms_consent": False})
        assert asked.status_code == 202, asked.text
    nour = await _consumer(db, "nour@example.com")
    assert nour is not None
    profile = await _profile(db, nour.id)
    assert profile is not None and profile.postcode == "69001"
    assert await _points(db, nour.id) == [("profile", 50)]


async def _signed_in(app: Starlette, client: httpx.AsyncClient, venue: DemoVenue) -> int:
    email, password = venue.consumers[0]
    signed = await client.post(LOG_IN, json={
        "machine": venue.machines[0].token, "email": email, "password": password})
    assert signed.status_code == 200, signed.text
    consumer_id: int = signed.json()["consumer"]["id"]
    return consumer_id


async def test_the_space_saves_the_asked_fields_and_the_consents(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    await _programme(db, venue)
    async with client_for(app) as phone, client_for(app) as stranger:
        refused = await stranger.post("/account/loyalty/profile", json={"phone": "0612345678"})
        assert refused.status_code == 401
        zoe = await _signed_in(app, phone, venue)
        space = await phone.get("/account/loyalty", headers={"Accept-Language": "en"})
        assert space.status_code == 200
        assert "frame-ancestors 'self' https:" in space.headers["content-security-policy"]
        assert "Complete your profile: +50 points" in space.text
        assert 'name="phone"' in space.text and 'name="postcode"' not in space.text
        # Posted inside the frame as from the page: without the page's CSRF token, refused.
        forged = await phone.post("/account/loyalty/profile", data={"phone": "0612345678"})
        assert (forged.status_code, forged.json()["error"]["code"]) == (403, "csrf")
        csrf = {"X-CSRF-Token": _csrf(space), "HX-Request": "true"}
        bad = await phone.post("/account/loyalty/profile", headers=csrf, data={
            "phone": "0612345678", "birthday": "31/12/1990", "email_consent": "on"})
        assert bad.status_code == 422
        assert bad.json()["error"]["field"] == "birthday"
        profile = await _profile(db, zoe)
        assert profile is None or (profile.phone, profile.email_consent_at) == (None, None)
        saved = await phone.post("/account/loyalty/profile", headers=csrf, data={
            "phone": "0612345678", "birthday": "1990-12-31", "email_consent": "on"})
        assert saved.status_code == 200, saved.text
        assert saved.headers["HX-Redirect"] == "/account/loyalty?saved=1#profile"
        space = await phone.get("/account/loyalty?saved=1", headers={"Accept-Language": "en"})
        assert 'id="profile-saved"' in space.text and 'id="email-consent-since"' in space.text
        assert 'id="sms-consent-since"' not in space.text
        assert "Complete your profile" not in space.text
        assert await _points(db, zoe) == [("profile", 50)]
        # The switches: e-mails off, text messages on; the profile's points stay earned once.
        await phone.post("/account/loyalty/profile", headers=csrf, data={
            "phone": "0612345678", "birthday": "1990-12-31", "sms_consent": "on"})
        profile = await _profile(db, zoe)
        assert profile is not None
        assert profile.email_consent_at is None and profile.sms_consent_at is not None
        assert await _points(db, zoe) == [("profile", 50)]


async def test_unsubscribing_asks_on_get_and_acts_on_a_one_click_post(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company_id = await _programme(db, venue)
    secret = app.state.comptoir.settings.secret_key
    base = app.state.comptoir.settings.public_url
    email, _ = venue.consumers[0]
    zoe = await _consumer(db, email)
    assert zoe is not None
    async with db.sessionmaker() as session, session.begin():
        stranger = Consumer(company_id=await _other_company(session), email=email,
                            name="Zoé", password_hash="x")
        session.add(stranger)
        await session.flush()
    bus = make_bus(None)
    both = parse(Profile, {"email_consent": True, "sms_consent": True})
    try:
        await run(db.sessionmaker, bus, lambda tx: profiles.save(tx, company_id, zoe.id, both))
        await run(db.sessionmaker, bus, lambda tx: profiles.save(
            tx, stranger.company_id, stranger.id, both))
    finally:
        await bus.close()

    link = link_for(base, secret, zoe.id, company_id, Channel.EMAIL)
    assert headers_for(base, secret, zoe.id, company_id) == {
        "List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    path = link.removeprefix(base)
    async with client_for(app) as scanner, client_for(app) as mail_client:
        asked = await scanner.get(path, headers={"Accept-Language": "en"})
        assert asked.status_code == 200 and 'id="unsubscribe-button"' in asked.text
        assert "Stop receiving our e-mails?" in asked.text
        in_french = await scanner.get(path, headers={"Accept-Language": "fr"})
        assert "Ne plus recevoir nos e-mails" in in_french.text
        profile = await _profile(db, zoe.id)
        assert profile is not None and profile.email_consent_at is not None  # GET: nothing

        # RFC 8058: the mail client's own button POSTs, without a session or a CSRF token.
        done = await mail_client.post(path, data={"List-Unsubscribe": "One-Click"},
                                      headers={"Accept-Language": "en"})
        assert done.status_code == 200, done.text
        assert 'id="unsubscribed"' in done.text and "/account/loyalty" in done.text
        assert (await mail_client.post(path)).status_code == 200  # again: still done
        profile = await _profile(db, zoe.id)
        assert profile is not None
        assert profile.email_consent_at is None and profile.sms_consent_at is not None
        other = await _profile(db, stranger.id)
        assert other is not None and other.email_consent_at is not None

        sms = link_for(base, secret, zoe.id, company_id, Channel.SMS).removeprefix(base)
        assert (await mail_client.post(sms)).status_code == 200
        profile = await _profile(db, zoe.id)
        assert profile is not None and profile.sms_consent_at is None

        token = path.rsplit("/", 1)[1]
        payload, signature = token.rsplit(".", 1)
        forged = [
            f"{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
            token.replace(f"{zoe.id}.", f"{stranger.id}.", 1),
            token_for("another secret", stranger.id, stranger.company_id, Channel.EMAIL),
            # Signed, but naming her in the other company: not her.
            token_for(secret, zoe.id, stranger.company_id, Channel.EMAIL),
            token_for(secret, stranger.id, company_id, Channel.EMAIL),
            "garbled", f"{payload}.",
        ]
        for bad in forged:
            for method in ("GET", "POST"):
                refused = await mail_client.request(method, f"/unsubscribe/{bad}",
                                                    headers={"Accept": "text/html"})
                assert refused.status_code == 404, (bad, method)
                assert "unsubscribe" in refused.text.lower()
        other = await _profile(db, stranger.id)
        assert other is not None
        assert other.email_consent_at is not None and other.sms_consent_at is not None


async def _other_company(session: Any) -> int:
    from accounts.models import Company

    company = Company(name="Ailleurs SARL", currency="EUR", timezone="Europe/Paris",
                      locale="fr")
    session.add(company)
    await session.flush()
    return company.id
