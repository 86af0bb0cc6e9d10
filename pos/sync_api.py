"""The till's offline sync API: upload the sales made offline, read the catalog kept
offline; and, at the till's reports, a supervisor declares a silent till out of service
for the day. The rules are pos/till_sync.py's."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accounts.roles import Permission
from api.endpoint import SESSION, Endpoint, Reply
from ordering.config import config_of
from pos import device, sync_closing, till_sync, till_topic
from pos.approval import Approval, approver, token_holds
from pos.commands import approval_in
from pos.errors import (
    ApprovalNeeded,
    BadTicket,
    NotAtTill,
    NotPaired,
    PinRefused,
    TooManyPinTries,
    UnknownTill,
)
from pos.models import Till
from pos.records import MAX_SEQUENCE, Method, PaymentInput
from pos.till_api import TILL
from pos.till_reports import TILL_REPORTS
from realtime.events import Tx
from web.commands import Collapsed, Command, Id, Integer, Money, Shape, command
from web.errors import error_body
from web.htmx import json_reply
from web.state import app_state, locale_of, run_tx

CHUNK = 20  # sales recorded per transaction of an upload


class SyncLine(Shape):
    product_id: Id
    label: Annotated[str, Field(min_length=1, max_length=120)]
    quantity: Annotated[Integer, Field(ge=1, le=10_000)]
    unit_price: Annotated[Money, Field(description="As sold, VAT included, in cents.")]
    discount: Annotated[Money, Field(description="Cents off this line.")] = 0
    vat_rate: Annotated[Integer, Field(ge=0, le=10_000, description="As sold, in basis "
                                                                    "points (10 % is 1000).")]
    note: Annotated[Collapsed, Field(max_length=60)] = ""


class SyncPayment(Shape):
    method: Literal["cash", "card"]
    amount: Annotated[Money, Field(ge=1)]
    tendered: Money | None = None


class SyncApproval(Shape):
    staff_id: Id
    token: Annotated[str | None, Field(max_length=100)] = None
    pin: Annotated[str | None, Field(min_length=4, max_length=6, pattern=r"^[0-9]+$")] = None


class SyncSale(Shape):
    uuid: UUID = Field(description="Chosen by the till when the sale was made.")
    sequence: Annotated[Integer, Field(ge=1, le=MAX_SEQUENCE,
                                       description="The till's own gap-free number.")]
    device_at: datetime | None = Field(None, description="The till's clock when sold.")
    staff_id: Id = Field(description="Who sold: a member of staff of the till's site.")
    takeaway: bool = False
    training: bool = False
    supervisor_id: Id | None = Field(None, description="Training's supervising member.")
    table_id: Id | None = Field(None, description="The table whose bill this sale paid.")
    customer_id: Id | None = Field(None, description="The customer identified at the till "
                                                     "(their loyalty points); for a table's "
                                                     "bill, linked to the table instead.")
    reward_key: Annotated[str | None, Field(min_length=8, max_length=64, description=(
        "The `idempotency_key` the customer's reward was taken under."))] = None
    reward_discount: Annotated[Money, Field(description=(
        "Cents the customer's reward takes off, after the ticket's discount: recorded as "
        "sold, flagged `unverified_reward` when that customer took no reward under "
        "`reward_key`."))] = 0
    lines: Annotated[list[SyncLine], Field(min_length=1, max_length=500)]
    discount: Annotated[Money, Field(description="Cents off the whole ticket.")] = 0
    reason: Annotated[Collapsed, Field(max_length=200)] = ""
    payments: Annotated[list[SyncPayment], Field(min_length=1, max_length=10)]
    approval: SyncApproval | None = Field(
        None, description="A supervisor's approval of a discount above the site's limit: "
                          "the token the till got when it was checked online, or their PIN "
                          "(an API client); with neither (typed offline), the sale is "
                          "recorded and flagged.")

    def sale(self) -> till_sync.OfflineSale:
        return till_sync.OfflineSale(
            uuid=self.uuid, sequence=self.sequence, staff_id=self.staff_id,
            device_at=self.device_at, takeaway=self.takeaway, training=self.training,
            supervisor_id=self.supervisor_id, table_id=self.table_id,
            lines=[till_sync.SoldLine(line.product_id, line.label, line.quantity,
                                      line.unit_price, line.vat_rate, line.discount, line.note)
                   for line in self.lines],
            discount=self.discount, reason=self.reason,
            payments=[PaymentInput(Method(p.method), p.amount, p.tendered)
                      for p in self.payments],
            approval_staff_id=self.approval.staff_id if self.approval else None,
            customer_id=self.customer_id, reward_key=self.reward_key,
            reward_discount=self.reward_discount)


class SyncTill(Command):
    """What the till holds and has not had acknowledged, oldest number first."""

    sales: Annotated[list[SyncSale], Field(max_length=till_sync.MAX_SALES)] = []
    catalog_version: Annotated[int | None, Field(
        ge=0, le=2**63 - 1, description="The version of the catalog the till has.")] = None
    waiting: Annotated[Integer, Field(ge=0, le=MAX_SEQUENCE,
                                      description="Sales the till still holds after "
                                                        "these (0: it sent all).")] = 0


class SyncError(BaseModel):
    code: str
    message: str


class SyncResult(BaseModel):
    uuid: str
    status: Literal["recorded", "duplicate", "conflict", "refused"]
    number: str | None = None
    ticket_id: int | None = None
    flags: list[str] = []
    error: SyncError | None = None


class SyncAnswer(BaseModel):
    results: list[SyncResult]
    acked_sequence: int = Field(description="The highest n such that the till's records "
                                            "1..n are all on the server.")
    highest_sequence: int = Field(description="The till's highest number on the server.")
    server_time: datetime
    catalog_version: int
    catalog_changed: bool
    topic: str = Field(description="The till's live topic: `sync_now` events on it ask "
                                   "for a sync at once.")


async def _approved(request: Request, till: Till, body: SyncTill) -> dict[UUID, int]:
    """The approvals that hold: a token given when the PIN was checked online, or a PIN
    (who holds Permission.DISCOUNT)."""
    state = app_state(request)
    found: dict[UUID, int] = {}
    for sale in body.sales:
        if sale.approval is None:
            continue
        if sale.approval.token is not None:
            if token_holds(state.settings.secret_key, sale.approval.token, till.id,
                           sale.approval.staff_id, sale.uuid):
                found[sale.uuid] = sale.approval.staff_id
            continue
        if sale.approval.pin is None:
            continue
        try:
            found[sale.uuid] = (await device.check_member_pin(
                state, till, sale.approval.staff_id, sale.approval.pin,
                wanted=Permission.DISCOUNT)).id
        except (PinRefused, TooManyPinTries, NotAtTill, ApprovalNeeded):
            continue
    return found


async def sync(request: Request) -> Response:
    """Uploads the sales this till made (offline or not), each exactly once: a sale already
    received with the same content is a `duplicate` (its first record); with another
    content a `conflict` (nothing recorded, flagged for a manager). Each is recorded at the
    price it was sold; what changed in the catalog meanwhile is flagged. The answer
    acknowledges the till's numbers, names its live topic and says whether its catalog is
    still current. A paired till, locked or not."""
    till = await device.till_of(request)
    if till is None:
        raise NotPaired()
    body = await command(request, SyncTill)
    approved = await _approved(request, till, body)
    config = config_of(request)
    locale = locale_of(request)
    # A few sales a transaction: each holds the till's lock (and SQLite's one writer) only
    # briefly, so that other tills' uploads interleave; what follows a chunk still counts as
    # waiting until it is in.
    sales = sorted((sale.sale() for sale in body.sales), key=lambda s: s.sequence)
    chunks = [sales[i:i + CHUNK] for i in range(0, len(sales), CHUNK)] or [[]]
    results: list[till_sync.Result] = []
    for n, chunk in enumerate(chunks):
        left = sum(len(later) for later in chunks[n + 1:])

        def step(tx: Tx, chunk: list[till_sync.OfflineSale] = chunk,
                 left: int = left) -> Awaitable[till_sync.Synced]:
            return till_sync.sync(tx, till, chunk, catalog_version=body.catalog_version,
                                  waiting=body.waiting + left, approved=approved,
                                  config=config)

        done = await run_tx(request, step)
        results.extend(done.results)
    return JSONResponse({
        "results": [{"uuid": r.uuid, "status": r.status, "number": r.number,
                     "ticket_id": r.ticket_id, "flags": r.flags,
                     "error": error_body(r.refusal, locale)["error"] if r.refusal else None}
                    for r in results],
        "acked_sequence": done.acked_sequence, "highest_sequence": done.highest_sequence,
        "server_time": done.server_time.isoformat().replace("+00:00", "Z"),
        "catalog_version": done.catalog_version, "catalog_changed": done.catalog_changed,
        "topic": done.topic,
    })


async def catalog(request: Request) -> Response:
    """This till's site's catalog as the till keeps it offline: categories, products with
    their price, VAT rates (eaten in, taken away) and whether sold out; archived ones left
    out. `version` changes whenever any of it changes."""
    till = await device.till_of(request)
    if till is None:
        raise NotPaired()

    async def read(tx: Tx) -> dict[str, Any]:
        return await till_sync.catalog(tx.session, till.site_id)

    body = await run_tx(request, read)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


class OutOfService(Command):
    till_id: Id = Field(description="A till of this till's site.")
    reason: Annotated[Collapsed, Field(max_length=200)] = ""
    approval: Approval | None = None


def _form(data: Any) -> dict[str, Any]:
    shaped = {k: v for k, v in data.items() if k in ("till_id", "reason") and v != ""}
    return {**shaped, **approval_in(data)}


async def out_of_service(request: Request) -> Response:
    """Declares a silent till of this till's site out of service for today: today's Z no
    longer waits for it; its sales count in the period they arrive in (journalled). Needs
    Permission.CLOSE, or a supervisor's PIN in `approval`."""
    here = await device.at_till(request, Permission.SELL)
    body = await command(request, OutOfService, _form)

    async def of_this_site(tx: Tx) -> None:  # 404 before asking for a supervisor
        till = await tx.session.get(Till, body.till_id)
        if till is None or till.site_id != here.till.site_id \
                or till.company_id != here.till.company_id:
            raise UnknownTill()

    await run_tx(request, of_this_site)
    approved_by = await approver(app_state(request), till=here.till, acting=here.staff,
                                 permission=Permission.CLOSE, approval=body.approval)
    till = await run_tx(request, lambda tx: sync_closing.declare_out_of_service(
        tx, here.till.company_id, here.till.site_id, body.till_id, approved_by, body.reason))
    return json_reply({"till": {"id": till.id, "prefix": till.prefix,
                                "out_of_service_day": str(till.out_of_service_day)},
                       "refresh": True}, request)


