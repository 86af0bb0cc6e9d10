"""The till's sales API: the counter-sale screen posts its ticket here when it is paid."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accounts.roles import Permission
from api.endpoint import SESSION, Endpoint, Reply
from errors import Forbidden
from loyalty.errors import UnknownCustomer
from ordering.config import config_of
from ordering.errors import SoldOut, UnknownProduct
from pos import device, sell
from pos.approval import Approval, approver
from pos.errors import (
    ApprovalNeeded,
    BadTicket,
    NotAtTill,
    NotPaired,
    PeriodClosed,
    PinRefused,
    TillRevoked,
    TooManyPinTries,
)
from pos.records import Method, PaymentInput, Recorded
from pos.till_api import TILL
from web.commands import Collapsed, Command, Id, Integer, Money, Shape, command
from web.state import app_state, run_tx

MAX_LINES = 500


class DiscountIn(Shape):
    kind: Literal["amount", "percent"] = Field(
        description="`amount`: cents off; `percent`: a whole percent off.")
    value: Annotated[Integer, Field(ge=0, le=10**9)]

    def discount(self) -> sell.Discount:
        return sell.Discount(sell.DiscountKind(self.kind), self.value)


class SaleLineIn(Shape):
    product_id: Id
    quantity: Annotated[Integer, Field(ge=1, le=999)]
    note: Annotated[Collapsed, Field(max_length=sell.MAX_NOTE)] = ""
    discount: DiscountIn | None = None


class PaymentIn(Shape):
    method: Literal["cash", "card"]
    amount: Annotated[Money, Field(ge=1, description="What this payment counts toward the "
                                                     "ticket, in cents.")]
    tendered: Annotated[Money | None, Field(description="Cash handed over (the rest is the "
                                                        "change); none: the amount.")] = None


class RecordSale(Command):
    """A counter sale as the till sends it once paid: names, prices and VAT rates are the
    server's; the payments must add up to the total it computes."""

    uuid: UUID = Field(description="Chosen by the till for this sale and kept until it gets "
                                   "an answer: sending it again records nothing more.")
    lines: Annotated[list[SaleLineIn], Field(max_length=MAX_LINES)] = []
    discount: DiscountIn | None = Field(None, description="Off the whole ticket.")
    takeaway: bool = Field(False, description="Sold to take away: the products' takeaway "
                                              "VAT rates apply.")
    payments: Annotated[list[PaymentIn], Field(min_length=1, max_length=10)]
    reason: Annotated[Collapsed, Field(max_length=200)] = ""
    approval: Approval | None = Field(None, description="A supervisor's PIN, for a discount "
                                                        "above the site's limit.")
    table_id: Id | None = Field(None, description="Pay this table's bill (its lines, as "
                                                  "ordered): `lines` and discounts stay empty.")
    customer_id: Id | None = Field(None, description="The customer identified at the till: "
                                                     "the sale earns their loyalty points (a "
                                                     "table's bill: linked to the table).")
    reward_key: Annotated[str | None, Field(min_length=8, max_length=64, description=(
        "The `idempotency_key` the customer's reward was taken under "
        "(POST /till/customers/{id}/rewards)."))] = None
    reward_discount: Annotated[Money, Field(description=(
        "Cents the reward takes off, after the ticket's discount; no approval needed."))] = 0

    def sale(self) -> sell.CounterSale:
        return sell.CounterSale(
            uuid=self.uuid,
            lines=[sell.Wanted(line.product_id, line.quantity, line.note,
                               line.discount.discount() if line.discount else None)
                   for line in self.lines],
            payments=[PaymentInput(Method(p.method), p.amount, p.tendered)
                      for p in self.payments],
            discount=self.discount.discount() if self.discount else None,
            takeaway=self.takeaway, reason=self.reason, table_id=self.table_id,
            customer_id=self.customer_id, reward_key=self.reward_key,
            reward_discount=self.reward_discount,
        )


class SoldTicket(BaseModel):
    id: Id
    number: str = Field(description="The till's number: T2-000123.")
    total: int = Field(description="Including VAT, in cents.")
    change: int = Field(description="Cash to give back, in cents.")
    currency: str


class SaleRecorded(BaseModel):
    ticket: SoldTicket
    receipt: str = Field(description="The receipt page's path.")
    duplicate: bool = Field(description="A retry: the ticket the first attempt recorded.")


def _reply(done: Recorded) -> Response:
    ticket = done.ticket
    body = {
        "ticket": {"id": ticket.id, "number": done.number, "total": ticket.total_incl,
                   "change": sum(p.change for p in done.payments),
                   "currency": ticket.currency},
        "receipt": f"/till/tickets/{ticket.id}",
        "duplicate": not done.first,
    }
    return JSONResponse(body, status_code=201 if done.first else 200)


async def record(request: Request) -> Response:
    """Records a paid counter sale on this till (or a table's bill, settling the table in
    the same transaction). A discount above the site's limit needs a `reason` and the
    `approval` of a supervisor (409 `approval_needed` without it, 403 `pin_refused` with a
    wrong one) unless the member acting may give it; each goes to the audit log. A retry
    with the same `uuid` returns the first ticket (200, `duplicate`). In the till's
    training mode, the ticket is a training one. Needs the sell permission, on a paired
    till someone switched in on."""
    at = await device.at_till(request, Permission.SELL)
    body = await command(request, RecordSale)
    sale = body.sale()
    found = await run_tx(request, lambda tx: sell.already(tx, at.till, sale.uuid))
    if found is not None:
        return _reply(found)
    priced = await run_tx(request, lambda tx: sell.quote(tx, at.till, sale))
    approved_by = None
    if sell.needs_approval(priced, sale):
        approved_by = await approver(app_state(request), till=at.till, acting=at.staff,
                                     permission=Permission.DISCOUNT, approval=body.approval)
    config = config_of(request)
    done = await run_tx(request, lambda tx: sell.sell(
        tx, at.till, at.staff, sale, approved_by=approved_by, config=config,
        training_by=device.training_of(request)))
    return _reply(done)


routes = [
    Endpoint("/till/sales", record, "POST", tag=TILL, summary="Record a paid sale",
             operation_id="recordTillSale", body=RecordSale,
             example={"uuid": "0b6f1d5e-8f0c-4a55-9a49-1d1f0c4f2a10",
                      "lines": [{"product_id": 12, "quantity": 2, "note": "sans sucre"},
                                {"product_id": 19, "quantity": 1,
                                 "discount": {"kind": "percent", "value": 10}}],
                      "takeaway": False,
                      "payments": [{"method": "card", "amount": 400},
                                   {"method": "cash", "amount": 370, "tendered": 1000}]},
             responses={201: Reply(SaleRecorded, "Recorded."),
                        200: Reply(SaleRecorded, "A retry: the first attempt's ticket.")},
             errors=[NotPaired, NotAtTill, Forbidden, UnknownProduct, SoldOut, BadTicket,
                     sell.ReasonRequired, ApprovalNeeded, PinRefused, TooManyPinTries,
                     sell.TableNotPayable, PeriodClosed, TillRevoked, UnknownCustomer],
             security=SESSION),
]
