"""The campaigns' SMS sent by the dispatcher, with a controlled clock: held at quiet times in
the venue's time zone and sent when due, blocked when credits are short and sent once
retried, each sent once by two dispatchers at once, a refused number's failure recorded,
the STOP line in every text sent. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import select

from accounts.models import Company
from customers.models import Consumer
from loyalty import sms_dispatch
from loyalty.models import Campaign, CampaignMessage, LoyaltyProfile, SmsSettings
from loyalty.sms_settings import box, forget_recorders, recorder
from loyalty.sms_text import has_stop
from realtime.bus import make_bus
from realtime.events import run
from tests.conftest import Database
from tests.conftest import test_settings as settings_for
from tests.loyalty.brevo_fake import KEY, FakeBrevo, serve_fake_brevo

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
STOP = "STOP au 36173"
TEXT = "Happy hour au Zinc ce soir: -20% sur les cocktails !"


@pytest.fixture(autouse=True)
def fresh_recorders() -> Iterator[None]:
    forget_recorders()
    yield
    forget_recorders()


def at(text: str, zone: ZoneInfo = PARIS) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


async def company(db: Database, tz: str = "Europe/Paris", *, sender: str = "LeZinc",
                  subdivision: str | None = None) -> int:
    async with db.sessionmaker() as session, session.begin():
        made = Company(name=f"Zinc {tz}", currency="EUR", timezone=tz, locale="fr")
        session.add(made)
        await session.flush()
        session.add(SmsSettings(company_id=made.id, provider="recording", api_key="",
                                sender=sender, stop_mention=STOP,
                                holiday_subdivision=subdivision))
        return made.id


async def queue(db: Database, company_id: int, numbers: list[str],
                text: str = TEXT, consumers: list[int | None] | None = None) -> int:
    """A campaign's SMS, queued as the campaigns queue them: one row per recipient."""
    async with db.sessionmaker() as session, session.begin():
        campaign = Campaign(company_id=company_id, name="Happy hour", channel="sms",
                            status="sending", sms_text=text)
        session.add(campaign)
        await session.flush()
        for number, consumer_id in zip(numbers, consumers or [None] * len(numbers),
                                       strict=True):
            session.add(CampaignMessage(
                company_id=company_id, campaign_id=campaign.id, channel="sms",
                consumer_id=consumer_id, address=number,
                key=f"{campaign.id}:{uuid.uuid4().hex}", status="queued"))
        return campaign.id


async def messages(db: Database, company_id: int) -> list[CampaignMessage]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(
            select(CampaignMessage).where(CampaignMessage.company_id == company_id)
            .order_by(CampaignMessage.id))).all())


async def statuses(db: Database, company_id: int) -> list[str]:
    return [m.status for m in await messages(db, company_id)]


async def dispatch(db: Database, now: datetime) -> int:
    bus = make_bus(None)
    try:
        return await sms_dispatch.dispatch_once(db.sessionmaker, bus,
                                                settings_for(db.url), now)
    finally:
        await bus.close()


def numbers(count: int) -> list[str]:
    return [f"+3361234{n:04d}" for n in range(count)]


@pytest.mark.parametrize(("now", "held_until"), [
    ("2026-07-08 20:05", "2026-07-09 08:00"),  # a Wednesday evening: the next morning
    ("2026-07-09 07:59", "2026-07-09 08:00"),  # before opening: the same morning
    ("2026-07-11 20:30", "2026-07-13 08:00"),  # Saturday evening: not Sunday, Monday
    ("2026-07-12 10:00", "2026-07-13 08:00"),  # a Sunday morning: Monday
    ("2026-07-13 20:05", "2026-07-15 08:00"),  # Monday evening: not 14 July
    ("2026-07-14 11:00", "2026-07-15 08:00"),  # 14 July itself
])
async def test_at_a_quiet_time_the_sms_are_held_until_the_next_allowed_time_in_paris(
    db: Database, now: str, held_until: str
) -> None:
    company_id = await company(db)
    await queue(db, company_id, numbers(2))
    assert await dispatch(db, at(now)) == 0
    held = await messages(db, company_id)
    assert [m.status for m in held] == ["held", "held"]
    assert {m.send_after for m in held} == {at(held_until).astimezone(UTC)}
    assert recorder(company_id).sent == []

    assert await dispatch(db, at(held_until) - (at(held_until) - at(now)) / 2) == 0
    assert await statuses(db, company_id) == ["held", "held"]  # not yet due
    assert await dispatch(db, at(held_until)) == 2  # due: sent
    assert await statuses(db, company_id) == ["sent", "sent"]
    assert [r.to for r in recorder(company_id).sent] == numbers(2)


async def test_quiet_hours_are_the_venues_own_time_zone(db: Database) -> None:
    paris = await company(db, "Europe/Paris")
    reunion = await company(db, "Indian/Reunion")
    await queue(db, paris, numbers(1))
    await queue(db, reunion, numbers(1))
    now = datetime(2026, 7, 8, 16, 30, tzinfo=UTC)  # 18:30 in Paris, 20:30 in Réunion
    assert await dispatch(db, now) == 1
    assert await statuses(db, paris) == ["sent"]
    [held] = await messages(db, reunion)
    assert held.status == "held"
    assert held.send_after == at("2026-07-09 08:00", REUNION).astimezone(UTC)
    assert held.send_after == datetime(2026, 7, 9, 4, 0, tzinfo=UTC)


