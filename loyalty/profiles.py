"""A customer's loyalty profile: what they told the venue, their consents by channel with
the date given, and the points a completed profile and a referral bring, once each.

The venue chooses the fields it asks (`LoyaltyRules.ask_*`); a profile is complete when
every asked field is filled, and a venue that asks none has no profile to complete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import ledger
from loyalty.commands import Profile
from loyalty.errors import PhoneTaken
from loyalty.ledger import Kind
from loyalty.models import LoyaltyProfile, LoyaltyRules, PointsEntry
from loyalty.programme import programme_of
from loyalty.service import consumer_of, phone_digits
from realtime.events import Tx


@dataclass(frozen=True)
class Asked:
    """The fields a venue asks its customers for (the e-mail is always asked)."""

    phone: bool = True
    birthday: bool = True
    postcode: bool = False

    @property
    def any(self) -> bool:
        return self.phone or self.birthday or self.postcode

    def complete(self, profile: LoyaltyProfile) -> bool:
        return self.any and all((
            profile.phone or not self.phone,
            profile.birthday or not self.birthday,
            profile.postcode or not self.postcode,
        ))


async def asked_of(session: AsyncSession, company_id: int) -> Asked:
    """What the company asks; one that never set its rules asks the columns' defaults."""
    rules = await session.get(LoyaltyRules, company_id)
    if rules is None:
        return Asked()
    return Asked(rules.ask_phone, rules.ask_birthday, rules.ask_postcode)


async def points_to_come(session: AsyncSession, company_id: int, consumer_id: int) -> int:
    """What completing the profile would still earn: the company's points for it, or 0 once
    earned (or with the programme off, or nothing asked)."""
    programme = await programme_of(session, company_id)
    if not (programme.enabled and programme.profile_points
            and (await asked_of(session, company_id)).any):
        return 0
    earned = await session.scalar(select(PointsEntry.id).where(
        PointsEntry.key == ledger.profile_key(consumer_id)))
    return 0 if earned is not None else programme.profile_points


async def _profile(session: AsyncSession, company_id: int, consumer_id: int) -> LoyaltyProfile:
    await consumer_of(session, company_id, consumer_id)
    await ledger.ensure_profile(session, company_id, consumer_id)
    profile = await session.get(LoyaltyProfile, consumer_id, populate_existing=True)
    assert profile is not None
    return profile


def _consent(given: bool, since: datetime | None, now: datetime) -> datetime | None:
    """A consent keeps the date it was first given; withdrawn, it is gone."""
    return (since or now) if given else None


async def save(tx: Tx, company_id: int, consumer_id: int, command: Profile,
               asked: Asked | None = None) -> LoyaltyProfile:
    """Keep what the customer told of the fields the venue asks (the others stay as they
    are), and their consents; a profile complete for the first time earns the company's
    points for it (once: its key is the customer's)."""
    profile = await _profile(tx.session, company_id, consumer_id)
    asked = asked or await asked_of(tx.session, company_id)
    now = datetime.now(UTC)
    if asked.phone:
        phone = (phone_digits(command.phone) or None) if command.phone else None
        if phone is not None and await tx.session.scalar(
            select(LoyaltyProfile.consumer_id).where(
                LoyaltyProfile.company_id == company_id, LoyaltyProfile.phone == phone,
                LoyaltyProfile.consumer_id != consumer_id)) is not None:
            raise PhoneTaken()  # else the unique constraint refuses it, as a concurrent save does
        profile.phone = phone
    if asked.birthday:
        profile.birthday = command.birthday
    if asked.postcode:
        profile.postcode = command.postcode
    profile.email_consent_at = _consent(command.email_consent, profile.email_consent_at, now)
    profile.sms_consent_at = _consent(command.sms_consent, profile.sms_consent_at, now)
    await tx.session.flush()
    programme = await programme_of(tx.session, company_id)
    if programme.enabled and programme.profile_points and asked.complete(profile):
        await ledger.post(tx, company_id, consumer_id, programme.profile_points,
                          Kind.PROFILE, ledger.profile_key(consumer_id))
        await tx.session.refresh(profile)
    return profile


async def phone_free(session: AsyncSession, company_id: int, phone: str | None) -> bool:
    """No customer of the company gave this phone number yet."""
    digits = phone_digits(phone) if phone else ""
    return not digits or await session.scalar(select(LoyaltyProfile.consumer_id).where(
        LoyaltyProfile.company_id == company_id, LoyaltyProfile.phone == digits)) is None


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
