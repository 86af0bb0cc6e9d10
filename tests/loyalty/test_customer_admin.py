"""The managers' customers: searched and paged by each key, added and edited (a taken e-mail
or phone refused, nothing written), deleted with their history, points by hand counted
once and never below zero, a history that matches the figures worked out by hand, within
the member's sites, and the export. On SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from accounts.models import Site, Staff
from accounts.service import StaffIdentity
from customers.models import Consumer, CreditBalance
from customers.people_admin import CreditRemains
from domain.models import AuditEntry
from errors import DomainError
from loyalty import customer_admin, customer_history, earning, ledger, service
from loyalty.commands import Redeem
from loyalty.customer_admin import CustomerForm, EmailTaken, HandEntry
from loyalty.errors import NotEnoughPoints, PhoneTaken, UnknownCustomer
from loyalty.ledger import Kind
from loyalty.models import Coupon, LoyaltyProfile, PointsEntry
from realtime.events import Tx
from tests.loyalty.conftest import Loyal, key
from web.commands import parse


async def _manager(loyal: Loyal, sites: frozenset[int] | None = None,
                   role: str = "manager") -> StaffIdentity:
    async with loyal.db.sessionmaker() as session, session.begin():
        staff = Staff(company_id=loyal.company_id, email=f"{key()[:10]}@cafe.fr", name="Max",
                      password_hash="x", role=role, all_sites=sites is None)
        session.add(staff)
        await session.flush()
        return StaffIdentity(staff.id, loyal.company_id, role, "Max", sites)


def _form(**values: Any) -> CustomerForm:
    return parse(CustomerForm, {"name": "Zoé Martin", "email": "zoe@exemple.fr", **values},
                 form=True)


async def _earn(loyal: Loyal, consumer_id: int, points: int, tx: Tx) -> ledger.Posted:
    return await ledger.post(tx, loyal.company_id, consumer_id, points, Kind.EARN,
                             f"test:{key()}")


def _hand(kind: str, points: int, **values: Any) -> HandEntry:
    return parse(HandEntry, {"kind": kind, "points": str(points), "reason": "Oubli en caisse",
                             "idempotency_key": key(), **values}, form=True)


async def _second_site(loyal: Loyal) -> int:
    async with loyal.db.sessionmaker() as session, session.begin():
        site = Site(company_id=loyal.company_id, name="Le Zinc Gare")
        session.add(site)
        await session.flush()
        return site.id


async def _audits(loyal: Loyal) -> list[tuple[str, str]]:
    async with loyal.db.sessionmaker() as session:
        return [(a, t) for a, t in await session.execute(
            select(AuditEntry.action, AuditEntry.target).order_by(AuditEntry.id))]


async def _count(loyal: Loyal, model: Any, *where: Any) -> int:
    async with loyal.db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where))
                   or 0)


async def test_the_list_is_searched_by_name_email_phone_and_qr_code_a_page_at_a_time(
    loyal: Loyal
) -> None:
    staff = await _manager(loyal)
    for n in range(1, 24):
        await loyal.customer(f"Client {n:02d}", email=f"client{n:02d}@exemple.fr")
    zoe = await loyal.run(lambda tx: customer_admin.add(tx, staff, _form(
        phone="06 12 34 56 78")))
    async with loyal.db.sessionmaker() as session:
        first = await customer_admin.listing(session, staff)
        second = await customer_admin.listing(session, staff, "", 2)
        beyond = await customer_admin.listing(session, staff, "", 99)
        assert (first.total, first.pages, len(first.rows)) == (24, 2, 20)
        assert [r.name for r in first.rows][:2] == ["Client 01", "Client 02"]
        assert [r.name for r in second.rows] == ["Client 21", "Client 22", "Client 23",
                                                 "Zoé Martin"]
        assert beyond.page == 2 and beyond.rows == second.rows
        qr = await session.scalar(select(LoyaltyProfile.qr_token).where(
            LoyaltyProfile.consumer_id == zoe.id))
        assert qr is not None
        for text in ("zoé", "ZOE@exemple.fr", "0612345678", "06.12.34.56.78", qr):
            found = await customer_admin.listing(session, staff, text)
            assert [r.id for r in found.rows] == [zoe.id], text
            assert found.total == 1
        assert (await customer_admin.listing(session, staff, "client1")).total == 10
        assert (await customer_admin.listing(session, staff, "personne")).total == 0


async def test_adding_keeps_the_profile_and_refuses_a_taken_email_or_phone(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    zoe = await loyal.run(lambda tx: customer_admin.add(tx, staff, _form(
        phone="+33 6 12 34 56 78", birthday="1990-04-25", postcode="75011",
        email_consent="1")))
    async with loyal.db.sessionmaker() as session:
        profile = await session.get(LoyaltyProfile, zoe.id)
        consumer = await session.get(Consumer, zoe.id)
    assert profile is not None and consumer is not None
    assert (profile.phone, str(profile.birthday), profile.postcode) == (
        "+33612345678", "1990-04-25", "75011")
    assert profile.email_consent_at is not None and profile.sms_consent_at is None
    assert consumer.verified and consumer.password_hash == ""
    with pytest.raises(EmailTaken):
        await loyal.run(lambda tx: customer_admin.add(tx, staff, _form(
            name="Autre", email="Zoe@Exemple.fr")))
    with pytest.raises(PhoneTaken):
        await loyal.run(lambda tx: customer_admin.add(tx, staff, _form(
            name="Autre", email="autre@exemple.fr", phone="+33612345678")))
    assert await _count(loyal, Consumer, Consumer.company_id == loyal.company_id) == 1
    assert await _audits(loyal) == [("customer.add", f"consumer:{zoe.id}")]


@pytest.mark.parametrize("values", [
    {"phone": "06 12"}, {"phone": "appelle-moi"}, {"birthday": "2999-01-01"},
    {"birthday": "hier"}, {"postcode": "<script>"}, {"email": "pas-une-adresse"},
    {"name": " "},
])
def test_bad_input_is_refused_by_its_field(values: dict[str, str]) -> None:
    with pytest.raises(DomainError) as refused:
        _form(**values)
    assert refused.value.field == next(iter(values))


async def test_editing_keeps_a_consent_date_and_records_what_changed(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    zoe = await loyal.run(lambda tx: customer_admin.add(tx, staff, _form(email_consent="1")))
    other = await loyal.customer("Autre", email="autre@exemple.fr")
    async with loyal.db.sessionmaker() as session:
        since = await session.scalar(select(LoyaltyProfile.email_consent_at).where(
            LoyaltyProfile.consumer_id == zoe.id))
    with pytest.raises(EmailTaken):
        await loyal.run(lambda tx: customer_admin.edit(tx, staff, zoe.id, _form(
            email="autre@exemple.fr")))
    await loyal.run(lambda tx: customer_admin.edit(tx, staff, zoe.id, _form(
        name="Zoé M.", email_consent="1", sms_consent="1", postcode="69001")))
    async with loyal.db.sessionmaker() as session:
        profile = await session.get(LoyaltyProfile, zoe.id)
        consumer = await session.get(Consumer, zoe.id)
        changes = await session.scalar(select(AuditEntry.changes).where(
            AuditEntry.action == "customer.edit"))
    assert profile is not None and consumer is not None
    assert consumer.name == "Zoé M." and consumer.email == "zoe@exemple.fr"
    assert profile.email_consent_at == since and profile.sms_consent_at is not None
    assert changes == {"name": ["Zoé Martin", "Zoé M."], "postcode": [None, "69001"],
                       "sms_consent": [False, True]}
    with pytest.raises(UnknownCustomer):
        foreign = await loyal.customer("Ailleurs", company_id=await loyal.other_company())
        await loyal.run(lambda tx: customer_admin.edit(tx, staff, foreign, _form()))
    assert other


async def test_deleting_removes_the_history_and_refuses_while_credit_remains(
    loyal: Loyal
) -> None:
    staff = await _manager(loyal)
    reward = await loyal.reward(effect="amount_off", amount=150)
    zoe = await loyal.customer("Zoé")
    kept = await loyal.customer("Reste")
    for who in (zoe, kept):
        await loyal.run(functools.partial(_earn, loyal, who, 30))
    async with loyal.db.sessionmaker() as session, session.begin():
        session.add(Coupon(company_id=loyal.company_id, consumer_id=zoe, reward_id=reward.id,
                           token=key(), expires_at=datetime.now(UTC) + timedelta(days=3)))
    async with loyal.db.sessionmaker() as session:
        zoe_row = await session.get(Consumer, zoe)
        assert zoe_row is not None
        told = await customer_admin.removal(session, zoe_row)
    assert (told.entries, told.balance, told.coupons, told.credit) == (1, 30, 1, 0)
    async with loyal.db.sessionmaker() as session, session.begin():
        session.add(CreditBalance(consumer_id=kept, balance=500))
    with pytest.raises(CreditRemains):
        await loyal.run(lambda tx: customer_admin.remove(tx, staff, kept))
    await loyal.run(lambda tx: customer_admin.remove(tx, staff, zoe))
    for model in (PointsEntry, Coupon, LoyaltyProfile):
        assert await _count(loyal, model, model.consumer_id == zoe) == 0
    assert await _count(loyal, Consumer, Consumer.id == zoe) == 0
    assert await _count(loyal, PointsEntry, PointsEntry.consumer_id == kept) == 1
    assert await _audits(loyal) == [("customer.delete", f"consumer:{zoe}")]


async def test_points_by_hand_count_once_per_form_and_never_go_below_zero(
    loyal: Loyal
) -> None:
    staff = await _manager(loyal)
    zoe = await loyal.customer("Zoé")
    visit = _hand("visit", 12, spent="8,50", site=str(loyal.site_id))
    for _ in range(2):  # the form sent twice
        posted = await loyal.run(lambda tx: customer_admin.by_hand(tx, staff, zoe, visit))
    assert posted.duplicate and await loyal.balance(zoe) == 12
    assert await loyal.entries(zoe) == [(Kind.BY_HAND, 12)]
    with pytest.raises(NotEnoughPoints):
        await loyal.run(lambda tx: customer_admin.by_hand(tx, staff, zoe, _hand("redeem", 13)))
    assert await loyal.balance(zoe) == 12
    await loyal.run(lambda tx: customer_admin.by_hand(tx, staff, zoe, _hand("redeem", 12)))
    assert await loyal.balance(zoe) == 0 and await loyal.ledger_sum(zoe) == 0
    async with loyal.db.sessionmaker() as session:
        changes = (await session.scalars(select(AuditEntry.changes).where(
            AuditEntry.action.in_(["customer.visit", "customer.redeem"]))
            .order_by(AuditEntry.id))).all()
    assert changes == [
        {"points": 12, "reason": "Oubli en caisse", "spent": 850, "site_id": loyal.site_id},
        {"points": -12, "reason": "Oubli en caisse", "spent": 0, "site_id": None}]


async def test_a_member_of_some_sites_adds_points_at_one_of_them(loyal: Loyal) -> None:
    other_site = await _second_site(loyal)
    limited = await _manager(loyal, frozenset({loyal.site_id}))
    zoe = await loyal.customer("Zoé")
    for site in ("", str(other_site), "999999"):
        entry = _hand("visit", 5, site=site)
        with pytest.raises(DomainError) as refused:
            await loyal.run(functools.partial(customer_admin.by_hand, staff=limited,
                                              consumer_id=zoe, given=entry))
        assert refused.value.field == "site"
    assert await loyal.balance(zoe) == 0


async def test_the_history_matches_the_figures_worked_out_by_hand(loyal: Loyal) -> None:
    """At the first site: a sale of 20.00 (20 points) refunded 5.00, a table of 12.00; at
    the second, a sale of 30.00; a visit by hand of 4.00 at the first; a reward of 10
    points, and a coupon used at the second site. All sites: 4 orders, 20 - 5 + 12 + 30 +
    4 = 61.00, 15.25 on average, 2 rewards. The first site only: 3 orders, 31.00, 10.33."""
    await loyal.rules(points_per_unit=1)
    second = await _second_site(loyal)
    everyone = await _manager(loyal)
    limited = await _manager(loyal, frozenset({loyal.site_id}))
    reward = await loyal.reward(effect="amount_off", amount=150)
    zoe = await loyal.customer("Zoé")
    start = datetime.now(UTC) - timedelta(days=3)

    async def visit(spent: int, site: int, days: int, origin: str) -> None:
        await loyal.run(lambda tx: earning.visit(
            tx, company_id=loyal.company_id, consumer_id=zoe, key=f"{origin}:{key()}",
            origin=origin, spent=spent, at=start + timedelta(days=days), site_id=site))

    await visit(2000, loyal.site_id, 0, "ticket:1")
    await loyal.run(lambda tx: earning.refund(
        tx, company_id=loyal.company_id, origin="ticket:1", key=f"refund:{key()}",
        refunded=500, site_id=loyal.site_id))
    await visit(1200, loyal.site_id, 1, "table:1")
    await visit(3000, second, 2, "ticket:2")
    await loyal.run(lambda tx: customer_admin.by_hand(tx, everyone, zoe, _hand(
        "visit", 4, spent="4", site=str(loyal.site_id))))
    await loyal.run(lambda tx: service.redeem(tx, loyal.company_id, parse(Redeem, {
        "consumer_id": zoe, "reward_id": reward.id, "idempotency_key": key()})))
    async with loyal.db.sessionmaker() as session, session.begin():
        session.add(Coupon(company_id=loyal.company_id, consumer_id=zoe, reward_id=reward.id,
                           token=key(), expires_at=datetime.now(UTC) + timedelta(days=3),
                           used_at=datetime.now(UTC), used_key=key(), used_site_id=second))
    async with loyal.db.sessionmaker() as session:
        whole = await customer_history.history(session, everyone, zoe)
        mine = await customer_history.history(session, limited, zoe)
    assert (whole.orders, whole.spend, whole.average, whole.rewards_count) == (
        4, 6100, 1525, 2)
    assert [v.spent for v in whole.visits] == [400, 3000, 1200, 2000]
    assert [(r.points, r.coupon) for r in whole.rewards] == [(0, True), (10, False)]
    assert (mine.orders, mine.spend, mine.average, mine.rewards_count) == (3, 3100, 1033, 1)
    assert {v.site for v in mine.visits} == {"Le Zinc"}
    assert whole.last_visit is not None and mine.last_visit == whole.last_visit
    assert sum(e.points for e in whole.entries) == await loyal.balance(zoe) == 20 - 5 + 12 + \
        30 + 4 - 10

    batches = [b async for b in customer_history.exported(loyal.db.sessionmaker, limited, "")]
    assert [(r.name, r.visits, r.spend) for b in batches for r in b] == [("Zoé", 3, 3100)]


async def test_the_export_reads_every_customer_in_batches(
    loyal: Loyal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(customer_history, "BATCH", 3)
    staff = await _manager(loyal)
    for n in range(7):
        await loyal.customer(f"Client {n}", email=f"c{n}@exemple.fr")
    await loyal.customer("Client 7", email="c7@exemple.fr",
                         company_id=await loyal.other_company())
    batches = [b async for b in customer_history.exported(loyal.db.sessionmaker, staff, "")]
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [r.name for b in batches for r in b] == [f"Client {n}" for n in range(7)]
    only = [b async for b in customer_history.exported(loyal.db.sessionmaker, staff, "c3@")]
    assert [r.email for b in only for r in b] == ["c3@exemple.fr"]


async def test_a_role_without_the_customers_section_is_refused(loyal: Loyal) -> None:
    cashier = await _manager(loyal, role="cashier")
    zoe = await loyal.customer("Zoé")
    async with loyal.db.sessionmaker() as session:
        with pytest.raises(DomainError) as refused:
            await customer_admin.listing(session, cashier)
        assert refused.value.status == 403
    with pytest.raises(DomainError):
        await loyal.run(lambda tx: customer_admin.by_hand(tx, cashier, zoe, _hand("visit", 5)))
    assert await loyal.balance(zoe) == 0
