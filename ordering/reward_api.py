"""The diners' routes for a loyalty reward on the table's bill (ordering/reward_service.py):
apply one of the signed-in customer's rewards or coupons, or remove it before paying."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from accounts.context import consumer_id_of
from api.endpoint import Endpoint, Reply
from loyalty.errors import (
    ContactNeeded,
    CouponExpired,
    CouponUsed,
    KeyReused,
    LoyaltyOff,
    NotEnoughPoints,
    RewardUnavailable,
    UnknownCoupon,
)
from ordering import reward_service
from ordering.api_docs import DINERS, TOKEN
from ordering.commands import ApplyReward
from ordering.config import config_of
from ordering.errors import (
    BadRewardChoice,
    CustomerSignInNeeded,
    NothingToReward,
    PinRequired,
    RewardAlreadyApplied,
    RewardNeedsLink,
    RewardProductMissing,
    SessionEnded,
    UnknownTable,
)
from ordering.models import TableReward
from ordering.table_payment import PaymentPending
from web.commands import command
from web.htmx import json_reply
from web.state import device_of, run_tx


class TableRewardOut(BaseModel):
    id: int
    name: str
    coupon: bool = Field(description="Taken with a coupon rather than points.")
    discount: int = Field(description="Minor units off the bill, as applied (the bill takes "
                                      "off at most what is left to pay).")


class RewardApplied(BaseModel):
    reward: TableRewardOut
    duplicate: bool
    refresh: bool = Field(description="For the HTML pages (HX-Refresh).")


class RewardRemoved(BaseModel):
    reward: TableRewardOut | None = Field(description="The reward given back; null when none "
                                                      "was applied (a retry).")
    refresh: bool


def _out(reward: TableReward) -> dict[str, Any]:
    return {"id": reward.id, "name": reward.reward_name, "coupon": reward.coupon,
            "discount": reward.discount}


async def apply(request: Request) -> Response:
    """The customer the table's session is linked to ("Collect my points"), signed in on a
    member's phone, applies one of their rewards (`reward_id`, taken with their points) or
    coupons (`coupon`, its code) to the bill: its discount comes off what is due. One reward
    per table session (409 `reward_already_applied`, also for a second phone applying at
    the same moment); a free product must be on the bill (409 `reward_product_missing`).
    The same `idempotency_key` again returns the first answer with `duplicate: true`."""
    body = await command(request, ApplyReward)
    consumer_id = consumer_id_of(request)
    applied = await run_tx(request, lambda tx: reward_service.apply(
        tx, config_of(request), request.path_params["token"], device_of(request), consumer_id,
        body))
    return json_reply({"reward": _out(applied.reward), "duplicate": applied.duplicate,
                       "refresh": True}, request, 200 if applied.duplicate else 201)


async def remove(request: Request) -> Response:
    """The same customer removes the reward before the bill is paid: its points come back
    (or the coupon is usable again), once. Nothing applied: nothing to do."""
    consumer_id = consumer_id_of(request)
    removed = await run_tx(request, lambda tx: reward_service.remove(
        tx, config_of(request), request.path_params["token"], device_of(request), consumer_id))
    return json_reply({"reward": _out(removed) if removed else None, "refresh": True}, request)


AT_TABLE = [CustomerSignInNeeded, UnknownTable, PinRequired, SessionEnded, RewardNeedsLink]

routes = [
    Endpoint("/tables/{token}/reward", apply, "POST", tag=DINERS, operation_id="applyTableReward",
             summary="Apply one of my rewards or coupons to the table's bill", body=ApplyReward,
             example={"reward_id": 3, "idempotency_key": "9d1c7e2a-4b6f-4e0a-8c3d-5f2b1a7e9c40"},
             responses={201: Reply(RewardApplied, "Applied: the bill's due is reduced."),
                        200: Reply(RewardApplied, "A retry: the reward this key applied.")},
             errors=[*AT_TABLE, BadRewardChoice, RewardAlreadyApplied, RewardProductMissing,
                     NothingToReward, PaymentPending, RewardUnavailable, LoyaltyOff,
                     ContactNeeded, NotEnoughPoints, KeyReused, UnknownCoupon, CouponUsed,
                     CouponExpired], params=[TOKEN]),
    Endpoint("/tables/{token}/reward", remove, "DELETE", tag=DINERS,
             operation_id="removeTableReward",
             summary="Remove the reward from the table's bill and get it back",
             responses={200: Reply(RewardRemoved, "Given back (or nothing was applied).")},
             errors=AT_TABLE, params=[TOKEN]),
]
