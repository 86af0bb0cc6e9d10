"""What the till, the table and the machines ask of loyalty: find a customer, their
points and the rewards they may take, take a reward, use a coupon.

Services take a transaction and typed commands, never commit, and refuse with one error
per reason (loyalty/errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Consumer
from db.base import changed
from loyalty import ledger
from loyalty.commands import Line, Lookup, Redeem, UseCoupon
from loyalty.errors import (
    BadLookup,
    ContactNeeded,
    CouponExpired,
    CouponUsed,
    KeyReused,
    LoyaltyOff,
    NotEnoughPoints,
    RewardUnavailable,
    UnknownCoupon,
    UnknownCustomer,
)
from loyalty.ledger import Kind
from loyalty.models import Coupon, LoyaltyProfile, PointsEntry, Reward
from loyalty.programme import programme_of
from loyalty.rules import BillLine, Effect, EffectKind, OnBill, Refusal, on_bill, redeem_refusal
from realtime.events import Tx


@dataclass(frozen=True)
class OfferedReward:
    id: int
    name: str
    cost_points: int
    effect: Effect
    affordable: bool


@dataclass(frozen=True)
class OfferedCoupon:
    token: str
    reward_id: int
    reward_name: str
    expires_at: datetime


@dataclass(frozen=True)
class Customer:
    """A customer as the till or the table shows them once identified."""

    consumer_id: int
    name: str
    email: str
    phone: str | None
    qr_token: str
    balance: int
    rewards: list[OfferedReward]
    coupons: list[OfferedCoupon]  # theirs, unused and valid, the soonest to expire first


@dataclass(frozen=True)
class Applied:
    """A reward taken (with points, or by a coupon): what to apply to the ticket or bill.
    `duplicate`: a retry with the same key, which took nothing more."""

    reward_id: int
    reward_name: str
    points: int  # taken from the balance; 0 for a coupon
    balance: int
    venue_cost: int
    effect: Effect
    on_bill: OnBill
    duplicate: bool


def phone_digits(phone: str) -> str:
    """A phone number as stored and searched: its digits, and a leading + kept."""
    digits = "".join(c for c in phone if c.isdigit())
    return ("+" + digits) if phone.strip().startswith("+") else digits


def effect_of(reward: Reward) -> Effect:
    return Effect(EffectKind(reward.effect), amount=reward.amount, percent=reward.percent,
                  product_id=reward.product_id, product_name=reward.product_name)


def _lines(lines: list[Line]) -> list[BillLine]:
    return [BillLine(line.product_id, line.unit_price, line.quantity) for line in lines]


async def find(tx: Tx, company_id: int, lookup: Lookup) -> Customer:
    """The company's customer with this QR token, phone number or e-mail."""
    given = [v for v in (lookup.qr, lookup.phone, lookup.email) if v]
    if len(given) != 1:
        raise BadLookup()
    query = select(Consumer.id).where(Consumer.company_id == company_id)
    if lookup.qr:
        query = query.join(LoyaltyProfile, LoyaltyProfile.consumer_id == Consumer.id).where(
            LoyaltyProfile.qr_token == lookup.qr)
    elif lookup.phone:
        query = query.join(LoyaltyProfile, LoyaltyProfile.consumer_id == Consumer.id).where(
            LoyaltyProfile.phone == phone_digits(lookup.phone))
    else:
        query = query.where(func.lower(Consumer.email) == (lookup.email or "").strip().lower())
    consumer_id = await tx.session.scalar(query)
    if consumer_id is None:
        raise UnknownCustomer()
    return await customer(tx, company_id, consumer_id)


@dataclass(frozen=True)
class Match:
    """A customer a search found: enough to tell them apart and choose."""

    consumer_id: int
    name: str
    email: str
    phone: str | None
    balance: int


SEARCH_LIMIT = 10


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def searched(text: str) -> str:
    """A search as it is matched: spaces collapsed, at most 254 characters."""
    return " ".join(text.split())[:254]


def matching(text: str) -> ColumnElement[bool]:
    """Customers (a consumer outer-joined to their profile) whose QR token, phone number
    or e-mail is `text` (as `searched` gives it, not empty), or whose name or e-mail
    contains it."""
    digits = phone_digits(text)
    exact = [LoyaltyProfile.qr_token == text, func.lower(Consumer.email) == text.lower()]
    if len(digits.lstrip("+")) >= 6 and not any(c.isalpha() for c in text):
        exact.append(LoyaltyProfile.phone == digits)
    return or_(*exact, Consumer.name.ilike(_like(text), escape="\\"),
               Consumer.email.ilike(_like(text), escape="\\"))


