"""A customer identified at the till and at the table: found by name, phone, e-mail or QR
code, named on the sale (online and synced), a reward taken once per key, and a table
linked from a diner's phone whose bill, paid at a till, earns once. On SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.models import Site
from customers.models import Consumer
from demo.seed import DemoVenue
from loyalty import ledger, profiles, setup
from loyalty.commands import AddReward, Profile, SetRules
from loyalty.ledger import Kind
from loyalty.models import Coupon, LoyaltyProfile, PointsEntry
from ordering.models import DiningTable, Product, TableSession
from pos.models import Ticket
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.backoffice.conftest import CASHIER, sign_in
from tests.conftest import Database, client_for
from tests.pos.test_till_screens import AtTill, at_till  # noqa: F401  (its fixture)
from web.commands import parse

T = TypeVar("T")
SALES = "/api/v1/till/sales"


async def _run(db: Database, op: Callable[[Tx], Awaitable[T]]) -> T:
    bus = make_bus(None)
    try:
        return await run(db.sessionmaker, bus, op)
    finally:
        await bus.close()


async def _company(db: Database, venue: DemoVenue) -> int:
    async with db.sessionmaker() as session:
        site = await session.get(Site, venue.site_id)
        assert site is not None
        return site.company_id


async def _programme(db: Database, venue: DemoVenue, **rules: Any) -> int:
    """Loyalty on for the demo company (a point per euro unless told); its id."""
    company_id = await _company(db, venue)
    command = parse(SetRules, {"points_per_unit": 1, **rules})
    await _run(db, lambda tx: setup.set_rules(tx, company_id, command))
    return company_id


async def _customer(db: Database, venue: DemoVenue, index: int = 0) -> int:
    async with db.sessionmaker() as session:
        found = await session.scalar(select(Consumer.id).where(
            Consumer.email == venue.consumers[index][0]))
    assert found is not None
    return found


async def _balance(db: Database, consumer_id: int) -> int:
    async with db.sessionmaker() as session:
        return await ledger.balance_of(session, consumer_id)


async def _keys(db: Database, consumer_id: int) -> list[tuple[str, int]]:
    async with db.sessionmaker() as session:
        rows = await session.execute(select(PointsEntry.key, PointsEntry.points).where(
            PointsEntry.consumer_id == consumer_id).order_by(PointsEntry.id))
        return [(key.split(":")[0], points) for key, points in rows]


async def _product(db: Database, venue: DemoVenue, price: int = 250) -> Product:
    async with db.sessionmaker() as session, session.begin():
        product = await session.scalar(select(Product).where(
            Product.site_id == venue.site_id).order_by(Product.id).limit(1))
        assert product is not None
        product.price, product.vat_rate, product.vat_rate_takeaway = price, 1000, None
        return product


def _sale(product: Product, quantity: int, **more: Any) -> dict[str, Any]:
    return {"uuid": str(uuid.uuid4()),
            "lines": [{"product_id": product.id, "quantity": quantity}],
            "payments": [{"method": "card", "amount": quantity * product.price}], **more}


async def test_the_till_finds_a_customer_by_name_phone_email_or_qr_code(
    at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    company_id = await _programme(db, venue)
    zoe = await _customer(db, venue)
    await _run(db, lambda tx: profiles.save(tx, company_id, zoe, parse(Profile, {
        "phone": "06 12 34 56 78"})))
    async with db.sessionmaker() as session:
        consumer = await session.get(Consumer, zoe)
        profile = await session.get(LoyaltyProfile, zoe)
        assert consumer is not None and profile is not None
        name, email, qr = consumer.name, consumer.email, profile.qr_token
    device = at_till.device
    for q in (name[:3].lower(), email.upper(), "06.12.34.56.78", qr):
        found = await device.post("/api/v1/till/customers/search", json={"q": q})
        assert found.status_code == 200, found.text
        assert zoe in [c["consumer_id"] for c in found.json()["customers"]], q
    nobody = await device.post("/api/v1/till/customers/search", json={"q": "personne%"})
    assert nobody.json() == {"customers": []}
    shown = await device.get(f"/api/v1/till/customers/{zoe}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["balance"] == 0 and "qr_token" not in shown.json()


async def test_a_sale_names_its_customer_who_earns_once_online_and_synced(
    at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    await _programme(db, venue)
    zoe = await _customer(db, venue)
    coffee = await _product(db, venue, 250)
    device = at_till.device
    body = _sale(coffee, 4, customer_id=zoe)  # 10.00: 10 points
    sold = await device.post(SALES, json=body)
    assert sold.status_code == 201, sold.text
    again = await device.post(SALES, json=body)
    assert again.status_code == 200 and again.json()["duplicate"]
    assert await _balance(db, zoe) == 10
    plain = await device.post(SALES, json=_sale(coffee, 1))  # nobody named: nobody earns
    assert plain.status_code == 201
    async with db.sessionmaker() as session:
        named = await session.get(Ticket, sold.json()["ticket"]["id"])
        anonymous = await session.get(Ticket, plain.json()["ticket"]["id"])
        assert named is not None and anonymous is not None
        assert (named.customer_id, anonymous.customer_id) == (zoe, None)
    # A sale kept on the device and synced twice names its customer and earns once.
    synced = {"uuid": str(uuid.uuid4()), "sequence": 3, "staff_id": at_till.cashier,
              "customer_id": zoe,
              "lines": [{"product_id": coffee.id, "label": coffee.name, "quantity": 2,
                         "unit_price": 250, "vat_rate": 1000}],
              "payments": [{"method": "cash", "amount": 500}]}
    for _ in range(2):
        answer = await device.post("/api/v1/till/sync", json={"sales": [synced]})
        assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "duplicate"
    assert await _balance(db, zoe) == 15
    assert await _keys(db, zoe) == [("ticket", 10), ("ticket", 5)]
    # Its refund takes back what it earned.
    refund = await device.post(f"/api/v1/till/tickets/{sold.json()['ticket']['id']}/refund",
                               json={"uuid": str(uuid.uuid4()), "whole": True,
                                     "reason": "Erreur", "method": "card",
                                     "approval": at_till.approval()})
    assert refund.status_code in (200, 201), refund.text
    assert await _balance(db, zoe) == 5


async def test_a_reward_is_taken_at_the_till_once_per_key(
    at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    company_id = await _programme(db, venue)
    zoe = await _customer(db, venue)
    reward = await _run(db, lambda tx: setup.add_reward(tx, company_id, parse(AddReward, {
        "name": "2 € offerts", "cost_points": 8, "effect": "amount_off", "amount": 200})))
    await _run(db, lambda tx: ledger.post(tx, company_id, zoe, 10, Kind.PROFILE, "test:zoe"))
    device = at_till.device
    shown = (await device.get(f"/api/v1/till/customers/{zoe}")).json()
    assert [(r["id"], r["affordable"]) for r in shown["rewards"]] == [(reward.id, True)]
    url = f"/api/v1/till/customers/{zoe}/rewards"
    body = {"reward_id": reward.id, "idempotency_key": "till-reward-1", "total": 150}
    taken = await device.post(url, json=body)
    assert taken.status_code == 200, taken.text
    assert taken.json() | {"reward_id": 0} == {
        "reward_id": 0, "reward_name": "2 € offerts", "points": 8, "balance": 2,
        "discount": 150, "add_product_id": None, "duplicate": False}
    again = await device.post(url, json=body)
    assert again.json()["duplicate"] and again.json()["balance"] == 2
    async with db.sessionmaker() as session:  # where it was taken, for the statistics
        assert await session.scalar(select(PointsEntry.site_id).where(
            PointsEntry.key == f"redeem:{zoe}:till-reward-1")) == venue.site_id
    short = await device.post(url, json={**body, "idempotency_key": "till-reward-2"})
    assert short.status_code == 409 and short.json()["error"]["code"] == "not_enough_points"
    assert await _balance(db, zoe) == 2
    # The sale names the reward's key: its discount needs no approval (100 % of the line,
    # far above the site's limit), and the sale earns on what was paid.
    coffee = await _product(db, venue, 150)
    sale = _sale(coffee, 1, customer_id=zoe, reward_key="till-reward-1", reward_discount=150)
    sale["payments"] = []
    refused = await device.post(SALES, json={**sale, "reward_key": "till-reward-9",
                                             "payments": [{"method": "card", "amount": 1}]})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "bad_ticket"
    sale["payments"] = [{"method": "cash", "amount": 1, "tendered": 1}]
    sale["reward_discount"] = 149
    sold = await device.post(SALES, json=sale)
    assert sold.status_code == 201, sold.text
    assert sold.json()["ticket"]["total"] == 1
    async with db.sessionmaker() as session:
        ticket = await session.get(Ticket, sold.json()["ticket"]["id"])
        assert ticket is not None and (ticket.discount, ticket.customer_id) == (149, zoe)
    # One reward, one ticket: its key again on another sale is refused.
    twice = await device.post(SALES, json={**sale, "uuid": str(uuid.uuid4())})
    assert twice.status_code == 422 and twice.json()["error"]["code"] == "bad_ticket"
    # Synced, a reward the customer did not take under that key is recorded and flagged.
    synced = {"uuid": str(uuid.uuid4()), "sequence": 2, "staff_id": at_till.cashier,
              "customer_id": zoe, "reward_key": "never-taken", "reward_discount": 100,
              "lines": [{"product_id": coffee.id, "label": coffee.name, "quantity": 1,
                         "unit_price": 150, "vat_rate": 1000}],
              "payments": [{"method": "cash", "amount": 50}]}
    answer = await device.post("/api/v1/till/sync", json={"sales": [synced]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["flags"] == ["unverified_reward"]


async def test_a_customer_of_another_company_is_unknown_at_the_till(
    at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    await _programme(db, venue)
    coffee = await _product(db, venue)
    async with db.sessionmaker() as session, session.begin():
        from accounts.models import Company
        other = Company(name="Ailleurs", currency="EUR", timezone="Europe/Paris", locale="fr")
        session.add(other)
        await session.flush()
        stranger = Consumer(company_id=other.id, email="zoe@ailleurs.test", name="Zoé Ailleurs",
                            password_hash="x", email_confirmed=True, verified=True)
        session.add(stranger)
        await session.flush()
        stranger_id = stranger.id
    device = at_till.device
    assert (await device.get(f"/api/v1/till/customers/{stranger_id}")).status_code == 404
    found = await device.post("/api/v1/till/customers/search", json={"q": "zoe@ailleurs.test"})
    assert found.json() == {"customers": []}
    refused = await device.post(SALES, json=_sale(coffee, 1, customer_id=stranger_id))
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "unknown_customer"


async def _consumer_at_table(app: Starlette, client: httpx.AsyncClient, venue: DemoVenue,
                             token: str, index: int = 0) -> None:
    """`client`: a phone that opened the table's session and signed in as a customer."""
    started = await client.post(f"/api/v1/tables/{token}/start", json={"name": "Zoé"})
    assert started.status_code in (200, 201), started.text
    email, password = venue.consumers[index]
    signed = await client.post("/api/v1/consumers/login", json={
        "machine": venue.machines[0].token, "email": email, "password": password})
    assert signed.status_code == 200, signed.text


