"""A customer's profile: only the fields the venue asks are kept, bad ones are refused with
their message and change nothing, a phone number is one customer's, consents keep the date
they were given until withdrawn, and a profile complete with every asked field earns its
points once. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update

from errors import DomainError
from loyalty import profiles
from loyalty.commands import Profile
from loyalty.errors import BadBirthday, BadPhone, BadPostcode, PhoneTaken
from loyalty.models import LoyaltyProfile, LoyaltyRules
from tests.loyalty.conftest import Loyal
from web.commands import parse


async def _ask(loyal: Loyal, **asked: bool) -> None:
    async with loyal.db.sessionmaker() as session, session.begin():
        await session.execute(update(LoyaltyRules).where(
            LoyaltyRules.company_id == loyal.company_id).values(**asked))


async def _save(loyal: Loyal, consumer_id: int, **told: object) -> LoyaltyProfile:
    command = parse(Profile, told, form=True)
    return await loyal.run(lambda tx: profiles.save(tx, loyal.company_id, consumer_id, command))


async def _profile(loyal: Loyal, consumer_id: int) -> LoyaltyProfile:
    async with loyal.db.sessionmaker() as session:
        found = await session.get(LoyaltyProfile, consumer_id)
        assert found is not None
        return found


async def test_only_the_fields_the_venue_asks_are_kept(loyal: Loyal) -> None:
    await loyal.rules()
    await _ask(loyal, ask_phone=True, ask_birthday=False, ask_postcode=True)
    zoe = await loyal.customer()
    await _save(loyal, zoe, phone="06 12 34 56 78", birthday="1990-04-02", postcode="75011")
    kept = await _profile(loyal, zoe)
    assert (kept.phone, kept.birthday, kept.postcode) == ("0612345678", None, "75011")
    # The venue stops asking the postcode: a save leaves it as it was.
    await _ask(loyal, ask_postcode=False, ask_birthday=True)
    await _save(loyal, zoe, phone="", birthday="1990-04-02", postcode="")
    kept = await _profile(loyal, zoe)
    assert (kept.phone, kept.birthday, kept.postcode) == (None, date(1990, 4, 2), "75011")


@pytest.mark.parametrize(("field", "value", "error"), [
    ("phone", "06 12 AB 56 78", BadPhone), ("phone", "12345", BadPhone),
    ("phone", "+33 6 12 34 56 78 90 12 34", BadPhone),
    ("birthday", "2999-01-01", BadBirthday), ("birthday", "02/04/1990", BadBirthday),
    ("birthday", "1850-01-01", BadBirthday),
    ("postcode", "7", BadPostcode), ("postcode", "75011<b>", BadPostcode),
])
async def test_a_bad_field_is_refused_with_its_message_and_changes_nothing(
    loyal: Loyal, field: str, value: str, error: type[DomainError]
) -> None:
    await loyal.rules()
    await _ask(loyal, ask_postcode=True)
    zoe = await loyal.customer()
    await _save(loyal, zoe, phone="0612345678", birthday="1990-04-02", postcode="75011")
    with pytest.raises(error) as refused:
        await _save(loyal, zoe, **{"phone": "0700000000", "birthday": "1991-01-01",
                                   "postcode": "69001", field: value})
    assert refused.value.field == field and refused.value.message
    kept = await _profile(loyal, zoe)
    assert (kept.phone, kept.birthday, kept.postcode) == (
        "0612345678", date(1990, 4, 2), "75011")


async def test_a_phone_number_taken_by_another_customer_is_refused(loyal: Loyal) -> None:
    zoe, max_ = await loyal.customer(), await loyal.customer("Max")
    await _save(loyal, zoe, phone="06 12 34 56 78")
    await _save(loyal, max_, phone="0700000000", birthday="1985-05-05")
    with pytest.raises(PhoneTaken):
        await _save(loyal, max_, phone="06-12-34-56-78", birthday="1999-09-09")
    kept = await _profile(loyal, max_)
    assert (kept.phone, kept.birthday) == ("0700000000", date(1985, 5, 5))
    # Another company's customer may give the same number.
    other = await loyal.other_company()
    stranger = await loyal.customer(company_id=other)
    command = parse(Profile, {"phone": "06 12 34 56 78"})
    saved = await loyal.run(lambda tx: profiles.save(tx, other, stranger, command))
    assert saved.phone == "0612345678"


async def test_a_consent_keeps_its_date_until_withdrawn(loyal: Loyal) -> None:
    zoe = await loyal.customer()
    first = await _save(loyal, zoe, email_consent="on")
    given = first.email_consent_at
    assert given is not None and first.sms_consent_at is None
    again = await _save(loyal, zoe, email_consent="on", sms_consent="on")
    assert again.email_consent_at == given and again.sms_consent_at is not None
    withdrawn = await _save(loyal, zoe, sms_consent="on")
    assert withdrawn.email_consent_at is None and withdrawn.sms_consent_at is not None
    later = await _save(loyal, zoe, email_consent="on", sms_consent="on")
    assert later.email_consent_at is not None and later.email_consent_at > given


async def test_a_profile_complete_with_every_asked_field_earns_once(loyal: Loyal) -> None:
    await loyal.rules(profile_points=50)
    await _ask(loyal, ask_phone=True, ask_birthday=True, ask_postcode=True)
    zoe = await loyal.customer()
    async with loyal.db.sessionmaker() as session:
        assert await profiles.points_to_come(session, loyal.company_id, zoe) == 50
    await _save(loyal, zoe, phone="0612345678", birthday="1990-04-02")  # no postcode yet
    assert await loyal.entries(zoe) == []
    await _save(loyal, zoe, phone="0612345678", birthday="1990-04-02", postcode="75011")
    await _save(loyal, zoe, phone="0612345678", birthday="1990-04-02", postcode="75011")
    await _save(loyal, zoe, phone="", birthday="1990-04-02", postcode="75011")
    await _save(loyal, zoe, phone="0612345678", birthday="1990-04-02", postcode="75011")
    assert await loyal.entries(zoe) == [("profile", 50)]
    assert await loyal.balance(zoe) == 50
    async with loyal.db.sessionmaker() as session:
        assert await profiles.points_to_come(session, loyal.company_id, zoe) == 0


async def test_a_venue_that_asks_nothing_gives_no_profile_points(loyal: Loyal) -> None:
    await loyal.rules(profile_points=50)
    await _ask(loyal, ask_phone=False, ask_birthday=False, ask_postcode=False)
    zoe = await loyal.customer()
    await _save(loyal, zoe, email_consent="on")
    assert await loyal.entries(zoe) == []
    async with loyal.db.sessionmaker() as session:
        assert await profiles.points_to_come(session, loyal.company_id, zoe) == 0
