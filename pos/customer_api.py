"""The till identifies a customer (a search by name, phone or e-mail, or their QR code
scanned or typed), shows their points and rewards, and takes one: loyalty's service does
the work (loyalty/service.py), the till applies the effect to its ticket and names the
customer on the sale it records (`customer_id`), which earns their points. A reward the
cashier removes from the ticket, or whose ticket is abandoned, is given back (pos/rewards.py).
None of it works offline: the till needs the server to take or give back a reward."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from accounts.roles import Permission
from api.endpoint import SESSION, Endpoint, Param, Reply
from errors import Forbidden
from loyalty import ledger, service
from loyalty.commands import Line, Redeem, UseCoupon
from loyalty.errors import (
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
from pos import device, rewards
from pos.errors import NotAtTill, NotPaired
from pos.rewards import RewardOfTable, RewardOnTicket
from pos.till_api import TILL
from realtime.events import Tx
from web.commands import ClientKey, Command, Id, Money, Text, command
from web.htmx import json_reply
from web.state import run_tx

CUSTOMER = Param("CustomerId", "customer_id", "A customer (consumer) of the till's company.")


class FindCustomer(Command):
    q: Annotated[Text, Field(min_length=1, max_length=254,
                             description="A name, phone number, e-mail or QR code.")]


class TakeReward(Command):
    """A reward taken with the customer's points, applied to the ticket being made."""

    reward_id: Id
    idempotency_key: ClientKey
    total: Money = Field(0, description="The ticket's total so far, in cents.")
    lines: Annotated[list[Line], Field(max_length=500)] = []


class GiveBack(Command):
    """A reward the till took (with a customer's points, or a coupon) that no sale will
    use: the cashier removed it from the ticket, or abandoned the ticket."""

    reward_key: ClientKey = Field(description="The `idempotency_key` it was taken under.")
    customer_id: Id | None = Field(None, description="The customer whose points it took; "
                                                     "none for a coupon.")


class GivenBackOut(BaseModel):
    points: int = Field(description="Points returned to the customer (0: none, or already).")
    coupon: bool = Field(description="A coupon made usable again.")
    balance: int | None = Field(description="The customer's points now, when one is named.")


class Found(BaseModel):
    customers: list[dict[str, Any]]


class CustomerOut(BaseModel):
    consumer_id: int
    name: str
    email: str
    phone: str | None
    balance: int
    rewards: list[dict[str, Any]]
    coupons: list[dict[str, Any]]


class AppliedOut(BaseModel):
    reward_id: int
    reward_name: str
    points: int
    balance: int
    discount: int = Field(description="Cents off the ticket.")
    add_product_id: int | None = Field(description="A free product to add to the ticket "
                                                   "at no charge, when it is not on it.")
    duplicate: bool


def customer_body(customer: service.Customer) -> dict[str, Any]:
    body = asdict(customer)
    body.pop("qr_token")  # the customer's own: not shown to the till
    for reward in body["rewards"]:
        reward["effect"]["kind"] = str(reward["effect"]["kind"])
    for coupon in body["coupons"]:
        coupon["expires_at"] = coupon["expires_at"].isoformat()
    return body


async def find(request: Request) -> Response:
    """The till's company's customers matching a name (part of it), a phone number, an
    e-mail or a scanned QR code: at most ten. Needs the sell permission at a till."""
    at = await device.at_till(request, Permission.SELL)
    body = await command(request, FindCustomer)
    found = await run_tx(request, lambda tx: service.search(tx, at.till.company_id, body.q))
    return json_reply({"customers": [asdict(m) for m in found]}, request)


async def show(request: Request) -> Response:
    """A customer's points, the rewards on offer (those their points cover first) and their
    coupons."""
    at = await device.at_till(request, Permission.SELL)
    consumer_id = request.path_params["customer_id"]

    async def op(tx: Tx) -> dict[str, Any]:
        return customer_body(await service.customer(tx, at.till.company_id, consumer_id))

    return json_reply(await run_tx(request, op), request)


async def take(request: Request) -> Response:
    """Takes a reward with the customer's points, once per `idempotency_key`, and says what
    it takes off the ticket (or which product it adds at no charge). Not in training mode."""
    at = await device.at_till(request, Permission.SELL)
    if device.training_of(request) is not None:
        raise Forbidden()
    consumer_id = request.path_params["customer_id"]
    body = await command(request, TakeReward)
    redeem = Redeem(consumer_id=consumer_id, reward_id=body.reward_id,
                    idempotency_key=body.idempotency_key, total=body.total, lines=body.lines)
    applied = await run_tx(request, lambda tx: service.redeem(
        tx, at.till.company_id, redeem, site_id=at.till.site_id))
    return json_reply({
        "reward_id": applied.reward_id, "reward_name": applied.reward_name,
        "points": applied.points, "balance": applied.balance,
        "discount": applied.on_bill.discount, "add_product_id": applied.on_bill.add_product_id,
        "duplicate": applied.duplicate,
    }, request)