SYNC_EXAMPLE = {
    "sales": [{
        "uuid": "0b6f1d5e-8f0c-4a55-9a49-1d1f0c4f2a10", "sequence": 12,
        "device_at": "2026-12-07T10:00:05Z", "staff_id": 3, "takeaway": False,
        "training": False, "table_id": None,
        "lines": [{"product_id": 5, "label": "Café", "quantity": 2, "unit_price": 150,
                   "discount": 0, "vat_rate": 1000, "note": ""}],
        "discount": 0, "reason": "",
        "payments": [{"method": "cash", "amount": 300, "tendered": 500}],
        "approval": None}],
    "catalog_version": 17,
}
CATALOG = {"type": "object", "properties": {
    "version": {"type": "integer"},
    "categories": {"type": "array", "items": {"type": "object"},
                   "description": "id, name, position."},
    "products": {"type": "array", "items": {"type": "object"},
                 "description": "id, category_id, name, price, vat_rate, vat_rate_takeaway, "
                                "sold_out, position."}}}
DECLARED = {"type": "object", "properties": {"till": {"type": "object"}}}

routes = [
    Endpoint("/till/sync", sync, "POST", tag=TILL, summary="Upload the till's sales",
             operation_id="syncTill", body=SyncTill, example=SYNC_EXAMPLE,
             responses={200: Reply(SyncAnswer, "Each sale's outcome, and what the server "
                                               "holds of this till.")},
             errors=[NotPaired, BadTicket], security=SESSION),
    Endpoint("/till/catalog", catalog, "GET", tag=TILL, summary="The till's catalog",
             operation_id="tillCatalog",
             responses={200: Reply(CATALOG, "The catalog and its version.")},
             errors=[NotPaired], security=SESSION),
    Endpoint("/till/reports/out-of-service", out_of_service, "POST", tag=TILL_REPORTS,
             summary="Declare a silent till out of service for today", body=OutOfService,
             example={"till_id": 4, "reason": "Tablette en panne",
                      "approval": {"staff_id": 3, "pin": "2002"}},
             responses={200: Reply(DECLARED, "Declared (once a day; again changes nothing).")},
             errors=[NotPaired, NotAtTill, ApprovalNeeded, PinRefused, TooManyPinTries,
                     UnknownTill], security=SESSION),
]


def assemble() -> None:
    """The till's topic, and the Z's hook: called where the app is assembled."""
    from pos import closings
    from realtime import topics

    topics.register("till", till_topic.TillTopic())
    closings.use_pending_sync(sync_closing.sync_state)
