"""What the ordering API answers to diners: the table, its menu, the cart and rounds, table
payments; as models, for the generated API document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ordering.table_lock import Access
from web.commands import Money

Id = Annotated[int, Field(ge=1, le=10**18 - 1)]
RoundStatus = Annotated[
    Literal["awaiting_payment", "to_validate", "validated", "in_production", "ready", "served",
            "refused"],
    Field(description="to_validate → validated → in_production → ready → served, or refused. "
                      "In `order_and_pay` mode a round is `awaiting_payment` until its payment "
                      "succeeds (then `to_validate`); if the payment fails or is cancelled the "
                      "round disappears and its lines are back in the cart."),
]
TicketStatus = Literal["queued", "in_preparation", "ready", "served"]
TableMapState = Annotated[
    Literal["free", "ordering", "to_validate", "in_production", "to_settle", "settled"],
    Field(description="For the table map: free (no session), ordering (open, nothing waiting), "
                      "to_validate (a round waits), in_production, to_settle (all served), "
                      "settled (paid, to be freed)."),
]
TableMode = Annotated[
    Literal["menu", "order", "order_and_pay", "pay_only"],
    Field(description="menu: read only; order: diners order, pay at the counter; "
                      "order_and_pay: diners pay each round from the phone when sending it; "
                      "pay_only: staff take the orders, phones show the bill and pay it."),
]
PaymentPurpose = Literal["round", "bill"]
PaymentStatus = Literal["pending", "succeeded", "failed", "canceled", "refund_due", "refunded"]


class Ok(BaseModel):
    ok: Literal[True]


class CollectedPoints(BaseModel):
    consumer_id: Id
    name: str
    balance: int = Field(description="The customer's points now.")
    rewards: list[dict[str, Any]] = Field(description="The rewards on offer: id, name, "
                                                      "cost_points, affordable.")
    refresh: bool = Field(description="The table's page shows the link: reload it.")


class Membership(BaseModel):
    member_id: Id
    pin: str = Field(description="The table's PIN: share it with the party.")
    refresh: Literal[True] | None = Field(None, description="For the HTML pages (HX-Refresh).")


class TableInfo(BaseModel):
    id: Id
    label: str
    site_id: Id
    company_id: Id = Field(description="The company that owns the table: its staff get the "
                                       "full view.")
    mode: TableMode
    state: TableMapState


class OpenOrNot(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "settled"]


class PublicTableView(BaseModel):
    """What a non-member sees: only whether a party is there."""

    table: TableInfo
    currency: str
    session: OpenOrNot | None
    version: int


class MemberView(BaseModel):
    id: Id
    name: str
    key: str | None = Field(None, description="A keyed hash of the member's device; not the "
                                              "cookie.")


class LineView(BaseModel):
    id: Id
    client_id: str
    member_id: int | None = Field(description="null: added by staff.")
    member: str | None = Field(None, description="The diner's name.")
    product_id: Id
    name: str | None = None
    quantity: int
    unit_price: Money
    amount: Money
    note: str
    round_id: int | None = Field(description="null: still in the cart.")
    available: bool = Field(True, description=(
        "In the cart: false once its product is sold out or off the menu; the round cannot "
        "be sent until the line is removed."))
    price_was: Money | None = Field(None, description=(
        "In the cart: the price when it was added, if the menu's price (`unit_price`, the one "
        "the round will take) has changed since."))


class RoundView(BaseModel):
    id: Id
    number: int = Field(ge=1)
    status: RoundStatus
    revision: int = Field(ge=1)
    reason: str | None = Field(None, description="Why staff refused or edited it.")
    submitted_by: str | None = None
    taken_by: str | None = Field(None, description="The staff member who took it at the POS.")
    submitted_at: datetime | None = None
    lines: list[LineView]
    total: Money


class TablePaymentInProgress(BaseModel):
    """The payment in progress at the table, if any (one at a time)."""

    id: Id
    purpose: PaymentPurpose
    amount: Money
    round_id: int | None
    checkout_url: str | None = Field(
        description="Where the payer completes it, once the provider created it.")
    started_at: datetime


class BillReward(BaseModel):
    """The loyalty reward a diner applied to the bill (POST .../reward)."""

    id: Id
    name: str
    consumer_id: int | None = Field(description="The customer who applied it.")
    coupon: bool = Field(description="Taken with a coupon rather than points.")
    discount: Money = Field(description="What it takes off the bill now: as applied, at most "
                                        "what is left to pay.")


class SessionDetail(BaseModel):
    id: Id
    status: Literal["open", "settled"]
    pin: str
    opened_at: datetime | None = None
    members: list[MemberView]
    cart: list[LineView] = Field(description="The shared cart: lines not yet sent.")
    cart_total: Money
    subtotals: dict[str, Money] | None = Field(
        None, description="Each member's share of the cart, keyed by member id.")
    rounds: list[RoundView]
    due: Money = Field(description="What is left to pay: `ordered` minus `paid` minus "
                                   "`discount` (never below zero). Staff settlement takes "
                                   "this amount.")
    ordered: Money = Field(description="Total of the rounds on the bill (not refused, not "
                                       "awaiting payment).")
    paid: Money = Field(description="Paid online from phones and not refunded.")
    discount: Money = Field(0, description="What the loyalty reward takes off the bill.")
    reward: BillReward | None = None
    payment: TablePaymentInProgress | None


class TableView(BaseModel):
    """The full view: for members and the site's staff."""

    table: TableInfo
    currency: str
    timezone: str | None = None
    session: SessionDetail | None
    version: int = Field(description="The `table:{id}` topic's version.")


