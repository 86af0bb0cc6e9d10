"""Automatic sends: an e-mail or SMS a trigger sends to each customer once per occasion
(every N visits, N days before the birthday, after N days of absence), with a clock the
test sets, on SQLite and PostgreSQL; two sweeps at once (as two processes run them) queue
one message per occasion; only a send that is on, ready, to customers who consent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from accounts.service import StaffIdentity
from customers.models import OutboxMail
from domain.models import AuditEntry
from errors import InvalidInput
from loyalty import automatic, campaign_send, hearing, ledger
from loyalty.automatic import AutomaticForm
from loyalty.campaign_results import results_of
from loyalty.errors import AutomaticSendUsed, BadTrigger, CampaignIncomplete, UnknownCampaign
from loyalty.models import Campaign, CampaignMessage, Coupon, LoyaltyProfile
from tests.loyalty.conftest import Loyal
from tests.loyalty.test_campaigns import BLOCKS, SETTINGS, _manager, _only, _people
from web.commands import parse

DAY0 = datetime(2026, 6, 1, 10, tzinfo=UTC)


async def _auto(loyal: Loyal, staff: StaffIdentity, kind: str, every: int, *, on: bool = True,
                **values: Any) -> Campaign:
    reward = await loyal.reward(effect="amount_off", amount=300)
    fields = {"name": f"Auto {kind}", "channel": "email", "subject": "On pense à vous",
              "blocks": BLOCKS, "reward_id": reward.id, "coupon_valid_days": 10,
              "trigger_kind": kind, "trigger_every": every, **values}
    form = parse(AutomaticForm, fields)
    made = await loyal.run(lambda tx: automatic.create(tx, staff, form))
    if on:
        await loyal.run(lambda tx: automatic.switch(tx, staff, made.id, True))
    return made


async def _messages(loyal: Loyal, campaign_id: int | None = None) -> list[CampaignMessage]:
    async with loyal.db.sessionmaker() as session:
        query = select(CampaignMessage).order_by(CampaignMessage.id)
        if campaign_id is not None:
            query = query.where(CampaignMessage.campaign_id == campaign_id)
        return list(await session.scalars(query))


async def _visit(loyal: Loyal, consumer_id: int, at: datetime | None = None) -> None:
    await loyal.record(loyal.sale(consumer_id, 500, sold_at=at))


async def _born(loyal: Loyal, consumer_id: int, birthday: date) -> None:
    async with loyal.db.sessionmaker() as session, session.begin():
        await session.execute(update(LoyaltyProfile).where(
            LoyaltyProfile.consumer_id == consumer_id).values(birthday=birthday))


async def _sweep(loyal: Loyal, now: datetime) -> int:
    return await automatic.sweep_once(loyal.db.sessionmaker, loyal.bus, now)


async def test_every_2_visits_queues_one_message_on_the_2nd_and_4th_to_those_who_consent(
    loyal: Loyal,
) -> None:
    await loyal.rules(points_per_unit=1)
    staff = await _manager(loyal)
    send = await _auto(loyal, staff, "visits", 2)
    zoe, = await _people(loyal, 1)
    silent, = await _people(loyal, 1, email_consent=False)
    counts = []
    for _ in range(5):
        await _visit(loyal, zoe)
        await _visit(loyal, silent)
        counts.append(len(await _messages(loyal)))
    assert counts == [0, 1, 1, 2, 2]
    messages = await _messages(loyal)
    assert [m.key for m in messages] == [f"auto:visits:{send.id}:{zoe}:2",
                                         f"auto:visits:{send.id}:{zoe}:4"]
    assert {m.consumer_id for m in messages} == {zoe}
    assert all(m.status == "queued" and m.channel == "email" for m in messages)
    # The same sale synced twice (a new event), and the same event heard again.
    sale = loyal.sale(zoe, 500)
    await loyal.record(sale)
    await loyal.record(sale.model_copy(update={"id": uuid.uuid4()}))
    await loyal.run(lambda tx: hearing.ticket_recorded(tx, sale))
    assert len(await _messages(loyal)) == 3  # the 6th visit, once


async def test_a_send_that_is_off_or_another_companys_queues_nothing(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    staff = await _manager(loyal)
    await _auto(loyal, staff, "visits", 1, on=False)
    other = await loyal.other_company()
    theirs = await loyal.customer("Ailleurs", company_id=other)
    zoe, = await _people(loyal, 1)
    await _visit(loyal, zoe)
    assert await _messages(loyal) == []
    live = await _auto(loyal, staff, "visits", 1)
    await loyal.record(loyal.sale(theirs, 500))  # their sale names our company by mistake
    assert await _messages(loyal) == []
    await _visit(loyal, zoe)
    assert [m.campaign_id for m in await _messages(loyal)] == [live.id]


async def test_the_birthday_message_comes_once_per_year_and_two_sweeps_queue_one(
    loyal: Loyal,
) -> None:
    staff = await _manager(loyal)
    send = await _auto(loyal, staff, "birthday", 5)
    people = await _people(loyal, 4)
    for consumer_id in people:
        await _born(loyal, consumer_id, date(1990, 6, 25))
    assert await _sweep(loyal, datetime(2026, 6, 19, 10, tzinfo=UTC)) == 0  # 6 days before
    moment = datetime(2026, 6, 21, 10, tzinfo=UTC)
    made = await asyncio.gather(*(_sweep(loyal, moment) for _ in range(3)))
    assert sum(made) == 4, made
    assert await _sweep(loyal, moment + timedelta(days=2)) == 0
    messages = await _messages(loyal)
    assert sorted(m.key for m in messages) == sorted(
        f"auto:birthday:{send.id}:{p}:2026" for p in people)
    assert await _sweep(loyal, datetime(2027, 6, 22, 10, tzinfo=UTC)) == 4  # next year's


async def test_absence_queues_one_message_per_absence_to_reachable_customers(
    loyal: Loyal,
) -> None:
    await loyal.rules(points_per_unit=1)
    staff = await _manager(loyal)
    send = await _auto(loyal, staff, "absence", 30, channel="sms",
                       sms_text="Vous nous manquez ! -10% cette semaine.")
    zoe, = await _people(loyal, 1, phone="06 12 34 56 78")
    landline, = await _people(loyal, 1, phone="01 42 00 00 00")
    no_phone, = await _people(loyal, 1)
    for consumer_id in (zoe, landline, no_phone):
        await _visit(loyal, consumer_id, DAY0)
    assert await _sweep(loyal, DAY0 + timedelta(days=29)) == 0
    assert await _sweep(loyal, DAY0 + timedelta(days=30)) == 1
    assert await _sweep(loyal, DAY0 + timedelta(days=31)) == 0
    by_customer = {m.consumer_id: m for m in await _messages(loyal, send.id)}
    assert by_customer[zoe].address == "+33612345678"
    assert by_customer[zoe].key == f"auto:absence:{send.id}:{zoe}:2026-06-01"
    assert by_customer[zoe].status == "queued"
    # A landline takes no SMS: noted once, so the sweep does not ask again.
    assert (by_customer[landline].status, by_customer[landline].error) == (
        "failed", automatic.UNREACHABLE)
    assert no_phone not in by_customer  # no phone: never asked
    back = DAY0 + timedelta(days=40)
    await _visit(loyal, zoe, back)
    assert await _sweep(loyal, back + timedelta(days=30)) == 1  # a new absence
    assert len(await _messages(loyal, send.id)) == 3


async def test_an_automatic_email_goes_with_the_occasions_own_coupon(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    staff = await _manager(loyal)
    send = await _auto(loyal, staff, "visits", 1)
    zoe, = await _people(loyal, 1)
    await _visit(loyal, zoe)
    await _visit(loyal, zoe)
    now = datetime.now(UTC)
    # Delivered by the campaigns' job, whatever segment resolver it holds.
    assert await campaign_send.sweep_once(loyal.db.sessionmaker, loyal.bus, SETTINGS,
                                          _only([]), now) == 2
    async with loyal.db.sessionmaker() as session:
        coupons = list(await session.scalars(select(Coupon).order_by(Coupon.id)))
        mails = list(await session.scalars(select(OutboxMail)))
        results = await results_of(session, send.id, "email")
        status = await session.scalar(select(Campaign.status).where(Campaign.id == send.id))
    assert [c.key for c in coupons] == [f"auto:visits:{send.id}:{zoe}:1",
                                        f"auto:visits:{send.id}:{zoe}:2"]
    assert len(mails) == 2 and all(m.to == mails[0].to for m in mails)
    assert results.sent == 2
    assert status == "draft"  # an automatic send is never "sent": it goes on


async def test_switch_duplicate_edit_and_delete_are_audited_and_checked(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    staff = await _manager(loyal)
    with pytest.raises(BadTrigger):  # a birthday's window is 90 days at most
        await _auto(loyal, staff, "birthday", 91)
    with pytest.raises(InvalidInput):  # coupon-only is the coupon triggers' work
        await _auto(loyal, staff, "visits", 3, channel="coupon")
    draft = await _auto(loyal, staff, "visits", 3, on=False, subject="")
    with pytest.raises(CampaignIncomplete):  # not ready: not switched on
        await loyal.run(lambda tx: automatic.switch(tx, staff, draft.id, True))
    send = await _auto(loyal, staff, "visits", 1)
    with pytest.raises(CampaignIncomplete):  # on, it stays ready
        await loyal.run(lambda tx: automatic.edit(tx, staff, send.id, parse(AutomaticForm, {
            "name": "x", "channel": "email", "trigger_kind": "visits",
            "trigger_every": 1})))
    copy = await loyal.run(lambda tx: automatic.duplicate(tx, staff, send.id))
    assert (copy.active, copy.automatic, copy.trigger_kind, copy.name) == (
        False, True, "visits", "Auto visits (2)")
    zoe, = await _people(loyal, 1)
    await _visit(loyal, zoe)
    with pytest.raises(AutomaticSendUsed):  # it sent: kept, with its results
        await loyal.run(lambda tx: automatic.delete(tx, staff, send.id))
    await loyal.run(lambda tx: automatic.switch(tx, staff, send.id, False))
    await _visit(loyal, zoe)
    assert len(await _messages(loyal, send.id)) == 1  # off: nothing more
    await loyal.run(lambda tx: automatic.delete(tx, staff, copy.id))
    other = StaffIdentity(staff.id, await loyal.other_company(), "manager", "Max")
    with pytest.raises(UnknownCampaign):
        await loyal.run(lambda tx: automatic.switch(tx, other, send.id, True))
    async with loyal.db.sessionmaker() as session:
        actions = list(await session.scalars(
            select(AuditEntry.action).where(AuditEntry.company_id == loyal.company_id)
            .order_by(AuditEntry.id)))
        left = await session.scalar(select(func.count()).select_from(Campaign).where(
            Campaign.id == copy.id))
    assert left == 0
    assert actions.count("automatic.switched") == 2  # on, then off
    assert {"automatic.added", "automatic.duplicated", "automatic.deleted"} <= set(actions)


async def test_a_withdrawn_consent_before_delivery_sends_nothing(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    staff = await _manager(loyal)
    await _auto(loyal, staff, "visits", 1)
    zoe, = await _people(loyal, 1)
    await _visit(loyal, zoe)
    async with loyal.db.sessionmaker() as session, session.begin():
        await ledger.ensure_profile(session, loyal.company_id, zoe)
        await session.execute(update(LoyaltyProfile).where(
            LoyaltyProfile.consumer_id == zoe).values(email_consent_at=None))
    await campaign_send.sweep_once(loyal.db.sessionmaker, loyal.bus, SETTINGS, _only([]),
                                   datetime.now(UTC))
    [message] = await _messages(loyal)
    assert (message.status, message.error) == ("failed", "consent withdrawn")
