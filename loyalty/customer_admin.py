"""The managers' customers (`Permission.CUSTOMERS`): the searched list a page at a time, a
customer added, edited or deleted with their history in this company, and points added or
taken by hand with a reason. Every change is written to the audit log.

A customer is the customers/ account (`Consumer`, one per e-mail in the company, as an
invitation makes it: approved, without a password until they choose one through a reset
link) and their loyalty profile (loyalty/profiles.py). Deleting one removes the account,
its profile, points and coupons; the till's tickets keep the customer's number (legal
records are never changed), a table's session and its rewards lose the link (SET NULL).
An account that still holds credit is not deleted, as on the people pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import owned
from customers.commands import Email
from customers.errors import BadEmail
from customers.models import Consumer
from customers.people_admin import ConsumerName, CreditRemains
from customers.views import balance_of as credit_of
from domain import audit
from errors import N_, Conflict, InvalidInput
from loyalty import ledger, profiles
from loyalty.commands import Profile
from loyalty.errors import UnknownCustomer
from loyalty.ledger import Kind
from loyalty.models import Coupon, LoyaltyProfile, PointsEntry
from loyalty.service import matching, phone_digits, searched
from realtime.events import Tx
from web import session_store
from web.commands import ClientKey, Collapsed, Command, Flag, Id, Integer, Invalid, Money

# A manager keeps every field of a customer's profile, whichever the venue asks at sign-up.
EVERY_FIELD = profiles.Asked(phone=True, birthday=True, postcode=True)

PAGE_SIZE = 20


class EmailTaken(Conflict):
    """Another customer of this company has this e-mail."""

    code = "email_taken"
    status = 422
    field = "email"
    message = N_("Another customer already uses this e-mail.")


class BadPhone(InvalidInput):
    code = "bad_phone"
    message = N_("Give a phone number of 6 to 15 digits, or none.")


class BadBirthday(InvalidInput):
    code = "bad_birthday"
    message = N_("Give a date of birth in the past, such as 1990-04-25, or none.")


class BadPostcode(InvalidInput):
    code = "bad_postcode"
    message = N_("Give a postcode of at most 12 letters and digits, or none.")


class BadPoints(InvalidInput):
    code = "bad_points"
    message = N_("Give a number of points from 1 to 100000.")


class BadReason(InvalidInput):
    code = "bad_reason"
    message = N_("Say why, in 3 to 200 characters.")


class BadSite(InvalidInput):
    code = "bad_site"
    message = N_("Choose one of your sites.")


def _blank_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _phone(value: str) -> str:
    if value and (any(c not in "+0123456789 .-()/" for c in value)
                  or not 6 <= len(phone_digits(value).lstrip("+")) <= 15):
        raise ValueError(value)
    return phone_digits(value) if value else ""


def _past(value: date | None) -> date | None:
    if value is not None and not date(1900, 1, 1) <= value <= datetime.now(UTC).date():
        raise ValueError(value)
    return value


def _postcode(value: str) -> str:
    if any(not (c.isalnum() or c in " -") for c in value):
        raise ValueError(value)
    return value


class CustomerForm(Command):
    """A customer as a manager adds or edits them; consents by channel (ticked: given).
    The phone number is kept as its digits (a leading + kept)."""

    name: ConsumerName
    email: Annotated[Email, Invalid(BadEmail)]
    phone: Annotated[Collapsed, Field(max_length=32), AfterValidator(_phone),
                     Invalid(BadPhone)] = ""
    birthday: Annotated[date | None, BeforeValidator(_blank_none), AfterValidator(_past),
                        Invalid(BadBirthday)] = None
    postcode: Annotated[Collapsed, Field(max_length=12), AfterValidator(_postcode),
                        Invalid(BadPostcode)] = ""
    email_consent: Flag = False
    sms_consent: Flag = False


class HandEntry(Command):
    """A visit (points given, and what it spent) or a redemption (points taken) added by
    hand, with its reason; the form's key makes a second send of it count once."""

    kind: Literal["visit", "redeem"]
    points: Annotated[Integer, Field(ge=1, le=100_000), Invalid(BadPoints)]
    reason: Annotated[Collapsed, Field(min_length=3, max_length=200), Invalid(BadReason)]
    spent: Money | None = None
    site: Annotated[Id | None, BeforeValidator(_blank_none), Invalid(BadSite)] = None
    idempotency_key: ClientKey


