"""A campaign's results: its messages by status, who unsubscribed, the coupons used and
the revenue they brought.

- sent: messages that went (an e-mail written to the outbox, a coupon issued, an SMS
  handed to the provider), delivered ones included; delivered: e-mails the SMTP server
  accepted (their outbox mail stamped sent), SMS the provider reported delivered, and
  coupon-only messages (the coupon is in the customer's space as it is issued);
  failed: refused (consent withdrawn before delivery, reward archived, number refused).
- unsubscribed: recipients of a message that went whose consent for its channel is now
  withdrawn (consents keep no date of withdrawal: withdrawn since, as they had it then).
- coupons used: the campaign's coupons used at a till.
- revenue: for each coupon used, what the visit that used it paid: the customer's
  earning entries (loyalty ledger, kind "earn") at the site where it was used, within an
  hour of its use either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import OutboxMail
from loyalty.ledger import Kind
from loyalty.models import CampaignMessage, Coupon, LoyaltyProfile, PointsEntry

VISIT_WINDOW = timedelta(hours=1)
WENT = ("sent", "delivered")


@dataclass(frozen=True)
class Results:
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    unsubscribed: int = 0
    coupons_used: int = 0
    revenue: int = 0


async def results_of(session: AsyncSession, campaign_id: int, channel: str) -> Results:
    message = CampaignMessage
    by_status: dict[str, int] = {status: count for status, count in await session.execute(
        select(message.status, func.count()).where(message.campaign_id == campaign_id)
        .group_by(message.status))}
    went = message.status.in_(WENT)
    delivered = by_status.get("delivered", 0)
    if channel == "email":
        delivered += await session.scalar(
            select(func.count()).select_from(message)
            .join(OutboxMail, cast(OutboxMail.id, String) == message.provider_id)
            .where(message.campaign_id == campaign_id, went, message.channel == "email",
                   OutboxMail.sent_at.is_not(None))) or 0
    elif channel == "coupon":
        delivered += by_status.get("sent", 0)
    consent = (LoyaltyProfile.email_consent_at if channel == "email"
               else LoyaltyProfile.sms_consent_at)
    unsubscribed = 0
    if channel in ("email", "sms"):
        unsubscribed = await session.scalar(
            select(func.count()).select_from(message)
            .join(LoyaltyProfile, LoyaltyProfile.consumer_id == message.consumer_id)
            .where(message.campaign_id == campaign_id, went, consent.is_(None))) or 0
    used = (select(Coupon.id, Coupon.consumer_id, Coupon.used_at, Coupon.used_site_id)
            .join(message, message.coupon_id == Coupon.id)
            .where(message.campaign_id == campaign_id, Coupon.used_at.is_not(None))
            .subquery())
    coupons_used = await session.scalar(select(func.count()).select_from(used)) or 0
    revenue = 0
    if coupons_used:
        rows = (await session.execute(select(used.c.consumer_id, used.c.used_at,
                                             used.c.used_site_id))).all()
        for consumer_id, used_at, site_id in rows:
            revenue += await session.scalar(
                select(func.coalesce(func.sum(PointsEntry.spent), 0)).where(and_(
                    PointsEntry.consumer_id == consumer_id, PointsEntry.kind == Kind.EARN.value,
                    PointsEntry.site_id == site_id,
                    PointsEntry.visit_at >= used_at - VISIT_WINDOW,
                    PointsEntry.visit_at <= used_at + VISIT_WINDOW))) or 0
    return Results(queued=by_status.get("queued", 0) + by_status.get("held", 0),
                   sent=by_status.get("sent", 0) + by_status.get("delivered", 0),
                   delivered=delivered,
                   failed=by_status.get("failed", 0) + by_status.get("blocked", 0),
                   unsubscribed=unsubscribed, coupons_used=coupons_used,
                   revenue=int(revenue))