async def test_a_regions_own_holiday_holds_them_too(db: Database) -> None:
    moselle = await company(db, subdivision="57")
    france = await company(db)
    await queue(db, moselle, numbers(1))
    await queue(db, france, numbers(1))
    good_friday = at("2026-04-03 10:00")
    assert await dispatch(db, good_friday) == 1
    assert await statuses(db, france) == ["sent"]
    [held] = await messages(db, moselle)
    assert (held.status, held.send_after) == ("held", at("2026-04-04 08:00").astimezone(UTC))


async def test_every_sms_sent_ends_with_the_stop_line_and_records_its_parts(
    db: Database
) -> None:
    company_id = await company(db)
    long_text = "Menu de la semaine: " + "plat du jour, dessert, café. " * 8
    await queue(db, company_id, numbers(2), long_text)
    await queue(db, company_id, numbers(1), "Ce soir: crêpes à volonté")  # ê: UCS-2
    assert await dispatch(db, at("2026-07-08 10:00")) == 3
    sent = recorder(company_id).sent
    assert len(sent) == 3 and all(has_stop(r.text, STOP) for r in sent)
    assert all(r.text.endswith("\n" + STOP) and r.sender == "LeZinc" for r in sent)
    rows = await messages(db, company_id)
    assert [m.parts for m in rows] == [2, 2, 1]
    assert [m.provider_id for m in rows] == ["rec-1", "rec-2", "rec-3"]
    assert all(m.sent_at == at("2026-07-08 10:00") for m in rows)


async def test_a_refused_number_is_failed_with_its_reason_and_the_others_go(
    db: Database
) -> None:
    company_id = await company(db)
    recorder(company_id).refused.add("+33612340001")
    await queue(db, company_id, [*numbers(3), "+33123456789"])  # the last: a landline
    assert await dispatch(db, at("2026-07-08 10:00")) == 2
    rows = await messages(db, company_id)
    assert [(m.status, m.error) for m in rows] == [
        ("sent", ""), ("failed", "sms_number_refused"), ("sent", ""),
        ("failed", "bad_phone_number")]
    assert [r.to for r in recorder(company_id).sent] == ["+33612340000", "+33612340002"]
    assert await dispatch(db, at("2026-07-08 10:05")) == 0  # a failure is not sent again


async def test_short_credits_block_the_batch_and_a_retry_sends_it_once(db: Database) -> None:
    company_id = await company(db)
    provider = recorder(company_id)
    provider.balance = Decimal(2)
    campaign_id = await queue(db, company_id, numbers(3))
    assert await dispatch(db, at("2026-07-08 10:00")) == 0
    rows = await messages(db, company_id)
    assert [(m.status, m.error) for m in rows] == [("blocked", "no_sms_credits")] * 3
    assert provider.sent == [] and provider.balance == 2  # none sent, not even two
    assert await dispatch(db, at("2026-07-08 10:05")) == 0  # blocked stays blocked

    provider.balance = Decimal(10)
    bus = make_bus(None)
    try:
        retried = await run(db.sessionmaker, bus, lambda tx: sms_dispatch.retry_blocked(
            tx, company_id, campaign_id))
    finally:
        await bus.close()
    assert retried == 3 and await statuses(db, company_id) == ["queued"] * 3
    assert await dispatch(db, at("2026-07-08 10:10")) == 3
    assert await dispatch(db, at("2026-07-08 10:15")) == 0
    assert await statuses(db, company_id) == ["sent"] * 3
    assert [r.to for r in provider.sent] == numbers(3) and provider.balance == 7


async def test_retrying_one_campaign_leaves_the_others_blocked(db: Database) -> None:
    company_id = await company(db)
    recorder(company_id).balance = Decimal(0)
    first = await queue(db, company_id, numbers(1))
    await queue(db, company_id, numbers(2))
    await dispatch(db, at("2026-07-08 10:00"))
    bus = make_bus(None)
    try:
        assert await run(db.sessionmaker, bus, lambda tx: sms_dispatch.retry_blocked(
            tx, company_id, first)) == 1
        assert await run(db.sessionmaker, bus, lambda tx: sms_dispatch.retry_blocked(
            tx, company_id + 1000)) == 0  # another company's: none of these
    finally:
        await bus.close()
    assert await statuses(db, company_id) == ["queued", "blocked", "blocked"]


async def test_a_provider_down_sends_nothing_and_the_messages_wait(db: Database) -> None:
    company_id = await company(db)
    recorder(company_id).down = True
    await queue(db, company_id, numbers(2))
    assert await dispatch(db, at("2026-07-08 10:00")) == 0
    assert await statuses(db, company_id) == ["queued", "queued"]
    recorder(company_id).down = False
    assert await dispatch(db, at("2026-07-08 10:05")) == 2