async def use_coupon(request: Request) -> Response:
    """Uses a coupon scanned (or typed) at the till, once: of two tills scanning it at the
    same moment, one uses it and the other is told it was used (409 `coupon_used`); the same
    `idempotency_key` again returns the first use. Says what it takes off the ticket; the
    sale names the key (`reward_key`). Not in training mode."""
    at = await device.at_till(request, Permission.SELL)
    if device.training_of(request) is not None:
        raise Forbidden()
    body = await command(request, UseCoupon)
    applied = await run_tx(request, lambda tx: service.use_coupon(
        tx, at.till.company_id, body, site_id=at.till.site_id))
    return json_reply({
        "reward_id": applied.reward_id, "reward_name": applied.reward_name,
        "points": applied.points, "balance": applied.balance,
        "discount": applied.on_bill.discount, "add_product_id": applied.on_bill.add_product_id,
        "duplicate": applied.duplicate,
    }, request)


async def give_back(request: Request) -> Response:
    """Gives back a reward taken at this till that no sale used: its points return to the
    customer, or its coupon is usable again; once, however often asked. Refused (409
    `reward_on_ticket`) when a recorded ticket names the key: the sale used it. A table's
    reward is removed from the diner's phone (409 `reward_of_table`). Online only, as
    taking one is."""
    at = await device.at_till(request, Permission.SELL)
    if device.training_of(request) is not None:
        raise Forbidden()
    body = await command(request, GiveBack)

    async def op(tx: Tx) -> dict[str, Any]:
        given = await rewards.give_back(tx, at.till, body.customer_id, body.reward_key)
        balance = None if body.customer_id is None else await ledger.balance_of(
            tx.session, body.customer_id)
        return {"points": given.points, "coupon": given.coupon, "balance": balance}

    return json_reply(await run_tx(request, op), request)


routes = [
    Endpoint("/till/customers/search", find, "POST", tag=TILL, summary="Find a customer",
             body=FindCustomer, example={"q": "06 12 34 56 78"},
             responses={200: Reply(Found, "At most ten customers.")},
             errors=[NotPaired, NotAtTill, Forbidden], security=SESSION),
    Endpoint("/till/customers/{customer_id:id}", show, "GET", tag=TILL,
             summary="A customer's points and rewards", params=[CUSTOMER],
             responses={200: Reply(CustomerOut, "The customer.")},
             errors=[NotPaired, NotAtTill, Forbidden, UnknownCustomer], security=SESSION),
    Endpoint("/till/customers/{customer_id:id}/rewards", take, "POST", tag=TILL,
             summary="Take a reward with the customer's points", params=[CUSTOMER],
             body=TakeReward, operation_id="takeTillReward",
             example={"reward_id": 3, "idempotency_key": "0b6f1d5e-8f0c-4a55",
                      "total": 850, "lines": [{"product_id": 12, "unit_price": 250,
                                               "quantity": 2}]},
             responses={200: Reply(AppliedOut, "Taken (or a retry: the first answer).")},
             errors=[NotPaired, NotAtTill, Forbidden, UnknownCustomer, RewardUnavailable,
                     LoyaltyOff, ContactNeeded, NotEnoughPoints, KeyReused],
             security=SESSION),
    Endpoint("/till/customers/give-back", give_back, "POST", tag=TILL,
             summary="Give back a reward no sale used", body=GiveBack,
             operation_id="giveBackTillReward",
             example={"reward_key": "0b6f1d5e-8f0c-4a55", "customer_id": 42},
             responses={200: Reply(GivenBackOut, "Given back (or already).")},
             errors=[NotPaired, NotAtTill, Forbidden, UnknownCustomer, RewardOnTicket,
                     RewardOfTable], security=SESSION),
    Endpoint("/till/coupons", use_coupon, "POST", tag=TILL, summary="Use a coupon",
             body=UseCoupon, operation_id="useTillCoupon",
             example={"token": "Zx3…", "idempotency_key": "0b6f1d5e-8f0c-4a55", "total": 850},
             responses={200: Reply(AppliedOut, "Used (or a retry: the first use).")},
             errors=[NotPaired, NotAtTill, Forbidden, UnknownCoupon, CouponUsed,
                     CouponExpired], security=SESSION),
]
