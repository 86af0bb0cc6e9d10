"""Loyalty's settings from the back office: the company's rules (saved, audited, and what
the next visit earns), and its rewards (added, changed, archived and brought back), each
bad field named next to it with nothing changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.models import Company, Site
from backoffice.loyalty_forms import RewardForm, RulesForm, reward_problems, rules_problems
from customers.models import Consumer
from demo.seed import DemoVenue
from loyalty import earning, service
from loyalty.models import LoyaltyRules, Reward
from ordering.models import Category, Product
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.api.test_tenant import nothing_changes
from tests.backoffice.helpers import ADMIN, CASHIER, audit_entries, signed_in
from tests.conftest import Database, client_for
from web.commands import parse

SETTINGS = "/backoffice/loyalty/settings"
REWARDS = "/backoffice/loyalty/rewards"
RULES = {"enabled": "yes", "points_per_visit": "5", "points_per_unit": "2",
         "cap_per_visit": "50", "min_delay": "2", "min_delay_unit": "hours",
         "contactless_may_redeem": "yes", "referrer_points": "20", "referred_points": "10",
         "profile_points": "15", "ask_birthday": "yes", "ask_postcode": "yes"}


def plain(html: str) -> str:
    return html.replace("\u202f", " ").replace("\u00a0", " ").replace("&#39;", "'")


def error_of(html: str, field: str) -> str:
    """The message shown next to `field` (empty when none)."""
    for marker in (f'data-error-for="{field}">', f'id="error-{field}" role="alert">'):
        if marker in html:
            return html.split(marker, 1)[1].split("<", 1)[0].strip()
    return ""


async def _company_id(db: Database) -> int:
    async with db.sessionmaker() as session:
        company_id = await session.scalar(
            select(Company.id).where(Company.name == "Café de la Gare SARL"))
    assert company_id is not None
    return company_id


async def _rules(db: Database, company_id: int) -> LoyaltyRules | None:
    async with db.sessionmaker() as session:
        return await session.get(LoyaltyRules, company_id)


async def _rewards(db: Database) -> list[Reward]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(Reward).order_by(Reward.id))).all())


async def _espresso(db: Database, venue: DemoVenue) -> int:
    async with db.sessionmaker() as session:
        product_id = await session.scalar(select(Product.id).where(
            Product.site_id == venue.site_id, Product.name == "Espresso"))
    assert product_id is not None
    return product_id


async def test_rules_are_saved_audited_shown_and_earned_by_the_next_visit(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company_id(db)
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        first = await admin.get(SETTINGS)
        assert first.status_code == 200, first.text
        assert 'name="enabled" value="yes">' in first.text  # never set: the programme is off
        saved = await admin.post(SETTINGS, RULES)
        assert saved.status_code == 200, saved.text
        assert saved.headers["HX-Redirect"] == f"{SETTINGS}?saved=1"
        shown = await admin.get(saved.headers["HX-Redirect"])
    assert 'role="status"' in shown.text and "Enregistré" in shown.text
    assert 'name="min_delay" type="number" value="2"' in shown.text
    assert '<option value="hours" selected>' in shown.text
    rules = await _rules(db, company_id)
    assert rules is not None
    assert (rules.enabled, rules.points_per_visit, rules.points_per_unit, rules.cap_per_visit,
            rules.min_delay_minutes, rules.contactless_may_redeem) == (True, 5, 2, 50, 120, True)
    assert (rules.referrer_points, rules.referred_points, rules.profile_points) == (20, 10, 15)
    assert (rules.ask_phone, rules.ask_birthday, rules.ask_postcode) == (False, True, True)
    [entry] = await audit_entries(db, "loyalty.rules")
    assert entry.target == "loyalty"
    assert entry.changes["min_delay_minutes"] == [None, 120]
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        log = plain((await admin.get("/backoffice/audit")).text)
    assert "Règles de fidélité modifiées" in log
    assert "Minutes entre deux visites qui rapportent" in log and "min_delay_minutes" not in log

    async with db.sessionmaker() as session:
        consumer_id = await session.scalar(select(Consumer.id).where(
            Consumer.email == venue.consumers[0][0]))
    assert consumer_id is not None
    at = datetime.now(UTC)
    bus = make_bus(None)

    async def visit(key: str, spent: int, when: datetime) -> int:
        async def op(tx: Tx) -> int:
            posted = await earning.visit(
                tx, company_id=company_id, consumer_id=consumer_id, key=key, origin=key,
                spent=spent, at=when, site_id=venue.site_id)
            assert posted is not None
            return posted.entry.points
        return await run(db.sessionmaker, bus, op)

    try:
        assert await visit(f"ticket:{uuid.uuid4().hex[:20]}", 1280, at) == 5 + 2 * 12
        assert await visit(f"ticket:{uuid.uuid4().hex[:20]}", 5000, at + timedelta(hours=1)) == 0
        assert await visit(f"ticket:{uuid.uuid4().hex[:20]}", 5000, at + timedelta(hours=3)) == 50
    finally:
        await bus.close()


async def test_saving_the_same_rules_again_records_nothing_more(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        await admin.post(SETTINGS, RULES)
        await admin.post(SETTINGS, {**RULES, "min_delay": "120", "min_delay_unit": "minutes"})
        await admin.post(SETTINGS, {**RULES, "points_per_visit": "6"})
    entries = await audit_entries(db, "loyalty.rules")
    assert len(entries) == 2
    assert entries[1].changes == {"points_per_visit": [5, 6]}


@pytest.mark.parametrize("field, value", [
    ("points_per_visit", "-1"), ("points_per_visit", "abc"), ("points_per_visit", "1.5"),
    ("points_per_visit", "10001"), ("points_per_unit", "101"), ("cap_per_visit", "-3"),
    ("cap_per_visit", "4"), ("min_delay", "721"), ("min_delay", "-1"),
    ("min_delay_unit", "days"), ("referrer_points", "1000000"), ("referred_points", ""),
    ("profile_points", "-10"),
])
async def test_a_bad_rule_is_named_next_to_it_and_nothing_changes(
    app: Starlette, db: Database, venue: DemoVenue, field: str, value: str
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        async with nothing_changes(db):
            answer = await admin.post(SETTINGS, {**RULES, field: value})
    assert answer.status_code == 422, answer.text
    shown = field if field != "min_delay_unit" else "min_delay"
    assert error_of(answer.text, shown), answer.text
    assert "rien n'a été enregistré" in plain(answer.text)
    if field != "min_delay_unit":
        assert f'value="{value}"' in answer.text  # what was typed stays


async def test_a_programme_on_must_earn_something(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        async with nothing_changes(db):
            answer = await admin.post(SETTINGS, {**RULES, "points_per_visit": "0",
                                                 "points_per_unit": "0", "cap_per_visit": "0"})
        off = await admin.post(SETTINGS, {**RULES, "enabled": "", "points_per_visit": "0",
                                          "points_per_unit": "0", "cap_per_visit": "0"})
    assert answer.status_code == 422
    assert "par visite ou par euro" in plain(error_of(answer.text, "points_per_visit"))
    assert off.status_code == 200, off.text


def test_the_rules_weigh_one_field_against_another() -> None:
    def form(**values: str) -> RulesForm:
        return parse(RulesForm, {**RULES, **values}, form=True)

    assert rules_problems(form()) == {}
    assert set(rules_problems(form(min_delay="721"))) == {"min_delay"}
    assert rules_problems(form(min_delay="43200", min_delay_unit="minutes")) == {}
    assert set(rules_problems(form(cap_per_visit="4"))) == {"cap_per_visit"}
    assert rules_problems(form(cap_per_visit="0")) == {}  # no cap


def test_money_is_read_as_the_reader_types_it() -> None:
    def reward(**values: str) -> RewardForm:
        return parse(RewardForm, {"name": "Remise", "cost_points": "10",
                                  "effect": "amount_off", **values}, form=True)

    assert reward(amount="3,50").amount == 350
    assert reward(amount="3.5").amount == 350
    assert reward(amount="1 000,00", venue_cost="0,80").venue_cost == 80
    assert reward(amount="12", venue_cost="").venue_cost is None
    assert set(reward_problems(reward(amount=""))) == {"amount"}
    assert set(reward_problems(reward(effect="percent_off", percent=""))) == {"percent"}
    assert set(reward_problems(reward(effect="free_product", product_id=""))) == {"product_id"}


async def test_rewards_are_added_changed_and_listed_readably(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    espresso = await _espresso(db, venue)
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        empty = await admin.get(REWARDS)
        assert empty.status_code == 200 and "bo-empty" in empty.text
        assert 'href="/backoffice/loyalty/settings"' in empty.text  # the tabs
        form = await admin.get(f"{REWARDS}/new")
        assert form.status_code == 200 and f'<option value="{espresso}">Espresso' in form.text
        added = await admin.post(f"{REWARDS}/new", {
            "name": "Remise fidélité", "cost_points": "50", "venue_cost": "2,50",
            "effect": "amount_off", "amount": "2,50", "percent": "", "product_id": ""})
        assert added.status_code == 200, added.text
        assert added.headers["HX-Redirect"].startswith(f"{REWARDS}?done=saved")
        given = await admin.post(f"{REWARDS}/new", {
            "name": "Un espresso offert", "cost_points": "80", "venue_cost": "0,40",
            "effect": "free_product", "amount": "", "percent": "", "product_id": str(espresso)})
        assert given.status_code == 200, given.text
        [amount_off, free] = await _rewards(db)
        assert (amount_off.amount, amount_off.venue_cost, amount_off.effect) == (
            250, 250, "amount_off")
        assert (free.product_id, free.product_name, free.amount) == (espresso, "Espresso", 0)
        edit = await admin.get(f"{REWARDS}/{amount_off.id}")
        assert 'name="amount" type="text" value="2,50"' in edit.text  # typed the French way
        changed = await admin.post(f"{REWARDS}/{amount_off.id}", {
            "name": "Dix pour cent", "cost_points": "60", "venue_cost": "1,00",
            "effect": "percent_off", "amount": "2,50", "percent": "10", "product_id": ""})
        assert changed.status_code == 200, changed.text
        listing = plain((await admin.get(changed.headers["HX-Redirect"])).text)
    assert "Récompense enregistrée" in listing
    assert "10 % de remise" in listing and "Offert : Espresso" in listing
    assert "1,00 €" in listing and "60 points" in listing
    [percent, _] = await _rewards(db)
    assert (percent.effect, percent.percent, percent.amount, percent.name) == (
        "percent_off", 10, 0, "Dix pour cent")
    added_entries = await audit_entries(db, "reward.added")
    assert [e.changes["name"] for e in added_entries] == ["Remise fidélité", "Un espresso offert"]
    [change] = await audit_entries(db, "reward.changed")
    assert change.target == f"reward:{percent.id}"
    assert change.changes["effect"] == ["amount_off", "percent_off"]
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        log = plain((await admin.get("/backoffice/audit")).text)
    assert "Récompense modifiée" in log and "Récompense : Dix pour cent" in log
    assert "Un pourcentage de remise" in log


async def test_an_amount_off_reads_as_money_in_the_list(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        await admin.post(f"{REWARDS}/new", {"name": "Deux euros", "cost_points": "20",
                                            "effect": "amount_off", "amount": "2"})
        listing = plain((await admin.get(REWARDS)).text)
    assert "2,00 € de remise" in listing


@pytest.mark.parametrize("values, field", [
    ({"effect": "percent_off", "percent": "0"}, "percent"),
    ({"effect": "percent_off", "percent": "101"}, "percent"),
    ({"effect": "percent_off", "percent": ""}, "percent"),
    ({"effect": "percent_off", "percent": "abc"}, "percent"),
    ({"effect": "amount_off", "amount": "0"}, "amount"),
    ({"effect": "amount_off", "amount": "-2"}, "amount"),
    ({"effect": "amount_off", "amount": "deux"}, "amount"),
    ({"effect": "amount_off", "amount": "2,505"}, "amount"),
    ({"effect": "amount_off", "amount": "1000,01"}, "amount"),
    ({"effect": "amount_off", "amount": ""}, "amount"),
    ({"effect": "free_product", "product_id": ""}, "product_id"),
    ({"effect": "free_product", "product_id": "999999"}, "product_id"),
    ({"effect": "refund_all"}, "effect"),
    ({"cost_points": "0"}, "cost_points"),
    ({"cost_points": "-5"}, "cost_points"),
    ({"name": " "}, "name"),
    ({"venue_cost": "-1"}, "venue_cost"),
])
async def test_a_bad_reward_is_named_next_to_its_field_and_nothing_changes(
    app: Starlette, db: Database, venue: DemoVenue, values: dict[str, str], field: str
) -> None:
    base = {"name": "Un café", "cost_points": "10", "venue_cost": "", "effect": "amount_off",
            "amount": "1,50", "percent": "", "product_id": ""}
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        async with nothing_changes(db):
            answer = await admin.post(f"{REWARDS}/new", {**base, **values})
    assert answer.status_code == 422, answer.text
    assert error_of(answer.text, field), answer.text
    assert await _rewards(db) == []


async def test_another_companys_product_is_refused(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        other = Company(name="Ailleurs SARL", currency="EUR", timezone="Europe/Paris",
                        locale="fr")
        session.add(other)
        await session.flush()
        site = Site(company_id=other.id, name="Ailleurs")
        session.add(site)
        await session.flush()
        category = Category(site_id=site.id, name="Boissons", station="bar", position=0)
        session.add(category)
        await session.flush()
        theirs = Product(site_id=site.id, category_id=category.id, name="Leur café",
                         reference="THEIRS", price=200, position=0)
        session.add(theirs)
        await session.flush()
        theirs_id = theirs.id
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        form = await admin.get(f"{REWARDS}/new")
        assert "Leur café" not in form.text
        async with nothing_changes(db):
            answer = await admin.post(f"{REWARDS}/new", {
                "name": "Leur café offert", "cost_points": "10", "effect": "free_product",
                "product_id": str(theirs_id)})
    assert answer.status_code == 422, answer.text
    assert "carte" in error_of(answer.text, "product_id")
    assert await _rewards(db) == []


async def test_an_archived_reward_is_offered_nowhere_until_brought_back(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company_id(db)
    async with db.sessionmaker() as session:
        consumer_id = await session.scalar(select(Consumer.id).where(
            Consumer.email == venue.consumers[0][0]))
    assert consumer_id is not None
    bus = make_bus(None)

    async def offered() -> list[str]:
        customer = await run(db.sessionmaker, bus,
                             lambda tx: service.customer(tx, company_id, consumer_id))
        return [r.name for r in customer.rewards]

    try:
        async with client_for(app) as client:
            admin = await signed_in(client, ADMIN)
            await admin.post(f"{REWARDS}/new", {"name": "Un café offert", "cost_points": "10",
                                                "effect": "percent_off", "percent": "100"})
            [reward] = await _rewards(db)
            assert await offered() == ["Un café offert"]
            async with nothing_changes(db):
                unasked = await admin.post(f"{REWARDS}/{reward.id}/archive", {})
            assert unasked.status_code == 422
            archived = await admin.post(f"{REWARDS}/{reward.id}/archive", {"confirm": "yes"})
            assert archived.status_code == 200, archived.text
            assert await offered() == []
            listing = plain((await admin.get(archived.headers["HX-Redirect"])).text)
            assert "Récompense archivée" in listing
            assert f'data-reward="{reward.id}" data-archived' in listing
            restored = await admin.post(f"{REWARDS}/{reward.id}/restore", {})
            assert restored.status_code == 200, restored.text
            assert await offered() == ["Un café offert"]
    finally:
        await bus.close()
    assert [e.action for e in await audit_entries(db) if e.action.startswith("reward.")] == [
        "reward.added", "reward.archived", "reward.restored"]


async def test_another_companys_reward_is_not_found(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        other = Company(name="Ailleurs SARL", currency="EUR", timezone="Europe/Paris",
                        locale="fr")
        session.add(other)
        await session.flush()
        theirs = Reward(company_id=other.id, name="Le leur", cost_points=5,
                        effect="amount_off", amount=100)
        session.add(theirs)
        await session.flush()
        theirs_id = theirs.id
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        async with nothing_changes(db):
            for url, data in [(f"{REWARDS}/{theirs_id}", None),
                              (f"{REWARDS}/{theirs_id}", {"name": "À moi", "cost_points": "1",
                                                          "effect": "amount_off", "amount": "1"}),
                              (f"{REWARDS}/{theirs_id}/archive", {"confirm": "yes"})]:
                answer = await (admin.get(url) if data is None else admin.post(url, data))
                assert answer.status_code == 404, url


async def test_only_those_who_set_loyalty_up_see_its_pages(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        home = await admin.get("/backoffice")
        assert 'href="/backoffice/loyalty/settings"' in home.text
    async with client_for(app) as client:
        cashier = await signed_in(client, CASHIER)
        for url in (SETTINGS, REWARDS, f"{REWARDS}/new"):
            assert (await cashier.get(url)).status_code == 403, url
        async with nothing_changes(db):
            assert (await cashier.post(SETTINGS, RULES)).status_code == 403
        assert 'href="/backoffice/loyalty/settings"' not in (await cashier.get("/staff")).text
