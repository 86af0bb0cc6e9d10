"""Campaigns by hand: their statuses, a clock under the test's control for scheduled
sends, consent, one message and one coupon per customer however often it is sent, the
unsubscribe link of the mail, and the results."""

from __future__ import annotations

import asyncio
import email
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select, update

from accounts.models import Staff
from accounts.service import StaffIdentity
from customers.models import OutboxMail
from errors import InvalidInput
from loyalty import campaign_send, campaigns, ledger
from loyalty.campaign_results import results_of
from loyalty.campaigns import CampaignForm, Status
from loyalty.errors import BadBlocks, CampaignNotNow, SendTimeInPast
from loyalty.models import Campaign, CampaignMessage, Coupon, LoyaltyProfile, PointsEntry
from loyalty.unsubscribe import read, withdraw
from tests.loyalty.conftest import Loyal, key
from web.commands import parse

SETTINGS = SimpleNamespace(public_url="https://zinc.example", secret_key="s" * 32)
BLOCKS = [{"kind": "logo"}, {"kind": "title", "text": "Happy hour <b>jeudi</b>"},
          {"kind": "text", "text": "Venez nombreux."},
          {"kind": "button", "label": "Réserver", "url": "https://zinc.example/r"},
          {"kind": "coupon"}]


async def _manager(loyal: Loyal) -> StaffIdentity:
    async with loyal.db.sessionmaker() as session, session.begin():
        staff = Staff(company_id=loyal.company_id, email=f"{key()[:10]}@cafe.fr", name="Max",
                      password_hash="x", role="manager", all_sites=True)
        session.add(staff)
        await session.flush()
        return StaffIdentity(staff.id, loyal.company_id, "manager", "Max")


async def _people(loyal: Loyal, n: int, *, email_consent: bool = True,
                  phone: str | None = None) -> list[int]:
    ids = []
    for i in range(n):
        consumer_id = await loyal.customer(f"Client {i}")
        async with loyal.db.sessionmaker() as session, session.begin():
            await ledger.ensure_profile(session, loyal.company_id, consumer_id)
            await session.execute(update(LoyaltyProfile).where(
                LoyaltyProfile.consumer_id == consumer_id).values(
                email_consent_at=datetime.now(UTC) if email_consent else None,
                sms_consent_at=datetime.now(UTC), phone=phone))
        ids.append(consumer_id)
    return ids


async def _campaign(loyal: Loyal, staff: StaffIdentity, **values: Any) -> Campaign:
    reward = await loyal.reward(effect="amount_off", amount=300)
    fields = {"name": "Jeudi", "channel": "email", "subject": "Happy hour",
              "blocks": BLOCKS, "reward_id": reward.id, "coupon_valid_days": 10, **values}
    form = parse(CampaignForm, fields)
    return await loyal.run(lambda tx: campaigns.create(tx, staff, form))


def _only(ids: list[int]) -> campaign_send.Resolver:
    async def resolve(session: Any, company_id: int, definition: Any, now: datetime
                      ) -> list[int]:
        return list(ids)
    return resolve


async def _sweep(loyal: Loyal, now: datetime, ids: list[int]) -> int:
    return await campaign_send.sweep_once(loyal.db.sessionmaker, loyal.bus, SETTINGS,
                                          _only(ids), now)


async def _status(loyal: Loyal, campaign_id: int) -> str:
    async with loyal.db.sessionmaker() as session:
        return await session.scalar(select(Campaign.status).where(
            Campaign.id == campaign_id)) or ""


