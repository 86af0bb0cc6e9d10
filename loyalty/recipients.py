"""Who may receive a campaign's channel: an e-mail needs the customer's e-mail consent and
address, an SMS their SMS consent and a mobile number (E.164); a coupon-only campaign
reaches every customer. Used when a campaign is sent (loyalty/campaign_send.py) and when
an automatic send's occasion comes (loyalty/automatic.py)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from customers.models import Consumer
from loyalty.campaigns import Channel
from loyalty.models import Campaign, LoyaltyProfile
from loyalty.sms_errors import BadPhoneNumber
from loyalty.sms_numbers import e164


def eligible(channel: str) -> ColumnElement[bool] | None:
    """Who may receive the channel, as SQL on LoyaltyProfile and Consumer (`reachable`
    checks in Python that a phone is a mobile); None: everyone."""
    if channel == Channel.EMAIL:
        return LoyaltyProfile.email_consent_at.is_not(None) & (Consumer.email != "")
    if channel == Channel.SMS:
        return LoyaltyProfile.sms_consent_at.is_not(None) & LoyaltyProfile.phone.is_not(None)
    return None


async def reachable(session: AsyncSession, campaign: Campaign, ids: list[int]
                ) -> list[tuple[int, str]]:
    """(customer, address) of those of `ids` who may receive the campaign's channel."""
    profile, consumer = LoyaltyProfile, Consumer
    query = (select(profile.consumer_id, consumer.email, profile.phone)
             .join(consumer, consumer.id == profile.consumer_id)
             .where(profile.company_id == campaign.company_id,
                    consumer.company_id == campaign.company_id,
                    # As literals: a thousand bound parameters cost more to prepare.
                    profile.consumer_id.in_(bindparam("ids", ids, expanding=True,
                                                      literal_execute=True))))
    allowed = eligible(campaign.channel)
    if allowed is not None:
        query = query.where(allowed)
    found = []
    for consumer_id, email, phone in await session.execute(query):
        if campaign.channel == Channel.EMAIL:
            found.append((consumer_id, email))
        elif campaign.channel == Channel.SMS:
            try:
                found.append((consumer_id, e164(phone or "")))
            except BadPhoneNumber:
                continue  # a landline or a garbled number takes no SMS
        else:
            found.append((consumer_id, ""))
    return found
