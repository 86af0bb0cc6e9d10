"""The coupons page of the loyalty settings: triggers added, changed, switched on and off,
duplicated and deleted (the coupons they gave stay good), bad input refused with its
field's message and nothing changed, each change audited; the coupons given lately; and a
given coupon in the customer's space with its QR code and expiry. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update
from starlette.applications import Starlette

from accounts.models import Company, Site
from customers.models import Consumer
from demo.seed import DemoVenue
from loyalty import setup
from loyalty.commands import AddReward, SetRules
from loyalty.issuing import Live, issue
from loyalty.models import Coupon, CouponTrigger, Reward
from loyalty.pages import qr_svg
from loyalty.triggers import Rule, TriggerKind
from realtime.bus import make_bus
from realtime.events import run
from tests.backoffice.conftest import ADMIN, CASHIER, audit_actions, post_form, sign_in
from tests.conftest import Database, client_for
from web.commands import parse

PAGE = "/backoffice/loyalty/coupons"


async def _company(db: Database, venue: DemoVenue) -> int:
    async with db.sessionmaker() as session:
        site = await session.get(Site, venue.site_id)
        assert site is not None
        return site.company_id


async def _reward(db: Database, company_id: int, name: str = "Café offert") -> int:
    bus = make_bus(None)
    try:
        await run(db.sessionmaker, bus, lambda tx: setup.set_rules(
            tx, company_id, parse(SetRules, {})))
        reward = await run(db.sessionmaker, bus, lambda tx: setup.add_reward(
            tx, company_id, parse(AddReward, {"name": name, "cost_points": 10,
                                              "effect": "amount_off", "amount": 150})))
    finally:
        await bus.close()
    return reward.id


async def _triggers(db: Database) -> list[tuple[str, int, int, int, bool]]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(select(CouponTrigger).order_by(CouponTrigger.id))
        return [(t.kind, t.every, t.reward_id, t.valid_days, t.active) for t in rows]


async def _trigger_ids(db: Database) -> list[int]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(
            select(CouponTrigger.id).order_by(CouponTrigger.id))).all())


def _ok(answer: httpx.Response, said: str) -> None:
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["hx-redirect"].startswith(f"{PAGE}?said={said}"), answer.headers


async def test_a_manager_adds_changes_switches_duplicates_and_deletes_a_trigger(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    espresso = await _reward(db, company_id, "Espresso offert")
    croissant = await _reward(db, company_id, "Croissant offert")
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "en")
    empty = await client.get(PAGE)
    assert empty.status_code == 200 and "No trigger yet" in empty.text
    assert "Espresso offert" in empty.text  # offered in the form's choice

    _ok(await post_form(client, PAGE, {"kind": "visits", "every": "10",
                                       "reward_id": str(espresso), "valid_days": "30"}), "added")
    assert await _triggers(db) == [("visits", 10, espresso, 30, True)]
    [trigger_id] = await _trigger_ids(db)
    listed = await client.get(f"{PAGE}?said=added")
    assert "Every 10 visits: Espresso offert, valid 30 days" in listed.text
    assert "Trigger added" in listed.text

    edit = await client.get(f"{PAGE}/{trigger_id}")
    assert edit.status_code == 200 and 'value="10"' in edit.text
    _ok(await post_form(client, f"{PAGE}/{trigger_id}", {
        "kind": "birthday", "every": "7", "reward_id": str(croissant), "valid_days": "14"}),
        "saved")
    assert await _triggers(db) == [("birthday", 7, croissant, 14, True)]

    _ok(await post_form(client, f"{PAGE}/{trigger_id}/switch", {"active": "0"}), "off")
    assert await _triggers(db) == [("birthday", 7, croissant, 14, False)]
    off = await client.get(f"{PAGE}?said=off")
    assert "Switch on" in off.text and "gives no more coupons" in off.text
    _ok(await post_form(client, f"{PAGE}/{trigger_id}/switch", {"active": "1"}), "on")

    _ok(await post_form(client, f"{PAGE}/{trigger_id}/duplicate", {}), "copied")
    assert await _triggers(db) == [("birthday", 7, croissant, 14, True),
                                   ("birthday", 7, croissant, 14, False)]  # the copy is off
    copy_id = (await _trigger_ids(db))[1]

    refused = await post_form(client, f"{PAGE}/{copy_id}/delete", {})
    assert refused.status_code == 422 and len(await _trigger_ids(db)) == 2
    _ok(await post_form(client, f"{PAGE}/{copy_id}/delete", {"confirm": "yes"}), "deleted")
    assert await _trigger_ids(db) == [trigger_id]

    target = f"coupon_trigger:{trigger_id}"
    assert await audit_actions(db) == [
        ("coupon_trigger.added", target), ("coupon_trigger.changed", target),
        ("coupon_trigger.off", target), ("coupon_trigger.on", target),
        ("coupon_trigger.duplicated", f"coupon_trigger:{copy_id}"),
        ("coupon_trigger.deleted", f"coupon_trigger:{copy_id}")]
    client.cookies.set("lang", "fr")
    log = await client.get("/backoffice/audit")
    assert "Déclencheur de coupon modifié" in log.text
    assert "5 jours avant l’anniversaire" not in log.text  # the kind is named, not N
    assert "N jours avant l’anniversaire" in log.text and "Croissant offert" in log.text


async def test_bad_input_is_refused_at_its_field_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    espresso = await _reward(db, company_id)
    archived = await _reward(db, company_id, "Ancien")
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Reward).where(Reward.id == archived).values(active=False))
        other = Company(name="Ailleurs", currency="EUR")
        session.add(other)
        await session.flush()
        theirs = Reward(company_id=other.id, name="Leur café", cost_points=5,
                        effect="amount_off", amount=100)
        session.add(theirs)
        await session.flush()
        their_reward = theirs.id
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "fr")
    good = {"kind": "visits", "every": "10", "reward_id": str(espresso), "valid_days": "30"}
    for change, field, message in [
        ({"every": "0"}, "every", "Indiquez un nombre entier, au moins 1."),
        ({"every": "dix"}, "every", "Indiquez un nombre entier, au moins 1."),
        ({"every": "1001"}, "every", "Indiquez un nombre de passages de 1 à 1000."),
        ({"kind": "birthday", "every": "120"}, "every",
         "Indiquez un nombre de jours avant l’anniversaire de 1 à 90."),
        ({"kind": "weekly"}, "kind", "Choisissez quand le coupon est donné."),
        ({"reward_id": ""}, "reward_id", "Choisissez l’une des récompenses proposées."),
        ({"reward_id": str(archived)}, "reward_id",
         "Choisissez l’une des récompenses proposées."),
        ({"reward_id": str(their_reward)}, "reward_id",
         "Choisissez l’une des récompenses proposées."),
        ({"valid_days": "0"}, "valid_days", "Indiquez un nombre de jours de 1 à 3650."),
    ]:
        answer = await post_form(client, PAGE, {**good, **change})
        assert answer.status_code == 422, (change, answer.text[:300])
        error = re.search(rf'id="e-{field}" data-error-for="{field}">([^<]*)<', answer.text)
        assert error is not None and error.group(1) == message, (change, error)
        assert 'aria-invalid="true"' in answer.text
    assert await _triggers(db) == []
    _ok(await post_form(client, PAGE, good), "added")
    [trigger_id] = await _trigger_ids(db)
    answer = await post_form(client, f"{PAGE}/{trigger_id}", {**good, "every": "-3"})
    assert answer.status_code == 422 and "au moins 1" in answer.text
    assert await _triggers(db) == [("visits", 10, espresso, 30, True)]
    assert [a for a, _ in await audit_actions(db)] == ["coupon_trigger.added"]


async def test_who_may_not_is_refused_and_another_companys_trigger_is_not_found(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    espresso = await _reward(db, company_id)
    async with db.sessionmaker() as session, session.begin():
        other = Company(name="Ailleurs", currency="EUR")
        session.add(other)
        await session.flush()
        theirs = Reward(company_id=other.id, name="Leur café", cost_points=5,
                        effect="amount_off", amount=100)
        session.add(theirs)
        await session.flush()
        trigger = CouponTrigger(company_id=other.id, kind="visits", every=3,
                                reward_id=theirs.id, valid_days=5)
        session.add(trigger)
        await session.flush()
        their_trigger = trigger.id
    async with client_for(app) as cashier:
        await sign_in(cashier, CASHIER)
        assert (await cashier.get(PAGE)).status_code == 403
        answer = await post_form(cashier, PAGE, {"kind": "visits", "every": "10",
                                                 "reward_id": str(espresso), "valid_days": "30"})
        assert answer.status_code == 403
    await sign_in(client, ADMIN)
    assert (await client.get(f"{PAGE}/{their_trigger}")).status_code == 404
    for action, data in [("", {"kind": "visits", "every": "1", "reward_id": str(espresso),
                               "valid_days": "1"}),
                         ("/switch", {"active": "0"}), ("/duplicate", {}),
                         ("/delete", {"confirm": "yes"})]:
        answer = await post_form(client, f"{PAGE}/{their_trigger}{action}", data)
        assert answer.status_code == 404, (action, answer.status_code)
    assert await _triggers(db) == [("visits", 3, theirs.id, 5, True)]
    assert await audit_actions(db) == []


async def test_the_coupons_given_are_listed_stay_good_after_delete_and_show_in_the_space(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    espresso = await _reward(db, company_id, "Espresso offert")
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "en")
    _ok(await post_form(client, PAGE, {"kind": "absence", "every": "30",
                                       "reward_id": str(espresso), "valid_days": "20"}), "added")
    [trigger_id] = await _trigger_ids(db)
    email, password = venue.consumers[0]
    async with db.sessionmaker() as session:
        consumer = await session.scalar(select(Consumer).where(Consumer.email == email))
        assert consumer is not None
    live = Live(Rule(trigger_id, TriggerKind.ABSENCE, 30), espresso, 20)
    given = datetime.now(UTC) - timedelta(hours=1)
    bus = make_bus(None)
    try:
        await run(db.sessionmaker, bus, lambda tx: issue(
            tx, company_id, live, consumer.id, f"absence:{trigger_id}:{consumer.id}:2026-01-01",
            given))
    finally:
        await bus.close()
    listed = await client.get(PAGE)
    issued = listed.text.split('id="issued"')[1]
    assert consumer.name in issued and "Espresso offert" in issued
    assert "Absent for 30 days" in issued and "Not yet" in issued

    _ok(await post_form(client, f"{PAGE}/{trigger_id}/delete", {"confirm": "yes"}), "deleted")
    async with db.sessionmaker() as session:
        [coupon] = (await session.scalars(select(Coupon))).all()
    assert coupon.used_at is None and coupon.expires_at == given + timedelta(days=20)
    after = (await client.get(PAGE)).text.split('id="issued"')[1]
    assert consumer.name in after and "Absence" in after  # its trigger is gone

    async with client_for(app) as phone:
        signed = await phone.post("/api/v1/consumers/login", json={
            "machine": venue.machines[0].token, "email": email, "password": password})
        assert signed.status_code == 200, signed.text
        phone.cookies.set("lang", "en")
        space = await phone.get("/account/loyalty")
    assert space.status_code == 200
    coupons = space.text.split('id="coupons-heading"')[1]
    assert qr_svg(coupon.token) in coupons  # the QR code the till scans: its token
    assert "Espresso offert" in coupons and "Until" in coupons