async def search(tx: Tx, company_id: int, text: str) -> list[Match]:
    """The company's customers whose QR token, phone number or e-mail is `text`, or whose
    name or e-mail contains it; the first ten by name."""
    text = searched(text)
    if not text:
        return []
    rows = await tx.session.execute(
        select(Consumer.id, Consumer.name, Consumer.email, LoyaltyProfile.phone,
               LoyaltyProfile.balance)
        .outerjoin(LoyaltyProfile, LoyaltyProfile.consumer_id == Consumer.id)
        .where(Consumer.company_id == company_id, matching(text))
        .order_by(Consumer.name, Consumer.id).limit(SEARCH_LIMIT)
    )
    return [Match(cid, name, email, phone, balance or 0)
            for cid, name, email, phone, balance in rows]


async def consumer_of(session: AsyncSession, company_id: int, consumer_id: int) -> Consumer:
    consumer = await session.get(Consumer, consumer_id)
    if consumer is None or consumer.company_id != company_id:
        raise UnknownCustomer()
    return consumer


async def customer(tx: Tx, company_id: int, consumer_id: int) -> Customer:
    """A customer's points, the rewards on offer (those their balance covers first) and
    their coupons; their profile (and its QR code) is made the first time they are seen."""
    consumer = await consumer_of(tx.session, company_id, consumer_id)
    await ledger.ensure_profile(tx.session, company_id, consumer_id)
    profile = await tx.session.get(LoyaltyProfile, consumer_id, populate_existing=True)
    assert profile is not None
    rewards = await tx.session.scalars(
        select(Reward).where(Reward.company_id == company_id, Reward.active)
        .order_by(Reward.cost_points, Reward.id)
    )
    offered = [OfferedReward(r.id, r.name, r.cost_points, effect_of(r),
                             r.cost_points <= profile.balance) for r in rewards]
    offered.sort(key=lambda r: not r.affordable)
    coupons = await tx.session.execute(
        select(Coupon.token, Reward.id, Reward.name, Coupon.expires_at)
        .join(Reward, Reward.id == Coupon.reward_id)
        .where(Coupon.consumer_id == consumer_id, Coupon.used_at.is_(None),
               Coupon.expires_at > datetime.now(UTC))
        .order_by(Coupon.expires_at, Coupon.id)
    )
    return Customer(consumer.id, consumer.name, consumer.email, profile.phone,
                    profile.qr_token, profile.balance, offered,
                    [OfferedCoupon(*row) for row in coupons])


_REFUSALS = {
    Refusal.OFF: LoyaltyOff,
    Refusal.UNAVAILABLE: RewardUnavailable,
    Refusal.CONTACT_NEEDED: ContactNeeded,
    Refusal.NOT_ENOUGH_POINTS: NotEnoughPoints,
}


async def redeem(tx: Tx, company_id: int, command: Redeem, *,
                 site_id: int | None = None) -> Applied:
    """Take the reward's points from the customer's balance, once per idempotency key,
    and say what it does to the bill. `site_id`: where it was taken (the till's or the
    table's site, for the statistics), never from the client's body."""
    session = tx.session
    key = ledger.redeem_key(command.consumer_id, command.idempotency_key)
    earlier = await ledger.entry_of(session, key)
    if earlier is not None:
        if earlier.reward_id != command.reward_id or earlier.company_id != company_id \
                or await ledger.entry_of(session, ledger.given_back_key(key)) is not None:
            raise KeyReused()  # another reward's key, or one given back: a new key takes it
        reward = await session.get(Reward, command.reward_id)
        if reward is None:
            raise RewardUnavailable()
        return _applied(reward, -earlier.points, await ledger.balance_of(
            session, command.consumer_id), command, duplicate=True)
    consumer = await consumer_of(session, company_id, command.consumer_id)
    reward = await session.get(Reward, command.reward_id)
    if reward is None or reward.company_id != company_id:
        raise RewardUnavailable()
    programme = await programme_of(session, company_id)
    await ledger.ensure_profile(session, company_id, consumer.id)
    profile = await session.get(LoyaltyProfile, consumer.id, populate_existing=True)
    assert profile is not None
    refusal = redeem_refusal(
        enabled=programme.enabled, reward_active=reward.active, cost=reward.cost_points,
        balance=profile.balance, has_contact=bool(consumer.email.strip() or profile.phone),
        contactless_may_redeem=programme.contactless_may_redeem,
    )
    if refusal is not None:
        raise _REFUSALS[refusal]()
    # The balance checked above may be spent meanwhile: the ledger's conditional debit
    # decides, and refuses with NotEnoughPoints.
    posted = await ledger.post(
        tx, company_id, consumer.id, -reward.cost_points, Kind.REDEEM, key,
        reward_id=reward.id, site_id=site_id, note=reward.name,
    )
    return _applied(reward, reward.cost_points, posted.entry.balance_after, command,
                    duplicate=posted.duplicate)


