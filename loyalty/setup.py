"""Setting a company's loyalty up: its rules, its rewards and the coupons it gives.

The back office's pages call these (backoffice/loyalty_pages.py, reward_pages.py); the
tests set venues up with them too. A reward is never deleted: points entries, coupons and
triggers name it, and the statistics count it at its cost; archived, it is offered nowhere.
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


def _fill(reward: Reward, command: AddReward) -> None:
    """Only the field the reward's effect uses is kept (the others are zero)."""
    effect = EffectKind(command.effect)
    reward.name = command.name.strip()
    reward.cost_points = command.cost_points
    reward.venue_cost = command.venue_cost
    reward.effect = effect.value
    reward.amount = command.amount if effect is EffectKind.AMOUNT_OFF else 0
    reward.percent = command.percent if effect is EffectKind.PERCENT_OFF else 0
    reward.product_id = command.product_id if effect is EffectKind.FREE_PRODUCT else None
    reward.product_name = command.product_name if effect is EffectKind.FREE_PRODUCT else ""


async def add_reward(tx: Tx, company_id: int, command: AddReward) -> Reward:
    reward = Reward(company_id=company_id)
    _fill(reward, command)
    tx.session.add(reward)
    await tx.session.flush()  # the table's checks refuse an effect without its value
    return reward


async def reward_of(tx: Tx, company_id: int, reward_id: int) -> Reward:
    """One of the company's rewards, archived or not; another company's is not found."""
    reward = await tx.session.get(Reward, reward_id)
    if reward is None or reward.company_id != company_id:
        raise RewardUnavailable()
    return reward


async def edit_reward(tx: Tx, company_id: int, reward_id: int, command: AddReward) -> Reward:
    """New values for a reward. What customers already took stays as it was taken (the
    points they paid are in their ledger)."""
    reward = await reward_of(tx, company_id, reward_id)
    _fill(reward, command)
    await tx.session.flush()
    return reward


async def archive_reward(tx: Tx, company_id: int, reward_id: int, archived: bool) -> Reward:
    """Archived, a reward is offered nowhere (tills, tables, triggers); the coupons already
    given for it stay good until they expire. Brought back, it is offered again."""
    reward = await reward_of(tx, company_id, reward_id)
    reward.active = not archived
    await tx.session.flush()
    return reward


async def issue_coupon(
    tx: Tx, company_id: int, reward_id: int, expires_at: datetime, *,
    consumer_id: int | None = None, trigger: str = "campaign",
) -> Coupon:
    reward = await reward_of(tx, company_id, reward_id)
    if not reward.active:
        raise RewardUnavailable()  # archived: no new coupon gives it
    coupon = Coupon(company_id=company_id, consumer_id=consumer_id, reward_id=reward_id,
                    token=secrets.token_urlsafe(24), trigger=trigger, expires_at=expires_at)
    tx.session.add(coupon)
    await tx.session.flush()
    return coupon
