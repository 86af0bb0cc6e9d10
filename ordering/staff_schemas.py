"""What the ordering API answers to staff: the POS and station views, and the results of
their actions; as models, for the generated API document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ordering.schemas import (
    Id,
    RoundStatus,
    RoundView,
    TableMapState,
    TablePaymentInProgress,
    TicketStatus,
)
from web.commands import Money


class RoundState(BaseModel):
    id: Id
    number: int
    status: RoundStatus
    revision: int
    reason: str | None


class RoundResult(BaseModel):
    round: RoundState


class TicketState(BaseModel):
    id: Id
    station: str
    status: TicketStatus


class TicketResult(BaseModel):
    ticket: TicketState


class CounterPayment(BaseModel):
    id: Id
    method: Literal["cash", "card"]
    amount: Money = Field(description="The amount due that was paid.")
    tendered: Money
    change: Money = Field(description="To give back.")


class PaymentResult(BaseModel):
    payment: CounterPayment


class ProductState(BaseModel):
    id: Id
    available: bool


class ProductAvailability(BaseModel):
    product: ProductState


class TableModeState(BaseModel):
    id: Id
    mode: str | None


class TableModeResult(BaseModel):
    table: TableModeState


class SiteModeResult(BaseModel):
    site: TableModeState


class PosProduct(BaseModel):
    id: Id
    name: str


class TableRewardShown(BaseModel):
    name: str
    discount: Money = Field(description="What it takes off the bill now.")


class PosTable(BaseModel):
    id: Id
    label: str
    state: TableMapState
    session_id: int | None
    pin: str | None
    members: int
    due: Money = Field(description="What is left to pay; 0 once the table is settled.")
    opened_at: datetime | None = None
    paid: Money | None = Field(None, description="Paid online from phones.")
    reward: TableRewardShown | None = Field(None, description="The loyalty reward a diner "
                                                              "applied to the bill.")
    payment: TablePaymentInProgress | None = None


class RoundAtTable(RoundView):
    table_id: Id
    table: str
    taken_by: str | None = Field(
        description="The name of the staff member who took the round at the POS; null when a "
                    "phone sent it.")


class PinAlert(BaseModel):
    table_id: Id
    table: str | None = None
    kind: Literal["pin_slowed"]
    failures: int = Field(description="Wrong PINs at the table in the current window.")
    until: datetime = Field(
        description="When the window ends and the table takes tries at full speed again, "
                    "unless staff lift it sooner.")


class PosView(BaseModel):
    site_id: Id
    currency: str
    timezone: str | None = None
    now: datetime | None = None
    products: list[PosProduct] | None = Field(
        None, description="Available products, for additions in an edit.")
    tables: list[PosTable]
    queue: list[RoundAtTable] = Field(description="Rounds waiting for validation, oldest first.")
    in_production: list[RoundAtTable]
    alerts: list[PinAlert] = Field(
        description="Tables slowed by wrong PINs: one try per 30 s (configurable) from anyone.")
    version: int = Field(description="The `site:{id}:pos` topic's version.")


class StationLine(BaseModel):
    name: str
    quantity: int
    note: str


class StationTicket(BaseModel):
    id: Id
    round_id: Id
    round: int
    table: str
    status: TicketStatus
    submitted_at: datetime | None = None
    reached_at: datetime = Field(description="When the ticket reached this station (its "
                                             "round was validated): its waiting time starts.")
    lines: list[StationLine]


class StationView(BaseModel):
    site_id: Id
    station: str
    timezone: str | None = None
    now: datetime = Field(description="The server's clock when this view was read.")
    amber_after_min: int = Field(description="The site's minutes after which a waiting "
                                             "ticket shows amber.")
    red_after_min: int = Field(description="The site's minutes after which it shows red.")
    tickets: list[StationTicket] = Field(description="Oldest first (by `reached_at`).")
    version: int


class StaffRound(RoundState):
    staff_id: int | None = Field(
        description="The staff member who took the order (the caller, or whoever made the "
                    "round on a retry); null only for rounds taken before authors were recorded.")


class StaffOrderResult(BaseModel):
    round: StaffRound
    pin: str = Field(pattern=r"^[0-9]{4,12}$",
                     description="The table session's PIN: diners join with it to follow the "
                                 "order and pay.")
    duplicate: bool = Field(description="true: a retry of an earlier order with the same key; "
                                        "nothing changed.")
