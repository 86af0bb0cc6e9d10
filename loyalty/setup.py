"""Setting a company's loyalty up: its rules, its rewards and the coupons it gives.

The back office's pages (to come) call these; the tests set venues up with them too.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from loyalty.commands import AddReward, SetRules
from loyalty.errors import RewardUnavailable
from loyalty.models import Coupon, LoyaltyRules, Reward
from loyalty.rules import EffectKind
from realtime.events import Tx


async def set_rules(tx: Tx, company_id: int, command: SetRules) -> LoyaltyRules:
    rules = await tx.session.get(LoyaltyRules, company_id)
    if rules is None:
        rules = LoyaltyRules(company_id=company_id)
        tx.session.add(rules)
    for name, value in command.model_dump().items():
        setattr(rules, name, value)
    await tx.session.flush()
    return rules


async def add_reward(tx: Tx, company_id: int, command: AddReward) -> Reward:
    """A reward; only the field its effect uses is kept (the others are zero)."""
    effect = EffectKind(command.effect)
    reward = Reward(
        company_id=company_id, name=command.name.strip(), cost_points=command.cost_points,
        venue_cost=command.venue_cost, effect=effect.value,
        amount=command.amount if effect is EffectKind.AMOUNT_OFF else 0,
        percent=command.percent if effect is EffectKind.PERCENT_OFF else 0,
        product_id=command.product_id if effect is EffectKind.FREE_PRODUCT else None,
        product_name=command.product_name if effect is EffectKind.FREE_PRODUCT else "",
    )
    tx.session.add(reward)
    await tx.session.flush()  # the table's checks refuse an effect without its value
    return reward


async def issue_coupon(
    tx: Tx, company_id: int, reward_id: int, expires_at: datetime, *,
    consumer_id: int | None = None, trigger: str = "campaign",
) -> Coupon:
    reward = await tx.session.get(Reward, reward_id)
    if reward is None or reward.company_id != company_id:
        raise RewardUnavailable()
    coupon = Coupon(company_id=company_id, consumer_id=consumer_id, reward_id=reward_id,
                    token=secrets.token_urlsafe(24), trigger=trigger, expires_at=expires_at)
    tx.session.add(coupon)
    await tx.session.flush()
    return coupon
