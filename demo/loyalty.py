"""The demo venue's loyalty programme: its rules, three rewards, two coupon triggers, an
automatic e-mail to customers away for a month, SMS sending through the provider that only
records (sender "CafeGare"), and the demo consumers' loyalty profiles with a few visits
behind them, so that the back office's loyalty and campaign pages, the till's customer
panel and the customer's space show something from the first start. Seeded by `comptoir
demo` and `comptoir seed` only: the tests' demo venue stays without a programme unless a
test sets one up."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site
from customers.models import Consumer
from loyalty.ledger import Kind, ticket_key
from loyalty.models import (
    Campaign,
    CouponTrigger,
    LoyaltyProfile,
    LoyaltyRules,
    PointsEntry,
    Reward,
    SmsSettings,
)
from ordering.models import Category, Product

# (days ago, amount spent in cents) of each demo consumer's past visits.
VISITS = [(30, 4200), (21, 3100), (12, 1250), (9, 860), (5, 2340), (2, 640)]


async def seed_loyalty(session: AsyncSession, site_id: int) -> None:
    """Once: a company that has its rules already is left as it is."""
    company_id = await session.scalar(select(Site.company_id).where(Site.id == site_id))
    assert company_id is not None, "the demo venue is seeded first"
    if await session.get(LoyaltyRules, company_id) is not None:
        return
    session.add(LoyaltyRules(
        company_id=company_id, enabled=True, points_per_visit=5, points_per_unit=1,
        cap_per_visit=100, min_delay_minutes=60, profile_points=20, referrer_points=30,
        referred_points=10, ask_phone=True, ask_birthday=True, ask_postcode=False,
    ))
    espresso = await session.scalar(
        select(Product).join(Category, Category.id == Product.category_id)
        .where(Category.site_id == site_id, Product.name == "Espresso"))
    rewards = [
        Reward(company_id=company_id, name="Espresso offert", cost_points=50, venue_cost=40,
               effect="free_product", product_id=espresso.id if espresso else None,
               product_name="Espresso"),
        Reward(company_id=company_id, name="5 € de remise", cost_points=120, venue_cost=500,
               effect="amount_off", amount=500),
        Reward(company_id=company_id, name="10 % sur l'addition", cost_points=200,
               venue_cost=300, effect="percent_off", percent=10),
    ]
    if espresso is None:
        rewards = rewards[1:]
    session.add_all(rewards)
    await session.flush()
    session.add_all([
        CouponTrigger(company_id=company_id, kind="visits", every=10, reward_id=rewards[0].id,
                      valid_days=30),
        CouponTrigger(company_id=company_id, kind="birthday", every=7,
                      reward_id=rewards[-1].id, valid_days=14),
    ])
    session.add(Campaign(
        company_id=company_id, name="Vous nous manquez", channel="email", automatic=True,
        trigger_kind="absence", trigger_every=30, active=True,
        subject="Cela fait un moment ! Un café vous attend",
        blocks=[{"kind": "logo", "url": ""},
                {"kind": "title", "text": "Vous nous manquez"},
                {"kind": "text", "text": "Revenez nous voir cette semaine : 5 € offerts sur "
                                         "votre prochaine addition."},
                {"kind": "coupon"}],
        reward_id=rewards[-2].id, coupon_valid_days=14))
    session.add(SmsSettings(company_id=company_id, provider="recording", sender="CafeGare"))
    now = datetime.now(UTC)
    consumers = (await session.scalars(
        select(Consumer).where(Consumer.company_id == company_id).order_by(Consumer.id))).all()
    for consumer in consumers:
        balance = 0
        profile = LoyaltyProfile(consumer_id=consumer.id, company_id=company_id,
                                 qr_token=secrets.token_urlsafe(24), balance=0,
                                 email_consent_at=now - timedelta(days=30))
        session.add(profile)
        await session.flush()
        for days_ago, spent in VISITS:
            points = min(5 + spent // 100, 100)
            balance += points
            at = now - timedelta(days=days_ago, hours=2 + 3 * (days_ago % 4))
            session.add(PointsEntry(
                company_id=company_id, consumer_id=consumer.id, points=points,
                balance_after=balance, kind=Kind.EARN.value,
                key=ticket_key(f"demo-{consumer.id}-{days_ago}"),
                origin=f"demo:{consumer.id}:{days_ago}", spent=spent, visit_at=at,
                site_id=site_id, created_at=at))
        profile.balance = balance
    await session.flush()
