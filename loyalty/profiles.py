"""A customer's loyalty profile: what they told the venue, their consents by channel with
the date given, and the points a completed profile and a referral bring, once each."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import ledger
from loyalty.commands import Profile
from loyalty.errors import PhoneTaken
from loyalty.ledger import Kind
from loyalty.models import LoyaltyProfile
from loyalty.programme import programme_of
from loyalty.service import consumer_of, phone_digits
from realtime.events import Tx


async def _profile(session: AsyncSession, company_id: int, consumer_id: int) -> LoyaltyProfile:
    await consumer_of(session, company_id, consumer_id)
    await ledger.ensure_profile(session, company_id, consumer_id)
    profile = await session.get(LoyaltyProfile, consumer_id, populate_existing=True)
    assert profile is not None
    return profile


def _consent(given: bool, since: datetime | None, now: datetime) -> datetime | None:
    """A consent keeps the date it was first given; withdrawn, it is gone."""
    return (since or now) if given else None


async def save(tx: Tx, company_id: int, consumer_id: int, command: Profile) -> LoyaltyProfile:
    """Keep what the customer told; a profile complete for the first time earns the
    company's points for it (once: its key is the customer's)."""
    profile = await _profile(tx.session, company_id, consumer_id)
    now = datetime.now(UTC)
    phone = (phone_digits(command.phone) or None) if command.phone else None
    if phone is not None and await tx.session.scalar(select(LoyaltyProfile.consumer_id).where(
        LoyaltyProfile.company_id == company_id, LoyaltyProfile.phone == phone,
        LoyaltyProfile.consumer_id != consumer_id,
    )) is not None:
        raise PhoneTaken()  # else the unique constraint refuses it, as a concurrent save does
    profile.phone = phone
    profile.birthday = command.birthday
    profile.postcode = (command.postcode or "").strip() or None
    profile.email_consent_at = _consent(command.email_consent, profile.email_consent_at, now)
    profile.sms_consent_at = _consent(command.sms_consent, profile.sms_consent_at, now)
    await tx.session.flush()
    programme = await programme_of(tx.session, company_id)
    complete = profile.phone and profile.birthday and profile.postcode
    if programme.enabled and programme.profile_points and complete:
        await ledger.post(tx, company_id, consumer_id, programme.profile_points,
                          Kind.PROFILE, ledger.profile_key(consumer_id))
        await tx.session.refresh(profile)
    return profile


async def refer(tx: Tx, company_id: int, referrer_id: int, referred_id: int) -> None:
    """The new customer came on the referrer's word: both earn the company's points, once
    (a customer is referred once, by the first who claims them)."""
    if referrer_id == referred_id:
        return
    await _profile(tx.session, company_id, referrer_id)
    referred = await _profile(tx.session, company_id, referred_id)
    if referred.referred_by is not None:
        return
    referred.referred_by = referrer_id
    programme = await programme_of(tx.session, company_id)
    if not programme.enabled:
        return
    if programme.referred_points:
        await ledger.post(tx, company_id, referred_id, programme.referred_points,
                          Kind.REFERRAL, ledger.referred_key(referred_id))
    if programme.referrer_points:
        await ledger.post(tx, company_id, referrer_id, programme.referrer_points,
                          Kind.REFERRAL, ledger.referral_key(referrer_id, referred_id))