async def _mails(loyal: Loyal) -> list[OutboxMail]:
    async with loyal.db.sessionmaker() as session:
        return list(await session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


async def test_the_statuses_move_only_as_their_table_allows(loyal: Loyal) -> None:
    assert campaigns.TRANSITIONS[Status.SENT] == frozenset()
    staff = await _manager(loyal)
    campaign = await _campaign(loyal, staff)
    with pytest.raises(CampaignNotNow):  # only a scheduled send is cancelled
        await loyal.run(lambda tx: campaigns.cancel(tx, staff, campaign.id))
    await loyal.run(lambda tx: campaign_send.send_now(tx, staff, campaign.id, _only([])))
    assert await _status(loyal, campaign.id) == "sending"
    with pytest.raises(CampaignNotNow):
        await loyal.run(lambda tx: campaigns.edit(tx, staff, campaign.id, parse(
            CampaignForm, {"name": "x", "channel": "email"})))
    with pytest.raises(CampaignNotNow):  # it went: kept with its results
        await loyal.run(lambda tx: campaigns.delete(tx, staff, campaign.id))
    await _sweep(loyal, datetime.now(UTC), [])
    assert await _status(loyal, campaign.id) == "sent"
    with pytest.raises(CampaignNotNow):
        await loyal.run(lambda tx: campaigns.delete(tx, staff, campaign.id))


async def test_bad_blocks_are_refused_and_text_is_escaped(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    for blocks in ([{"kind": "image", "url": "http://plain.example/a.png"}],
                   [{"kind": "button", "label": "", "url": "https://x.example"}],
                   [{"kind": "coupon"}, {"kind": "coupon"}], [{"kind": "script"}]):
        with pytest.raises(BadBlocks):
            await _campaign(loyal, staff, blocks=blocks)
    zoe = (await _people(loyal, 1))[0]
    campaign = await _campaign(loyal, staff)
    await loyal.run(lambda tx: campaign_send.send_now(tx, staff, campaign.id, _only([zoe])))
    await _sweep(loyal, datetime.now(UTC), [zoe])
    [mail] = await _mails(loyal)
    assert mail.mime is not None and "Happy hour &lt;b&gt;jeudi&lt;/b&gt;" in mail.mime
    assert "<b>jeudi" not in mail.mime


async def test_a_scheduled_campaign_goes_when_due_by_the_venues_clock(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    people = await _people(loyal, 3)
    campaign = await _campaign(loyal, staff)
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with pytest.raises(SendTimeInPast):
        await loyal.run(lambda tx: campaigns.schedule(
            tx, staff, campaign.id, datetime(2026, 12, 7, 9, 30), now))  # 08:30 UTC
    # 10 December 18:00 in Paris is 17:00 UTC.
    await loyal.run(lambda tx: campaigns.schedule(
        tx, staff, campaign.id, datetime(2026, 12, 10, 18, 0), now))
    async with loyal.db.sessionmaker() as session:
        stored = await session.get(Campaign, campaign.id)
        assert stored is not None and stored.send_at is not None
        assert stored.send_at.astimezone(UTC) == datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
    assert await _sweep(loyal, datetime(2026, 12, 10, 16, 59, tzinfo=UTC), people) == 0
    assert await _status(loyal, campaign.id) == "scheduled"
    assert await _sweep(loyal, datetime(2026, 12, 10, 17, 0, tzinfo=UTC), people) == 3
    assert await _status(loyal, campaign.id) == "sent"
    assert sorted(m.to for m in await _mails(loyal)) == sorted(
        m.to for m in await _mails(loyal))
    assert len(await _mails(loyal)) == 3


async def test_a_cancelled_campaign_never_goes_and_its_copy_is_a_draft(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    people = await _people(loyal, 2)
    campaign = await _campaign(loyal, staff)
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    await loyal.run(lambda tx: campaigns.schedule(
        tx, staff, campaign.id, datetime(2026, 12, 8, 10, 0), now))
    await loyal.run(lambda tx: campaigns.cancel(tx, staff, campaign.id))
    assert await _sweep(loyal, datetime(2026, 12, 9, tzinfo=UTC), people) == 0
    assert await _status(loyal, campaign.id) == "cancelled"
    assert await _mails(loyal) == []
    copy = await loyal.run(lambda tx: campaigns.duplicate(tx, staff, campaign.id))
    assert (copy.status, copy.subject, copy.blocks, copy.send_at) == (
        "draft", campaign.subject, campaign.blocks, None)
    assert copy.name == "Jeudi (2)"
    await loyal.run(lambda tx: campaigns.delete(tx, staff, campaign.id))
    async with loyal.db.sessionmaker() as session:
        assert await session.get(Campaign, campaign.id) is None


async def test_consent_is_respected_and_the_mail_unsubscribes(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    willing = await _people(loyal, 2)
    unwilling = await _people(loyal, 1, email_consent=False)
    campaign = await _campaign(loyal, staff)
    queued = await loyal.run(lambda tx: campaign_send.send_now(
        tx, staff, campaign.id, _only(willing + unwilling)))
    assert queued == 2
    # One withdraws before delivery: nothing goes to them.
    async with loyal.db.sessionmaker() as session, session.begin():
        await session.execute(update(LoyaltyProfile).where(
            LoyaltyProfile.consumer_id == willing[1]).values(email_consent_at=None))
    await _sweep(loyal, datetime.now(UTC), [])
    [mail] = await _mails(loyal)
    assert mail.consumer_id == willing[0]
    parsed = email.message_from_string(mail.mime or "", _class=EmailMessage, policy=default)
    link = re.search(r"https://zinc\.example/unsubscribe/(\S+)", mail.body)
    assert link is not None
    assert parsed["List-Unsubscribe"].strip() == f"<{link.group(0)}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    asked = read(SETTINGS.secret_key, link.group(1))
    await loyal.run(lambda tx: withdraw(tx, asked))
    async with loyal.db.sessionmaker() as session:
        profile = await session.get(LoyaltyProfile, willing[0])
        assert profile is not None and profile.email_consent_at is None
        result = await results_of(session, campaign.id, "email")
    assert (result.sent, result.failed, result.unsubscribed) == (1, 1, 1)


async def test_a_retried_send_queues_and_issues_once(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    people = await _people(loyal, 4)
    campaign = await _campaign(loyal, staff)
    await loyal.run(lambda tx: campaign_send.send_now(tx, staff, campaign.id, _only(people)))

    async def again() -> int | None:
        async with loyal.db.sessionmaker() as session, session.begin():
            await session.execute(update(Campaign).where(Campaign.id == campaign.id).values(
                status="scheduled", send_at=datetime.now(UTC) - timedelta(minutes=1)))
        return await loyal.run(lambda tx: campaign_send.start_due(
            tx, campaign.id, _only(people), datetime.now(UTC)))

    assert await again() == 0  # all four queued already
    # Two processes queueing at once queue each customer once.
    await asyncio.gather(*(loyal.run(lambda tx: campaign_send.queue(
        tx, campaign, people, datetime.now(UTC))) for _ in range(3)))
    moment = datetime.now(UTC)
    await asyncio.gather(*(_sweep(loyal, moment, people) for _ in range(2)))
    async with loyal.db.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(CampaignMessage))
        coupons = list(await session.scalars(select(Coupon)))
    assert count == 4
    assert sorted(c.consumer_id or 0 for c in coupons) == sorted(people)
    assert {c.key for c in coupons} == {f"campaign:{campaign.id}:{p}" for p in people}
    assert len(await _mails(loyal)) == 4
    assert all(c.expires_at.astimezone(UTC) - moment == timedelta(days=10) for c in coupons)


async def test_coupon_only_needs_no_consent_and_counts_revenue(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    people = await _people(loyal, 2, email_consent=False)
    campaign = await _campaign(loyal, staff, channel="coupon", blocks=[], subject="")
    await loyal.run(lambda tx: campaign_send.send_now(tx, staff, campaign.id, _only(people)))
    await _sweep(loyal, datetime.now(UTC), people)
    assert await _mails(loyal) == []
    used_at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    async with loyal.db.sessionmaker() as session, session.begin():
        await session.execute(update(Coupon).where(Coupon.consumer_id == people[0]).values(
            used_at=used_at, used_site_id=loyal.site_id))
        for spent, at in ((1850, used_at + timedelta(minutes=1)),
                          (999, used_at + timedelta(hours=3))):  # another visit: not counted
            await ledger.ensure_profile(session, loyal.company_id, people[0])
            session.add(PointsEntry(company_id=loyal.company_id, consumer_id=people[0],
                                    points=1, balance_after=1, kind="earn", key=key(),
                                    spent=spent, visit_at=at, site_id=loyal.site_id))
    async with loyal.db.sessionmaker() as session:
        result = await results_of(session, campaign.id, "coupon")
    assert (result.sent, result.delivered, result.coupons_used, result.revenue) == (
        2, 2, 1, 1850)


async def test_sms_messages_are_queued_for_the_dispatcher(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    mobile = await _people(loyal, 1, phone="06 12 34 56 78")
    landline = await _people(loyal, 1, phone="+33 1 42 68 53 00")
    campaign = await _campaign(loyal, staff, channel="sms", sms_text="Happy hour jeudi",
                               blocks=[])
    await loyal.run(lambda tx: campaign_send.send_now(
        tx, staff, campaign.id, _only(mobile + landline)))
    await _sweep(loyal, datetime.now(UTC), [])
    async with loyal.db.sessionmaker() as session:
        rows = (await session.execute(select(CampaignMessage.address, CampaignMessage.status)
                                      )).all()
    assert [tuple(r) for r in rows] == [("+33612345678", "queued")]
    assert await _status(loyal, campaign.id) == "sending"


async def test_a_campaign_missing_its_parts_does_not_go(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    campaign = await _campaign(loyal, staff, subject="")
    with pytest.raises(InvalidInput):
        await loyal.run(lambda tx: campaign_send.send_now(tx, staff, campaign.id, _only([])))
    assert await _status(loyal, campaign.id) == "draft"


async def test_two_processes_starting_a_due_campaign_send_it_once(loyal: Loyal) -> None:
    staff = await _manager(loyal)
    people = await _people(loyal, 3)
    campaign = await _campaign(loyal, staff)
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    await loyal.run(lambda tx: campaigns.schedule(
        tx, staff, campaign.id, datetime(2026, 12, 7, 11, 0), now))  # 10:00 UTC
    due = datetime(2026, 12, 7, 10, 0, 30, tzinfo=UTC)
    delivered = await asyncio.gather(*(_sweep(loyal, due, people) for _ in range(3)))
    assert sum(delivered) == 3, delivered
    assert len(await _mails(loyal)) == 3
    assert await _status(loyal, campaign.id) == "sent"
    async with loyal.db.sessionmaker() as session:
        stored = await session.get(Campaign, campaign.id)
        assert stored is not None and stored.sent_at is not None
        assert stored.sent_at.astimezone(UTC) == due


async def test_delivery_goes_in_bounded_batches_and_the_next_sweep_goes_on(
    loyal: Loyal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaign_send, "BATCH", 2)
    staff = await _manager(loyal)
    people = await _people(loyal, 5)
    campaign = await _campaign(loyal, staff)
    await loyal.run(lambda tx: campaign_send.send_now(tx, staff, campaign.id, _only(people)))
    moment = datetime.now(UTC)
    assert [await _sweep(loyal, moment, people) for _ in range(4)] == [2, 2, 1, 0]
    assert await _status(loyal, campaign.id) == "sent"
    async with loyal.db.sessionmaker() as session:
        result = await results_of(session, campaign.id, "email")
    assert (result.queued, result.sent, result.failed) == (0, 5, 0)


async def test_a_campaign_goes_to_its_segments_members_only_and_keeps_its_segment(
    loyal: Loyal,
) -> None:
    """The app's resolver (campaign_send.segment_members) sends to the segment's members;
    the segment cannot be deleted while the campaign is still to be sent."""
    from loyalty import segment_admin
    from loyalty.errors import SegmentInUse

    staff = await _manager(loyal)
    regular, stranger = await _people(loyal, 2)
    async with loyal.db.sessionmaker() as session, session.begin():
        session.add(PointsEntry(
            company_id=loyal.company_id, consumer_id=regular, points=5, balance_after=5,
            kind="earn", key=f"ticket:{key()}", spent=1200,
            visit_at=datetime.now(UTC) - timedelta(days=3)))
    segment = await loyal.run(lambda tx: segment_admin.add(tx, staff, "Habitués", {
        "match": "all", "criteria": [{"kind": "visits", "at_least": 1, "months": 3}]}))
    campaign = await _campaign(loyal, staff, segment_id=segment.id)
    await loyal.run(lambda tx: campaign_send.send_now(
        tx, staff, campaign.id, campaign_send.segment_members))
    async with loyal.db.sessionmaker() as session:
        sent_to = set(await session.scalars(select(CampaignMessage.consumer_id).where(
            CampaignMessage.campaign_id == campaign.id)))
    assert sent_to == {regular} and stranger not in sent_to
    with pytest.raises(SegmentInUse):  # still sending: its segment stays
        await loyal.run(lambda tx: segment_admin.delete(tx, staff, segment.id))
    await campaign_send.sweep_once(loyal.db.sessionmaker, loyal.bus, SETTINGS,
                                   campaign_send.segment_members, datetime.now(UTC))
    assert await _status(loyal, campaign.id) == "sent"
    await loyal.run(lambda tx: segment_admin.delete(tx, staff, segment.id))