@dataclass(frozen=True)
class Row:
    """A customer in the list."""

    id: int
    name: str
    email: str
    phone: str | None
    balance: int


@dataclass(frozen=True)
class CustomersPage:
    rows: Sequence[Row]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class Removal:
    """What deleting a customer takes away, told before it happens."""

    entries: int
    balance: int
    coupons: int
    credit: int  # money on the account: while any remains, it is not deleted


def viewer(staff: StaffIdentity) -> None:
    staff.require(Permission.CUSTOMERS)


async def listing(session: AsyncSession, staff: StaffIdentity, text: str = "",
                  page: int = 1) -> CustomersPage:
    """The company's customers matching `text` (as the till's search: QR token, phone or
    e-mail exactly, name or e-mail in part), by name, a page at a time."""
    viewer(staff)
    query = (select(Consumer.id, Consumer.name, Consumer.email, LoyaltyProfile.phone,
                    LoyaltyProfile.balance)
             .outerjoin(LoyaltyProfile, LoyaltyProfile.consumer_id == Consumer.id)
             .where(Consumer.company_id == staff.company_id))
    text = searched(text)
    if text:
        query = query.where(matching(text))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = await session.execute(query.order_by(Consumer.name, Consumer.id)
                                 .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return CustomersPage([Row(i, n, e, p, b or 0) for i, n, e, p, b in rows], total, page,
                         pages)


async def customer_of(session: AsyncSession, staff: StaffIdentity,
                      consumer_id: object) -> Consumer:
    """A customer of the member's company (another company's answers as missing)."""
    found = await owned(session, staff, Consumer, consumer_id, UnknownCustomer)
    viewer(staff)
    return found


async def profile_of(tx: Tx, staff: StaffIdentity, consumer: Consumer) -> LoyaltyProfile:
    await ledger.ensure_profile(tx.session, staff.company_id, consumer.id)
    profile = await tx.session.get(LoyaltyProfile, consumer.id, populate_existing=True)
    assert profile is not None
    return profile


async def _email_free(session: AsyncSession, company_id: int, email: str,
                      but: int | None = None) -> None:
    query = select(Consumer.id).where(Consumer.company_id == company_id,
                                      func.lower(Consumer.email) == email.lower())
    if but is not None:
        query = query.where(Consumer.id != but)
    if await session.scalar(query) is not None:
        raise EmailTaken()


def _profile(given: CustomerForm) -> Profile:
    return Profile(phone=given.phone or None, birthday=given.birthday, postcode=given.postcode,
                   email_consent=given.email_consent, sms_consent=given.sms_consent)


def _told(consumer: Consumer, profile: LoyaltyProfile) -> dict[str, Any]:
    return {"name": consumer.name, "email": consumer.email, "phone": profile.phone,
            "birthday": profile.birthday.isoformat() if profile.birthday else None,
            "postcode": profile.postcode, "email_consent": profile.email_consent_at is not None,
            "sms_consent": profile.sms_consent_at is not None}


async def add(tx: Tx, staff: StaffIdentity, given: CustomerForm) -> Consumer:
    """A new customer: their account (approved, no password yet) and their profile. An
    e-mail or a phone number another customer has is refused, by its field."""
    viewer(staff)
    await _email_free(tx.session, staff.company_id, given.email)
    consumer = Consumer(company_id=staff.company_id, email=given.email, name=given.name,
                        password_hash="", verified=True, role="consumer")
    tx.session.add(consumer)
    await tx.session.flush()  # (company, email) is unique: a concurrent twin fails here
    profile = await profiles.save(tx, staff.company_id, consumer.id, _profile(given), EVERY_FIELD)
    await audit.record(tx, staff.id, staff.company_id, "customer.add",
                       f"consumer:{consumer.id}", _told(consumer, profile))
    return consumer


async def edit(tx: Tx, staff: StaffIdentity, consumer_id: int, given: CustomerForm) -> None:
    """A customer's name, e-mail, what they told and their consents."""
    consumer = await customer_of(tx.session, staff, consumer_id)
    before = _told(consumer, await profile_of(tx, staff, consumer))
    await _email_free(tx.session, staff.company_id, given.email, but=consumer.id)
    if consumer.email != given.email:
        consumer.email_confirmed = False  # the new address has not answered yet
    consumer.name, consumer.email = given.name, given.email
    await tx.session.flush()
    profile = await profiles.save(tx, staff.company_id, consumer.id, _profile(given), EVERY_FIELD)
    changes = audit.diff(before, _told(consumer, profile))
    if changes:
        await audit.record(tx, staff.id, staff.company_id, "customer.edit",
                           f"consumer:{consumer.id}", changes)


async def removal(session: AsyncSession, consumer: Consumer) -> Removal:
    entries = await session.scalar(select(func.count()).select_from(PointsEntry).where(
        PointsEntry.consumer_id == consumer.id)) or 0
    coupons = await session.scalar(select(func.count()).select_from(Coupon).where(
        Coupon.consumer_id == consumer.id)) or 0
    return Removal(entries, await ledger.balance_of(session, consumer.id), coupons,
                   await credit_of(session, consumer.id))


async def remove(tx: Tx, staff: StaffIdentity, consumer_id: int) -> None:
    """Delete the customer and their history here (refused while credit remains), ending
    their sessions."""
    consumer = await customer_of(tx.session, staff, consumer_id)
    what = await removal(tx.session, consumer)
    if what.credit > 0:
        raise CreditRemains()
    await session_store.end_all_of(tx, consumer_id=consumer.id)
    await audit.record(tx, staff.id, staff.company_id, "customer.delete",
                       f"consumer:{consumer.id}",
                       {"name": consumer.name, "email": consumer.email,
                        "entries": what.entries, "points": what.balance,
                        "coupons": what.coupons})
    session = tx.session
    for table in (PointsEntry, Coupon, LoyaltyProfile):
        await session.execute(delete(table).where(table.consumer_id == consumer.id)
                              .execution_options(synchronize_session=False))
    await session.delete(consumer)
    await session.flush()


def hand_key(consumer_id: int, idempotency_key: str) -> str:
    return f"hand:{consumer_id}:{idempotency_key}"


async def by_hand(tx: Tx, staff: StaffIdentity, consumer_id: int,
                  given: HandEntry) -> ledger.Posted:
    """Points given for a visit or taken for a redemption, with the reason; once per form
    sent (its key), never below zero (the ledger refuses: NotEnoughPoints)."""
    consumer = await customer_of(tx.session, staff, consumer_id)
    site_id = given.site
    if site_id is not None:
        site = await tx.session.get(Site, site_id)
        if site is None or site.company_id != staff.company_id or not staff.may_use(site_id):
            raise Invalid(BadSite)("site")
    elif staff.sites is not None:
        raise Invalid(BadSite)("site")  # a member of some sites says which
    visit = given.kind == "visit"
    posted = await ledger.post(
        tx, staff.company_id, consumer.id, given.points if visit else -given.points,
        Kind.BY_HAND, hand_key(consumer.id, given.idempotency_key),
        spent=(given.spent or 0) if visit else 0,
        visit_at=datetime.now(UTC) if visit else None, site_id=site_id, note=given.reason)
    if not posted.duplicate:
        await audit.record(tx, staff.id, staff.company_id,
                           "customer.visit" if visit else "customer.redeem",
                           f"consumer:{consumer.id}",
                           {"points": posted.entry.points, "reason": given.reason,
                            "spent": posted.entry.spent, "site_id": site_id})
    return posted
