"""Coupons: used once, even when two tills scan the same one at the same moment; a till's
retry finds its own use. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from loyalty import service, setup
from loyalty.commands import UseCoupon
from loyalty.errors import CouponExpired, CouponUsed, UnknownCoupon
from loyalty.models import Coupon
from loyalty.rules import OnBill
from tests.loyalty.conftest import Loyal, key, now
from web.commands import parse


async def _coupon(loyal: Loyal, *, expires_in: timedelta = timedelta(days=30)) -> Coupon:
    reward = await loyal.reward(cost_points=50, effect="amount_off", amount=500)
    zoe = await loyal.customer()
    return await loyal.run(lambda tx: setup.issue_coupon(
        tx, loyal.company_id, reward.id, now() + expires_in, consumer_id=zoe,
        trigger="birthday"))


def _use(token: str, idempotency_key: str | None = None, total: int = 1200) -> UseCoupon:
    return parse(UseCoupon, {"token": token, "idempotency_key": idempotency_key or key(),
                             "total": total})


async def test_a_coupon_scanned_on_two_tills_at_once_is_used_once(loyal: Loyal) -> None:
    coupon = await _coupon(loyal)
    tills = [_use(coupon.token) for _ in range(2)]
    results = await asyncio.gather(
        *(loyal.run(lambda tx, use=use: service.use_coupon(tx, loyal.company_id, use))
          for use in tills),
        return_exceptions=True,
    )
    used = [r for r in results if isinstance(r, service.Applied)]
    assert len(used) == 1, results
    assert used[0].on_bill == OnBill(500) and not used[0].duplicate
    assert [type(r) for r in results if r not in used] == [CouponUsed]


async def test_the_till_shows_a_customers_coupons_until_used(loyal: Loyal) -> None:
    coupon = await _coupon(loyal)
    assert coupon.consumer_id is not None
    card = await loyal.run(lambda tx: service.customer(tx, loyal.company_id, coupon.consumer_id))
    assert [(c.token, c.reward_name) for c in card.coupons] == [(coupon.token, "Un café offert")]
    await loyal.run(lambda tx: service.use_coupon(tx, loyal.company_id, _use(coupon.token)))
    card = await loyal.run(lambda tx: service.customer(tx, loyal.company_id, coupon.consumer_id))
    assert card.coupons == []


async def test_a_tills_retry_finds_its_own_use(loyal: Loyal) -> None:
    coupon = await _coupon(loyal)
    use = _use(coupon.token)
    first = await loyal.run(lambda tx: service.use_coupon(tx, loyal.company_id, use))
    again = await loyal.run(lambda tx: service.use_coupon(tx, loyal.company_id, use))
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.on_bill == first.on_bill == OnBill(500)
    with pytest.raises(CouponUsed):
        await loyal.run(lambda tx: service.use_coupon(tx, loyal.company_id, _use(coupon.token)))


async def test_an_expired_or_unknown_coupon_is_refused(loyal: Loyal) -> None:
    expired = await _coupon(loyal, expires_in=timedelta(seconds=-1))
    with pytest.raises(CouponExpired):
        await loyal.run(lambda tx: service.use_coupon(tx, loyal.company_id, _use(expired.token)))
    with pytest.raises(UnknownCoupon):
        await loyal.run(lambda tx: service.use_coupon(tx, loyal.company_id, _use("nope")))
    valid = await _coupon(loyal)
    with pytest.raises(UnknownCoupon):  # another company's till
        await loyal.run(
            lambda tx: service.use_coupon(tx, loyal.company_id + 1, _use(valid.token)))
