"""Sending a campaign: its recipients queued once, then delivered by the campaigns' job.

Queueing writes one `CampaignMessage` per recipient who may receive the channel: an
e-mail to those whose e-mail consent is given, an SMS to those whose SMS consent is given
and whose phone is a mobile (E.164), a coupon-only campaign to every recipient (it sends
nothing: the coupon appears in their customer space). Each message's key is
"campaign:<id>:<customer>", inserted with ON CONFLICT DO NOTHING: a retried send, or two
processes queueing at once, queue one message per customer.

Who the recipients are is the caller's `Resolver`: the app passes `segment_members` (the
segment's members, or every customer with a profile for a campaign that names no segment);
a test may pass its own.

The job (`sweep_once`, app.py's "campaigns" timer) moves the scheduled campaigns that are
due to sending (a conditional update: one process does it, and queues in the same
transaction), then delivers queued e-mail and coupon messages (of sending campaigns, and
of automatic sends, loyalty/automatic.py), each in its own
transaction: its status moves from queued (a conditional update, so one process delivers
it), consent is read again, the coupon (if any) issued under the message's key, and the
mail written to the outbox in the same transaction: a crash leaves it queued, not half
sent. SMS messages stay queued for the SMS dispatcher. A campaign with nothing left
queued or held is sent.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import Company
from accounts.service import StaffIdentity
from customers import mail as outbox_mail
from customers.models import Consumer
from customers.publishing import user_changed
from db.base import changed
from domain import audit
from loyalty.campaign_mail import CouponShown, coupon_shown, message, qr_cid, render_mail
from loyalty.campaigns import Channel, Status, campaign_of, has_coupon, move, ready
from loyalty.issuing import _insert
from loyalty.models import Campaign, CampaignMessage, Coupon, LoyaltyProfile, Reward, Segment
from loyalty.recipients import reachable
from loyalty.segment_query import matching
from loyalty.segments import parse
from loyalty.unsubscribe import Channel as Consent
from loyalty.unsubscribe import headers_for, link_for
from realtime.bus import Bus
from realtime.events import Tx, run

log = logging.getLogger(__name__)
Resolver = Callable[[AsyncSession, int, dict[str, Any] | None, datetime], Awaitable[list[int]]]
CHUNK = 1000  # recipients per INSERT
BATCH = 200  # messages delivered per sweep and campaign
DELIVERED_HERE = (Channel.EMAIL.value, Channel.COUPON.value)


def key_of(campaign_id: int, consumer_id: int) -> str:
    return f"campaign:{campaign_id}:{consumer_id}"


async def whole_base(session: AsyncSession, company_id: int,
                     definition: dict[str, Any] | None, now: datetime) -> list[int]:
    """Every customer of the company with a loyalty profile (the stand-in resolver)."""
    rows = await session.scalars(
        select(LoyaltyProfile.consumer_id)
        .join(Consumer, Consumer.id == LoyaltyProfile.consumer_id)
        .where(LoyaltyProfile.company_id == company_id, Consumer.company_id == company_id)
        .order_by(LoyaltyProfile.consumer_id))
    return list(rows)


async def segment_members(session: AsyncSession, company_id: int,
                          definition: dict[str, Any] | None, now: datetime) -> list[int]:
    """The customers a segment's definition takes (loyalty/segment_query.py), "today"
    being the venue's; every customer with a profile when the campaign names no segment."""
    if definition is None:
        return await whole_base(session, company_id, None, now)
    zone = await session.scalar(select(Company.timezone).where(Company.id == company_id))
    local = now.astimezone(ZoneInfo(zone or "UTC"))
    return list(await session.scalars(matching(company_id, parse(definition), local)))


async def recipients(session: AsyncSession, campaign: Campaign, resolve: Resolver,
                     now: datetime) -> list[int]:
    """The campaign's segment's members (the whole base when it names none)."""
    definition = None
    if campaign.segment_id is not None:
        segment = await session.get(Segment, campaign.segment_id)
        definition = segment.definition if segment is not None else None
    return await resolve(session, campaign.company_id, definition, now)


async def reach(session: AsyncSession, campaign: Campaign, resolve: Resolver,
                now: datetime) -> int:
    """How many recipients the campaign would have if it went now (those allowed its
    channel), asked before sending."""
    ids = await recipients(session, campaign, resolve, now)
    return sum([len(await reachable(session, campaign, ids[start:start + CHUNK]))
                for start in range(0, len(ids), CHUNK)])


