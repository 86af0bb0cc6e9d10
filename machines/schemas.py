"""What the machines API answers: its responses' shapes, for the generated API document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from machines.access import Charge, Mode
from payments.schemas import Checkout

Money = int  # placeholder until the infrastructure's Money

BrewStatus = Literal["paying", "requested", "accepted", "grinding", "brewing", "done", "failed"]
Alert = Literal["water", "grounds", "beans", "milk", "maintenance", "descaling"]


class Brew(BaseModel):
    id: int
    product: str
    type: str | None = None
    status: BrewStatus
    progress: int = Field(ge=0, le=100)
    reason: str | None = None
    price: Money | None = None
    charge: Charge | None = None
    refunded: bool | None = None
    requested_at: str | None = None
    finished_at: str | None = None
    # Only in what staff of the machine's company see (the machine topic, their pages).
    machine_id: int | None = Field(None, description="Staff of the machine's company only.")
    machine: str | None = Field(None, description="The machine's name, in a person's list.")
    consumer_id: int | None = Field(None, description="Staff of the machine's company only.")
    consumer: str | None = Field(None, description="Who ordered it (staff, recent brews).")


class MachineHead(BaseModel):
    id: int
    name: str
    mode: Mode
    online: bool
    alerts: list[Alert]
    missing: list[str] | None = None
    # Staff of the machine's company only:
    model: str | None = None
    serial: str | None = None
    site_id: int | None = None
    company_id: int | None = None
    last_seen_at: str | None = None


class OfferedDrink(BaseModel):
    id: int
    name: str
    type: str
    icon: str | None = None
    price: Money
    needs: list[str]


class OfferedSelection(BaseModel):
    """A selection the machine offers (its own, its groups'), with its enabled drinks."""

    id: int
    drinks: list[OfferedDrink]


class MachineStatus(BaseModel):
    """The machine topic's view, cut for this viewer (staff of the machine's company get
    recent brews, its serial and site, and the company's time zone too)."""

    machine: MachineHead
    busy: bool
    brew: Brew | None
    currency: str
    selections: list[OfferedSelection]
    version: int
    recent: list[Brew] | None = Field(None, description="Staff of the machine's company only.")
    timezone: str | None = Field(None, description="Staff of the machine's company only.")


class Drink(BaseModel):
    id: int
    name: str
    type: str
    icon: str | None = None
    price: Money
    charge: Charge = Field(description="How this consumer would pay for it here.")
    recipe: dict[str, Any] | None = None
    needs: list[str] | None = None
    blocked_by: list[Alert] | None = None


class ConsumerAtMachine(BaseModel):
    id: int
    name: str
    balance: Money


class MachineState(BaseModel):
    machine: MachineStatus
    drinks: list[Drink]
    allowed: bool
    refusal: str | None = Field(
        default=None,
        description="The error code a brew would get (sign_in_required, not_authorised, "
        "account_not_ready).",
    )
    topics: list[str]
    consumer: ConsumerAtMachine | None = None


class BrewStarted(BaseModel):
    brew: Brew
    duplicate: bool
    payment: Checkout | None = None
    redirect: str | None = None


class SharedSelection(BaseModel):
    selection: dict[str, Any]
    drinks: list[dict[str, Any]]
    machines: list[str]


class MachineInfo(BaseModel):
    id: int
    name: str
    mode: Mode
    serial: str | None = None
    model: str | None = None
    token: str | None = None
    selection_id: int | None = None


class MachineAdded(BaseModel):
    machine: MachineInfo
    secret: str = Field(description="The device secret, shown this once.")


class MachineChanged(BaseModel):
    machine: MachineInfo


class Secret(BaseModel):
    secret: str


class Entry(BaseModel):
    id: int
    amount: Money
    balance_after: Money


class CreditPosted(BaseModel):
    entry: Entry
    duplicate: bool


class ApprovedConsumer(BaseModel):
    id: int
    verified: bool
    role: str


class Approved(BaseModel):
    consumer: ApprovedConsumer


class GroupHead(BaseModel):
    id: int
    name: str


class GroupCreated(BaseModel):
    group: GroupHead


class UserGroup(BaseModel):
    id: int
    name: str
    recharge_amount: Money
    recharge_every: Literal["day", "week", "month"] | None
    recharge_at: str


class GroupSaved(BaseModel):
    group: UserGroup


class Policy(BaseModel):
    require_approval: bool
    topup_amounts: list[Money]


class Selection(BaseModel):
    id: int
    name: str
    model: str
    share_token: str


class SelectionSaved(BaseModel):
    selection: Selection


class SelectionDrink(BaseModel):
    id: int
    name: str
    type: str
    price: Money
    recipe: dict[str, Any]
    enabled: bool
    position: int
    icon: str | None = None


class DrinkSaved(BaseModel):
    drink: SelectionDrink


class SelectionOfMachine(BaseModel):
    id: int
    selection_id: int | None


class MachineSelection(BaseModel):
    machine: SelectionOfMachine