async def test_without_a_sender_name_nothing_leaves(db: Database) -> None:
    company_id = await company(db, sender="")
    await queue(db, company_id, numbers(1))
    assert await dispatch(db, at("2026-07-08 10:00")) == 0
    assert await statuses(db, company_id) == ["queued"]


async def test_two_dispatchers_at_once_send_each_message_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sms_dispatch, "BATCH", 4)  # many small claims, to interleave them
    first, second = await company(db), await company(db)
    await queue(db, first, numbers(30))
    await queue(db, second, numbers(10))
    sent = await asyncio.gather(*(dispatch(db, at("2026-07-08 10:00")) for _ in range(3)))
    assert sum(sent) == 40
    assert await statuses(db, first) == ["sent"] * 30
    assert await statuses(db, second) == ["sent"] * 10
    assert sorted(r.to for r in recorder(first).sent) == numbers(30)
    assert sorted(r.to for r in recorder(second).sent) == numbers(10)
    ids = [m.provider_id for m in await messages(db, first)]
    assert len(set(ids)) == 30


async def test_a_claim_whose_process_died_is_failed_not_sent_again(db: Database) -> None:
    company_id = await company(db)
    await queue(db, company_id, numbers(1))
    async with db.sessionmaker() as session, session.begin():
        [row] = (await session.scalars(select(CampaignMessage))).all()
        row.status, row.sent_at = "sending", at("2026-07-08 09:00")
    assert await dispatch(db, at("2026-07-08 09:10")) == 0
    assert await statuses(db, company_id) == ["sending"]  # maybe still on its way
    assert await dispatch(db, at("2026-07-08 09:20")) == 0
    [row] = await messages(db, company_id)
    assert (row.status, row.error) == ("failed", "sms_interrupted")
    assert recorder(company_id).sent == []


fake_brevo = pytest_asyncio.fixture(serve_fake_brevo)


async def test_through_brevo_credits_short_block_then_the_retry_sends_once(
    db: Database, fake_brevo: FakeBrevo
) -> None:
    settings = settings_for(db.url, sms_api_url=fake_brevo.url)
    company_id = await company(db)
    async with db.sessionmaker() as session, session.begin():
        row = await session.get(SmsSettings, company_id)
        assert row is not None
        row.provider, row.api_key = "brevo", box(settings).seal(KEY)
        row.stop_mention = "STOP au [STOP_CODE]"
    fake_brevo.credits = 2.0
    campaign_id = await queue(db, company_id, numbers(3))
    bus = make_bus(None)
    try:
        assert await sms_dispatch.dispatch_once(db.sessionmaker, bus, settings,
                                                at("2026-07-08 10:00")) == 0
        assert await statuses(db, company_id) == ["blocked"] * 3 and fake_brevo.sms() == []
        fake_brevo.credits = 50.0
        assert await run(db.sessionmaker, bus, lambda tx: sms_dispatch.retry_blocked(
            tx, company_id, campaign_id)) == 3
        assert await sms_dispatch.dispatch_once(db.sessionmaker, bus, settings,
                                                at("2026-07-08 10:05")) == 3
        assert await sms_dispatch.dispatch_once(db.sessionmaker, bus, settings,
                                                at("2026-07-08 10:10")) == 0
    finally:
        await bus.close()
    sent = fake_brevo.sms()
    assert sorted(c.body["recipient"] for c in sent) == numbers(3)
    assert all(c.body["content"].endswith("\nSTOP au [STOP_CODE]") for c in sent)
    assert all(c.body["sender"] == "LeZinc" for c in sent)
    assert await statuses(db, company_id) == ["sent"] * 3
    assert all(m.provider_id for m in await messages(db, company_id))


async def customer(db: Database, company_id: int, consents: bool) -> int:
    async with db.sessionmaker() as session, session.begin():
        consumer = Consumer(company_id=company_id, email=f"{uuid.uuid4().hex[:8]}@example.com",
                            name="Zoé", password_hash="x", email_confirmed=True, verified=True)
        session.add(consumer)
        await session.flush()
        session.add(LoyaltyProfile(
            consumer_id=consumer.id, company_id=company_id, qr_token=uuid.uuid4().hex,
            sms_consent_at=at("2026-01-01 12:00") if consents else None))
        return consumer.id


async def test_a_customer_who_withdrew_consent_since_the_queueing_is_not_sent_it(
    db: Database
) -> None:
    company_id = await company(db)
    keeps, withdrew = await customer(db, company_id, True), await customer(db, company_id, False)
    await queue(db, company_id, numbers(3), consumers=[keeps, withdrew, None])
    assert await dispatch(db, at("2026-07-08 10:00")) == 2
    rows = await messages(db, company_id)
    assert [(m.status, m.error) for m in rows] == [
        ("sent", ""), ("failed", "sms_no_consent"), ("sent", "")]
    assert [r.to for r in recorder(company_id).sent] == [numbers(3)[0], numbers(3)[2]]