async def queue(tx: Tx, campaign: Campaign, consumer_ids: list[int], now: datetime) -> int:
    """One message per recipient allowed the channel; how many were queued now (those
    queued before, by a retry or another process, are not queued again)."""
    session, queued = tx.session, 0
    for start in range(0, len(consumer_ids), CHUNK):
        rows = await reachable(session, campaign, consumer_ids[start:start + CHUNK])
        if not rows:
            continue
        # Many parameter sets: SQLAlchemy sends them as a few multi-row INSERTs (its
        # "insertmanyvalues"), RETURNING the rows inserted, not those already there.
        result = await session.execute(
            _insert(session)(CampaignMessage)
            .on_conflict_do_nothing(index_elements=[CampaignMessage.key])
            .returning(CampaignMessage.id),
            [{"company_id": campaign.company_id, "campaign_id": campaign.id,
              "consumer_id": consumer_id, "channel": campaign.channel, "address": address,
              "key": key_of(campaign.id, consumer_id), "status": "queued",
              "created_at": now} for consumer_id, address in rows])
        queued += len(result.all())
    return queued


async def send_now(tx: Tx, staff: StaffIdentity, campaign_id: int, resolve: Resolver,
                   now: datetime | None = None) -> int:
    """The draft goes now: sending, its recipients queued; how many."""
    moment = now or datetime.now(UTC)
    campaign = await campaign_of(tx, staff.company_id, campaign_id)
    ready(campaign)
    move(campaign, Status.SENDING)
    campaign.sent_at = moment
    await tx.session.flush()
    count = await queue(tx, campaign, await recipients(tx.session, campaign, resolve, moment),
                        moment)
    await audit.record(tx, staff.id, staff.company_id, "campaign.sent",
                       f"campaign:{campaign.id}", {"recipients": count})
    return count


async def start_due(tx: Tx, campaign_id: int, resolve: Resolver, now: datetime) -> int | None:
    """A scheduled campaign whose time came: sending, its recipients queued; None when
    another process started it, or it was cancelled meanwhile."""
    claimed = await tx.session.execute(
        update(Campaign).where(Campaign.id == campaign_id,
                               Campaign.status == Status.SCHEDULED.value,
                               Campaign.send_at <= now)
        .values(status=Status.SENDING.value, sent_at=now, updated_at=now))
    if changed(claimed) != 1:
        return None
    campaign = await tx.session.get(Campaign, campaign_id, populate_existing=True)
    assert campaign is not None
    return await queue(tx, campaign, await recipients(tx.session, campaign, resolve, now), now)


async def _coupon(tx: Tx, campaign: Campaign, consumer_id: int, key: str,
                  now: datetime) -> Coupon:
    """The recipient's coupon for this message (`key`, the message's: one per campaign and
    customer, one per occasion for an automatic send), issued once whoever asks."""
    session = tx.session
    reward = await session.get(Reward, campaign.reward_id) if campaign.reward_id else None
    if reward is None or reward.company_id != campaign.company_id or not reward.active:
        raise LookupError("reward not offered")
    made = await session.scalar(
        _insert(session)(Coupon)
        .values(company_id=campaign.company_id, consumer_id=consumer_id, reward_id=reward.id,
                token=secrets.token_urlsafe(24), trigger="campaign", key=key,
                expires_at=now + timedelta(days=campaign.coupon_valid_days), created_at=now)
        .on_conflict_do_nothing(index_elements=[Coupon.key]).returning(Coupon.id))
    if made is not None:
        await user_changed(tx, consumer_id, "coupon.issued",
                           {"coupon_id": made, "reward_id": reward.id})
    coupon = await session.scalar(select(Coupon).where(Coupon.key == key))
    assert coupon is not None
    return coupon


def _links(settings: Any, consumer_id: int, company_id: int) -> tuple[str, dict[str, str]]:
    base, secret = settings.public_url, settings.secret_key
    return (link_for(base, secret, consumer_id, company_id, Consent.EMAIL),
            headers_for(base, secret, consumer_id, company_id))


async def _deliver(tx: Tx, message_id: int, settings: Any, now: datetime) -> str | None:
    """One queued message delivered (its new status), or None if another process did."""
    session = tx.session
    claimed = await session.execute(
        update(CampaignMessage).where(CampaignMessage.id == message_id,
                                      CampaignMessage.status == "queued")
        .values(status="sent", sent_at=now))
    if changed(claimed) != 1:
        return None
    row = await session.get(CampaignMessage, message_id, populate_existing=True)
    assert row is not None and row.consumer_id is not None
    campaign = await session.get(Campaign, row.campaign_id)
    profile = await session.get(LoyaltyProfile, row.consumer_id, populate_existing=True)
    assert campaign is not None
    if row.channel == Channel.EMAIL and (profile is None or profile.email_consent_at is None):
        row.status, row.error = "failed", "consent withdrawn"
        return row.status
    try:
        coupon = (await _coupon(tx, campaign, row.consumer_id, row.key, now)
                  if has_coupon(campaign) else None)
    except LookupError:
        row.status, row.error = "failed", "reward not offered"
        return row.status
    row.coupon_id = coupon.id if coupon is not None else None
    if row.channel == Channel.EMAIL:
        company = await session.get(Company, campaign.company_id)
        assert company is not None
        link, headers = _links(settings, row.consumer_id, company.id)
        shown, qr = None, None
        if coupon is not None:
            reward = await session.get(Reward, coupon.reward_id)
            cid, src = qr_cid()
            qr = (coupon.token, cid)
            shown = coupon_shown(reward.name if reward else "", coupon.token,
                                 coupon.expires_at, company.locale, company.timezone, src)
        mail = render_mail(subject=campaign.subject, blocks=campaign.blocks,
                           venue=company.name, locale=company.locale,
                           unsubscribe_url=link, coupon=shown)
        queued = outbox_mail.queue(session, row.consumer_id, row.address, mail.subject,
                                   mail.text, message(mail, headers, qr))
        await session.flush()
        row.provider_id = str(queued.id)
    await session.flush()
    return row.status


