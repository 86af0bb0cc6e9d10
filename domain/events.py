"""The facts rooms tell each other: typed, frozen, each under a stable name.

A room records one in the transaction where it happened (domain/outbox.py); after commit
it reaches the subscribers app.py registered. Each carries what a listener needs without
asking the room back: ids, the company and site, money in minor units with its currency.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from telemetry import request_id


def _now() -> datetime:
    return datetime.now(UTC)


class DomainEvent(BaseModel):
    """A fact; `id` is what every subscriber is idempotent on. `request_id`: the HTTP
    request it happened in, if any (X-Request-ID), so that logs tie the two together."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]
    by_name: ClassVar[dict[str, type[DomainEvent]]] = {}

    id: UUID = Field(default_factory=uuid4)
    at: datetime = Field(default_factory=_now)
    request_id: str | None = Field(default_factory=request_id.current)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            DomainEvent.by_name[cls.name] = cls

    @classmethod
    def parse(cls, name: str, payload: str) -> DomainEvent:
        """The event back from its outbox row."""
        return DomainEvent.by_name[name].model_validate_json(payload)


class SoldLine(BaseModel):
    """A line of what was sold, as the dashboards need it (no other room is read back)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: int | None
    category_id: int | None
    name: str
    quantity: int  # negative on a refund or a void
    amount: int  # all taxes included, minor units, signed as its ticket
    station: str | None = None


class PaidPart(BaseModel):
    """One way a bill or a ticket was paid, and how much of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str  # cash, card, online, credit, other
    amount: int


# Tables (ordering/)


class TableEvent(DomainEvent):
    company_id: int
    site_id: int
    table_id: int
    session_id: int


class TableSettled(TableEvent):
    """Everything due at the table was paid: `amount` is the whole bill."""

    name = "table.settled"
    amount: int
    currency: str
    method: Literal["cash", "card", "online"]  # how the last part was paid
    staff_id: int | None  # who took it; None when the diners paid it from a phone
    customer_id: int | None = None  # the diners' loyalty account, when one was linked
    lines: list[SoldLine] = Field(default_factory=list)  # what the bill was for
    payments: list[PaidPart] = Field(default_factory=list)  # every part, by method
    opened_at: datetime | None = None  # when the table's session began
    at_till: bool = False  # paid by a till's ticket (its TicketRecorded tells the money too)


class TableFreed(TableEvent):
    """The table's session closed: by staff, or by itself after idling empty."""

    name = "table.freed"
    reason: Literal["freed", "idle"]
    settled: bool
    staff_id: int | None
    opened_at: datetime | None = None  # when the session began: the table's turn time


class RoundEvent(TableEvent):
    round_id: int
    number: int


class RoundSubmitted(RoundEvent):
    """A round reached staff: sent from a phone (paid first at "order and pay" tables) or
    taken at the POS."""

    name = "round.submitted"
    total: int
    currency: str
    member_id: int | None  # the diner who sent it
    staff_id: int | None  # who took it at the POS
    paid_online: bool


class RoundValidated(RoundEvent):
    name = "round.validated"
    staff_id: int
    stations: list[str]


class RoundRefused(RoundEvent):
    name = "round.refused"
    staff_id: int
    reason: str


# Brews (machines/)


class BrewFinished(DomainEvent):
    """A brew ended: served, or failed (and given back, when it was charged)."""

    name = "brew.finished"
    company_id: int
    site_id: int
    machine_id: int
    brew_id: int
    consumer_id: int | None
    product_id: int | None
    product_name: str
    product_type: str
    price: int
    currency: str
    charge: str  # machines.access.Charge: none, credit or payment
    outcome: Literal["served", "failed"]
    reason: str | None
    refunded: bool
    group_id: int | None = None  # the consumer's group, when they have one
    selection_id: int | None = None  # the machine's selection the drink came from


# Payments (payments/)


class PaymentEvent(DomainEvent):
    """A payment through the provider; what it paid for is named by its purpose and refs."""

    payment_id: int
    company_id: int
    purpose: str  # topup, brew, round or bill
    amount: int
    currency: str
    provider: str
    consumer_id: int | None
    brew_id: int | None
    table_session_id: int | None
    round_id: int | None


class PaymentSettled(PaymentEvent):
    """The provider took the money."""

    name = "payment.settled"


class PaymentFailed(PaymentEvent):
    """The provider refused it or the payer did not pay: nothing was taken."""

    name = "payment.failed"


class PaymentAbandoned(PaymentEvent):
    """The provider could not even start it: nothing was taken."""

    name = "payment.abandoned"


class PaymentRefunded(PaymentEvent):
    """The money went back to the payer (what it paid for could not be made)."""

    name = "payment.refunded"


# The till (pos/)


class TicketRecorded(DomainEvent):
    """A till recorded a sale, or a refund, void or duplicate of one (amounts of refunds and
    voids are negative; a duplicate's are nothing). Training tickets are told as such."""

    name = "ticket.recorded"
    company_id: int
    site_id: int
    till_id: int
    ticket_id: int
    ticket_uuid: UUID
    number: str  # as printed: T2-000123
    kind: Literal["sale", "refund", "void", "duplicate"]
    training: bool
    total: int
    currency: str
    staff_id: int
    corrects_ticket_id: int | None
    lines: list[SoldLine] = Field(default_factory=list)
    payments: list[PaidPart] = Field(default_factory=list)
    sold_at: datetime | None = None  # the till's time of the sale (an offline sale syncs later)
    customer_id: int | None = None  # the customer identified at the till, if any


class PeriodClosed(DomainEvent):
    """A site's day, month or year was closed (a Z): its records cannot change any more."""

    name = "period.closed"
    company_id: int
    site_id: int
    closing_id: int
    kind: Literal["day", "month", "year"]
    period_start: str  # ISO dates, in the company's calendar
    period_end: str
    total: int
    currency: str
