"""A diner applies one of their loyalty rewards (or coupons) to the table's bill from their
phone, and may remove it before the bill is paid.

Only the customer the session is linked to (ordering/customer_link.py), signed in on a
member's phone, may. Loyalty takes the points or the coupon (loyalty/service.py) under a
key of this session; the discount is reckoned on the bill's lines as they are, and is
capped at what is left to pay whenever the bill is read (`table_payment.Bill`). A free
product not on the bill is refused rather than added. One reward per session: applying
first touches the session's row, so that of two phones applying at once the second waits
for the first and finds its reward. The change is told on the table's topic (and the
POS's), in version order, like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from loyalty import service as loyalty_service
from loyalty.commands import Redeem, UseCoupon
from loyalty.errors import KeyReused, UnknownCoupon
from loyalty.models import Coupon
from ordering import diner_service, table_rewards
from ordering.commands import ApplyReward
from ordering.config import OrderingConfig
from ordering.errors import (
    BadRewardChoice,
    CustomerSignInNeeded,
    NothingToReward,
    PinRequired,
    RewardAlreadyApplied,
    RewardNeedsLink,
    RewardProductMissing,
    SessionEnded,
)
from ordering.models import Member, TableReward, TableSession
from ordering.payment_views import rounds_and_paid
from ordering.publishing import table_changed
from ordering.session_state import SessionStatus
from ordering.table_lock import Access
from ordering.table_payment import PaymentPending, bill
from payments.models import ProviderPayment
from payments.payment_state import PaymentStatus
from realtime.events import Tx


@dataclass(frozen=True)
class Applied:
    reward: TableReward
    duplicate: bool


async def _customer_at_table(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, consumer_id: int | None
) -> tuple[diner_service.TableAccess, TableSession, Member]:
    """The member's open session, linked to the customer signed in on this phone."""
    if consumer_id is None:
        raise CustomerSignInNeeded()
    found = await diner_service.table_access(tx, config, token, device_key)
    if found.access is Access.NEED_PIN:
        raise PinRequired()
    ts = found.session
    if found.access is not Access.MEMBER or ts is None or found.member is None \
            or ts.status != SessionStatus.OPEN:
        raise SessionEnded()
    if ts.customer_id != consumer_id:
        raise RewardNeedsLink()
    return found, ts, found.member


async def _lock_open(tx: Tx, session_id: int, now: datetime) -> None:
    """Touch the open session's row: two phones applying at once queue here (PostgreSQL's
    row lock; SQLite writes one at a time), so the second sees the first's reward."""
    touched = await tx.session.scalar(
        update(TableSession)
        .where(TableSession.id == session_id, TableSession.status == SessionStatus.OPEN)
        .values(last_activity_at=now)
        .returning(TableSession.id)
        .execution_options(synchronize_session=False)
    )
    if touched is None:
        raise SessionEnded()


async def apply(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, consumer_id: int | None,
    command: ApplyReward,
) -> Applied:
    """Take the reward or coupon with loyalty and put its discount on the bill, once per
    key; refused, nothing is taken (the whole transaction rolls back)."""
    if (command.reward_id is None) == (command.coupon is None):
        raise BadRewardChoice()
    found, ts, member = await _customer_at_table(tx, config, token, device_key, consumer_id)
    assert consumer_id is not None
    key = table_rewards.loyalty_key(ts.id, command.idempotency_key)
    earlier = await tx.session.scalar(select(TableReward).where(TableReward.reward_key == key))
    if earlier is not None:
        if earlier.session_id != ts.id or earlier.given_back_at is not None:
            raise KeyReused()
        return Applied(earlier, duplicate=True)
    now = datetime.now(UTC)
    await _lock_open(tx, ts.id, now)
    if await table_rewards.active(tx.session, ts.id) is not None:
        raise RewardAlreadyApplied()
    pending = await tx.session.scalar(select(ProviderPayment.id).where(
        ProviderPayment.table_session_id == ts.id,
        ProviderPayment.status == PaymentStatus.PENDING))
    if pending is not None:
        raise PaymentPending()  # its amount was reckoned without the reward
    rounds, paid = await rounds_and_paid(tx.session, ts.id)
    owed = bill(rounds, paid)
    if owed.due <= 0:
        raise NothingToReward()
    lines = await table_rewards.billed_lines(tx.session, ts.id)
    company_id = found.header.company_id
    if command.reward_id is not None:
        taken = await loyalty_service.redeem(tx, company_id, Redeem(
            consumer_id=consumer_id, reward_id=command.reward_id, idempotency_key=key,
            total=owed.ordered, lines=lines), site_id=found.header.site_id)
    else:
        owner = await tx.session.scalar(select(Coupon.consumer_id).where(
            Coupon.token == command.coupon, Coupon.company_id == company_id))
        if owner is not None and owner != consumer_id:
            raise UnknownCoupon()  # someone else's: as if it did not exist
        taken = await loyalty_service.use_coupon(tx, company_id, UseCoupon(
            token=command.coupon or "", idempotency_key=key, total=owed.ordered,
            lines=lines), site_id=found.header.site_id)
    if taken.on_bill.add_product_id is not None:
        raise RewardProductMissing(product=taken.on_bill.add_product_name
                                   or taken.reward_name)
    if taken.on_bill.discount <= 0:
        raise NothingToReward()
    reward = TableReward(
        session_id=ts.id, consumer_id=consumer_id, reward_key=key, reward_id=taken.reward_id,
        reward_name=taken.reward_name[:120], coupon=command.coupon is not None,
        discount=taken.on_bill.discount, created_at=now,
    )
    tx.session.add(reward)
    await tx.session.flush()
    table = found.table
    await table_changed(tx, config, table.id, table.site_id, "reward.applied", {
        "member": member.name, "member_id": member.id, "reward": reward.reward_name,
        "discount": bill(rounds, paid, reward.discount).discount,
    })
    return Applied(reward, duplicate=False)


async def remove(
    tx: Tx, config: OrderingConfig, token: str, device_key: str, consumer_id: int | None
) -> TableReward | None:
    """Take the reward off the bill before it is paid and give it back (its points, or the
    coupon usable again). None applied (a retry): nothing to do."""
    found, ts, member = await _customer_at_table(tx, config, token, device_key, consumer_id)
    now = datetime.now(UTC)
    await _lock_open(tx, ts.id, now)
    reward = await table_rewards.active(tx.session, ts.id)
    if reward is None or not await table_rewards.give_back(
            tx, found.header.company_id, reward, now):
        return None
    table = found.table
    await table_changed(tx, config, table.id, table.site_id, "reward.removed", {
        "member": member.name, "member_id": member.id, "reward": reward.reward_name})
    return reward