async def _finish(tx: Tx, campaign_id: int, now: datetime) -> bool:
    """Sending → sent once nothing is left queued or held."""
    left = await tx.session.scalar(
        select(func.count()).select_from(CampaignMessage).where(
            CampaignMessage.campaign_id == campaign_id,
            CampaignMessage.status.in_(["queued", "held"])))
    if left:
        return False
    done = await tx.session.execute(
        update(Campaign).where(Campaign.id == campaign_id,
                               Campaign.status == Status.SENDING.value)
        .values(status=Status.SENT.value, updated_at=now))
    return changed(done) == 1


async def sweep_once(sessionmaker: async_sessionmaker[AsyncSession], bus: Bus,
                     settings: Any, resolve: Resolver, now: datetime | None = None) -> int:
    """Start the campaigns due, deliver a batch of each sending one's messages; returns
    how many messages were delivered."""
    moment = now or datetime.now(UTC)
    async with sessionmaker() as session:
        due = list(await session.scalars(
            select(Campaign.id).where(Campaign.status == Status.SCHEDULED.value,
                                      Campaign.send_at <= moment).order_by(Campaign.id)))
    for campaign_id in due:
        await run(sessionmaker, bus, partial(start_due, campaign_id=campaign_id,
                                             resolve=resolve, now=moment))
    async with sessionmaker() as session:
        sending = list(await session.execute(
            select(Campaign.id, Campaign.automatic)
            .where(or_(Campaign.status == Status.SENDING.value, Campaign.automatic))
            .order_by(Campaign.id)))
    delivered = 0
    for campaign_id, automatic in sending:
        async with sessionmaker() as session:
            ids = list(await session.scalars(
                select(CampaignMessage.id).where(
                    CampaignMessage.campaign_id == campaign_id,
                    CampaignMessage.status == "queued",
                    CampaignMessage.channel.in_(DELIVERED_HERE))
                .order_by(CampaignMessage.id).limit(BATCH)))
        for message_id in ids:
            status = await run(sessionmaker, bus, partial(
                _deliver, message_id=message_id, settings=settings, now=moment))
            delivered += status == "sent"
        if not automatic:  # an automatic send is never done
            await run(sessionmaker, bus, partial(_finish, campaign_id=campaign_id,
                                                 now=moment))
    return delivered


async def test_send(tx: Tx, staff: StaffIdentity, campaign: Campaign, to: str,
                    settings: Any) -> int:
    """The campaign's e-mail (one of the member's company's, as the caller read it) as a
    recipient would get it, to `to` (the member's own address), with a sample coupon:
    nothing is issued, no customer's link is made."""
    assert campaign.company_id == staff.company_id
    ready(campaign)
    company = await tx.session.get(Company, staff.company_id)
    assert company is not None
    sample = await sample_coupon(tx.session, campaign, company)
    mail = render_mail(subject=campaign.subject, blocks=campaign.blocks, venue=company.name,
                       locale=company.locale, coupon=sample,
                       unsubscribe_url=f"{settings.public_url}/unsubscribe/test")
    queued = outbox_mail.queue(tx.session, None, to, mail.subject, mail.text,
                               message(mail, {}))
    await tx.session.flush()
    return queued.id


async def sample_coupon(session: AsyncSession, campaign: Campaign, company: Company
                        ) -> CouponShown | None:
    """What the coupon block shows in a preview or a test: the reward, a sample code."""
    if not has_coupon(campaign):
        return None
    reward = await session.get(Reward, campaign.reward_id) if campaign.reward_id else None
    return coupon_shown(reward.name if reward else "?", "EXEMPLE-TEST",
                        datetime.now(UTC) + timedelta(days=campaign.coupon_valid_days),
                        company.locale, company.timezone)