class MenuProduct(BaseModel):
    id: Id
    name: str
    description: str | None = None
    price: Money
    available: bool
    allergens: list[str] = Field(default_factory=list, description=(
        "Allergens it contains, as EU codes: gluten, crustaceans, eggs, fish, peanuts, "
        "soybeans, milk, nuts, celery, mustard, sesame, sulphites, lupin, molluscs."))
    photo: str | None = Field(default=None, description="The photo's path, if it has one.")


class MenuCategory(BaseModel):
    id: Id
    name: str
    station: str = Field(description="Where it is made: bar, kitchen…")
    products: list[MenuProduct]


class Menu(BaseModel):
    site_id: Id
    currency: str
    categories: list[MenuCategory]
    version: int = Field(description="The `menu:{site_id}` topic's version.")


class TableState(BaseModel):
    access: Access = Field(
        description="Where this device stands at the table: `start` (nobody is ordering: "
                    "POST start), `member` (order, change your lines, send rounds), `need_pin` "
                    "(a party is ordering: POST join with their PIN), `settled` (your bill is "
                    "paid: wait for staff to free the table), `locked` (not a member, the party "
                    "is paying or has paid), `menu_only` (read the menu, no ordering).")
    member_id: int | None = Field(
        description="Your member id when access is member or settled; the `member_id` of cart "
                    "lines tells which are yours.")
    topics: list[str] = Field(
        description="Websocket topics to watch: `table:{id}` and `menu:{site_id}`.")
    table: TableView | PublicTableView = Field(
        description="The full view for members and the site's staff, the public view "
                    "otherwise.")
    menu: Menu


class CartLine(BaseModel):
    id: Id
    client_id: str
    product_id: Id
    quantity: int
    unit_price: Money
    note: str


class AddedLine(BaseModel):
    line: CartLine


class RoundRef(BaseModel):
    id: Id
    number: int
    status: RoundStatus


class Submitted(BaseModel):
    round: RoundRef
    duplicate: bool = Field(description="true: a retry of an earlier submission with the same "
                                        "key.")


class TablePaymentCheckout(BaseModel):
    """Null only for a round with nothing to charge (sent at once)."""

    id: Id
    purpose: PaymentPurpose
    status: PaymentStatus
    amount: Money
    currency: str
    checkout_url: str = Field(description="Send the payer here (the provider's checkout).")


class TablePaymentStarted(BaseModel):
    payment: TablePaymentCheckout | None
    round: RoundRef | None
    duplicate: bool
    redirect: str | None = Field(
        None, description="The checkout URL while the payment is pending. htmx requests get "
                          "it as HX-Redirect.")


class TablePaymentRef(BaseModel):
    id: Id
    purpose: PaymentPurpose
    status: str
    amount: Money


class TablePaymentResult(BaseModel):
    payment: TablePaymentRef