async def redeemed(
    session: AsyncSession, company_id: int, consumer_id: int, idempotency_key: str
) -> PointsEntry | None:
    """The reward this customer took under this key (the till names it on the sale the
    reward was applied to), if they did and it was not given back."""
    key = ledger.redeem_key(consumer_id, idempotency_key)
    entry = await ledger.entry_of(session, key)
    if entry is None or entry.company_id != company_id or entry.kind != Kind.REDEEM:
        return None
    if await ledger.entry_of(session, ledger.given_back_key(key)) is not None:
        return None
    return entry


@dataclass(frozen=True)
class GivenBack:
    """What a give-back returned: points (to the customer who took them), or a coupon made
    usable again; nothing when there was nothing (left) to give back."""

    points: int = 0
    consumer_id: int | None = None
    coupon: bool = False

    @property
    def anything(self) -> bool:
        return bool(self.points or self.coupon)


async def give_back(
    tx: Tx, company_id: int, idempotency_key: str, consumer_id: int | None = None
) -> GivenBack:
    """Undo a reward taken under this key whose ticket or table was abandoned: the points
    of a redemption come back (a GIVEN_BACK entry keyed by the redemption's, so once
    however often it is asked), or the coupon used under the key is free again (a
    conditional update on its key: only its own use is undone). A second time: nothing."""
    session = tx.session
    if consumer_id is not None:
        key = ledger.redeem_key(consumer_id, idempotency_key)
        entry = await ledger.entry_of(session, key)
        if entry is not None and entry.company_id == company_id and entry.kind == Kind.REDEEM:
            posted = await ledger.post(
                tx, company_id, consumer_id, -entry.points, Kind.GIVEN_BACK,
                ledger.given_back_key(key), reward_id=entry.reward_id, note=entry.note,
                site_id=entry.site_id,
            )
            return GivenBack(0 if posted.duplicate else -entry.points, consumer_id)
    freed = (await session.execute(
        update(Coupon)
        .where(Coupon.company_id == company_id, Coupon.used_key == idempotency_key,
               Coupon.used_at.is_not(None))
        .values(used_at=None, used_key=None, used_site_id=None)
        .returning(Coupon.id, Coupon.consumer_id)
        .execution_options(synchronize_session=False)
    )).first()
    if freed is None:
        return GivenBack(consumer_id=consumer_id)
    return GivenBack(consumer_id=freed.consumer_id, coupon=True)


async def coupon_used(session: AsyncSession, company_id: int, idempotency_key: str) -> bool:
    """Whether a coupon of the company was used under this key (the till names it on the
    sale the coupon was applied to)."""
    found = await session.scalar(select(Coupon.id).where(
        Coupon.company_id == company_id, Coupon.used_key == idempotency_key,
        Coupon.used_at.is_not(None)).limit(1))
    return found is not None


def _applied(
    reward: Reward, points: int, balance: int, command: Redeem | UseCoupon, *, duplicate: bool
) -> Applied:
    effect = effect_of(reward)
    return Applied(reward.id, reward.name, points, balance, reward.venue_cost, effect,
                   on_bill(effect, command.total, _lines(command.lines)), duplicate)


async def use_coupon(tx: Tx, company_id: int, command: UseCoupon, *,
                     site_id: int | None = None) -> Applied:
    """Mark the coupon used by a conditional update: of two tills scanning it at once, one
    finds it unused and the other finds nothing to update. The same key again (the same
    till retrying) returns the first use. `site_id`: where (as `redeem`'s)."""
    session = tx.session
    coupon = await session.scalar(
        select(Coupon).where(Coupon.token == command.token, Coupon.company_id == company_id)
    )
    if coupon is None:
        raise UnknownCoupon()
    now = datetime.now(UTC)
    taken = changed(await session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id, Coupon.used_at.is_(None), Coupon.expires_at > now)
        .values(used_at=now, used_key=command.idempotency_key, used_site_id=site_id)
        .execution_options(synchronize_session=False)
    ))
    await session.refresh(coupon)
    if not taken:
        if coupon.used_at is not None and coupon.used_key != command.idempotency_key:
            raise CouponUsed()
        if coupon.used_at is None:
            raise CouponExpired()
    reward = await session.get(Reward, coupon.reward_id)
    assert reward is not None  # the coupon goes with its reward
    balance = await ledger.balance_of(session, coupon.consumer_id) if coupon.consumer_id else 0
    return _applied(reward, 0, balance, command, duplicate=not taken)