async def test_a_diner_collects_the_table_points_and_its_bill_paid_at_a_till_earns_once(
    app: Starlette, at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    await _programme(db, venue)
    zoe = await _customer(db, venue)
    coffee = await _product(db, venue, 250)
    label, token = venue.table_tokens[0]
    async with db.sessionmaker() as session:
        table_id = await session.scalar(select(DiningTable.id).where(DiningTable.token == token))
    assert table_id is not None
    async with client_for(app) as phone, client_for(app) as other, client_for(app) as pos:
        url = f"/api/v1/tables/{token}/customer"
        anonymous = await other.post(url, json={})
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "customer_sign_in_needed"
        await _consumer_at_table(app, phone, venue, token)
        linked = await phone.post(url, json={})
        assert linked.status_code == 200, linked.text
        assert linked.json()["consumer_id"] == zoe and linked.json()["balance"] == 0
        assert (await phone.post(url, json={})).status_code == 200  # again: the same
        # Signed in on a device that is not a member of the session: refused.
        email, password = venue.consumers[0]
        await other.post("/api/v1/consumers/login", json={
            "machine": venue.machines[0].token, "email": email, "password": password})
        stranger = await other.post(url, json={})
        assert stranger.status_code == 409 and stranger.json()["error"]["code"] == "session_ended"
        await sign_in(pos, CASHIER)
        taken = await pos.post(f"/api/v1/staff/tables/{table_id}/rounds", json={
            "idempotency_key": "loyal-table-round-1",
            "lines": [{"product_id": coffee.id, "quantity": 5}]})
        assert taken.status_code == 201, taken.text
    # The cashier names Zoé again at the till: the table's settlement counts, not the ticket.
    paid = await at_till.device.post(SALES, json={
        "uuid": str(uuid.uuid4()), "table_id": table_id, "customer_id": zoe,
        "payments": [{"method": "card", "amount": 1250}]})
    assert paid.status_code == 201, paid.text
    assert await _keys(db, zoe) == [("table", 12)]
    assert await _balance(db, zoe) == 12
    async with db.sessionmaker() as session:
        ticket = await session.get(Ticket, paid.json()["ticket"]["id"])
        assert ticket is not None and ticket.customer_id is None
        linked_to = await session.scalar(select(TableSession.customer_id).where(
            TableSession.table_id == table_id).order_by(TableSession.id.desc()).limit(1))
        assert linked_to == zoe


async def test_a_customer_named_at_the_till_for_a_table_bill_earns_from_the_table(
    app: Starlette, at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    await _programme(db, venue)
    zoe = await _customer(db, venue)
    coffee = await _product(db, venue, 300)
    _, token = venue.table_tokens[1]
    async with db.sessionmaker() as session:
        table_id = await session.scalar(select(DiningTable.id).where(DiningTable.token == token))
    async with client_for(app) as pos:
        await sign_in(pos, CASHIER)
        taken = await pos.post(f"/api/v1/staff/tables/{table_id}/rounds", json={
            "idempotency_key": "loyal-table-round-2",
            "lines": [{"product_id": coffee.id, "quantity": 2}]})
        assert taken.status_code == 201, taken.text
    paid = await at_till.device.post(SALES, json={
        "uuid": str(uuid.uuid4()), "table_id": table_id, "customer_id": zoe,
        "payments": [{"method": "cash", "amount": 600}]})
    assert paid.status_code == 201, paid.text
    assert await _keys(db, zoe) == [("table", 6)]


async def test_the_customer_space_shows_points_rewards_history_and_qr_code_and_may_be_framed(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company_id = await _programme(db, venue)
    zoe = await _customer(db, venue)
    await _run(db, lambda tx: setup.add_reward(tx, company_id, parse(AddReward, {
        "name": "Café offert", "cost_points": 5, "effect": "amount_off", "amount": 150})))
    await _run(db, lambda tx: ledger.post(tx, company_id, zoe, 7, Kind.EARN, "test:visit"))
    async with client_for(app) as phone, client_for(app) as nobody:
        nobody.cookies.set("lang", "en")
        signed_out = await nobody.get("/account/loyalty")
        assert signed_out.status_code == 401 and "Sign in" in signed_out.text
        email, password = venue.consumers[0]
        signed = await phone.post("/api/v1/consumers/login", json={
            "machine": venue.machines[0].token, "email": email, "password": password})
        assert signed.status_code == 200, signed.text
        phone.cookies.set("lang", "fr")
        space = await phone.get("/account/loyalty")
        assert space.status_code == 200, space.text
        assert 'id="loyalty-points">7<' in space.text and "points" in space.text
        assert "Café offert" in space.text and "Disponible" in space.text
        assert "Visite" in space.text and "<svg" in space.text
        policy = space.headers["content-security-policy"]
        assert "frame-ancestors 'self' https:" in policy and "script-src 'self'" in policy
        assert "x-frame-options" not in space.headers
        account = await phone.get("/account")  # every other page stays unframeable
        assert "frame-ancestors 'none'" in account.headers["content-security-policy"]
        assert account.headers["x-frame-options"] == "DENY"


async def test_a_coupon_scanned_at_two_tills_at_once_is_used_once_and_applied_to_a_sale(
    at_till: AtTill, db: Database, venue: DemoVenue  # noqa: F811
) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    company_id = await _programme(db, venue)
    reward = await _run(db, lambda tx: setup.add_reward(tx, company_id, parse(AddReward, {
        "name": "1 € offert", "cost_points": 5, "effect": "amount_off", "amount": 100})))
    coupon = await _run(db, lambda tx: setup.issue_coupon(
        tx, company_id, reward.id, datetime.now(UTC) + timedelta(days=7)))
    device = at_till.device
    url = "/api/v1/till/coupons"
    answers = await asyncio.gather(*(device.post(url, json={
        "token": coupon.token, "idempotency_key": f"till-coupon-{n}", "total": 300})
        for n in range(2)))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    used = next(n for n, a in enumerate(answers) if a.status_code == 200)
    assert answers[used].json()["discount"] == 100
    assert answers[1 - used].json()["error"]["code"] == "coupon_used"
    again = await device.post(url, json={"token": coupon.token,
                                         "idempotency_key": f"till-coupon-{used}"})
    assert again.status_code == 200 and again.json()["duplicate"]
    async with db.sessionmaker() as session:  # where it was used, for the statistics
        assert await session.scalar(select(Coupon.used_site_id).where(
            Coupon.id == coupon.id)) == venue.site_id
    coffee = await _product(db, venue, 300)
    sale = _sale(coffee, 1, reward_key=f"till-coupon-{used}", reward_discount=100)
    sale["payments"] = [{"method": "card", "amount": 200}]
    sold = await device.post(SALES, json=sale)
    assert sold.status_code == 201, sold.text
    assert sold.json()["ticket"]["total"] == 200
    other = await device.post(SALES, json={**sale, "uuid": str(uuid.uuid4())})
    assert other.status_code == 422  # one coupon, one ticket
