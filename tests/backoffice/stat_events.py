"""Domain events as the rooms record them, made by hand for the statistics' tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import uuid4

from domain.events import (
    BrewFinished,
    PaidPart,
    PaymentRefunded,
    PaymentSettled,
    RoundSubmitted,
    SoldLine,
    TableFreed,
    TableSettled,
    TicketRecorded,
)

COMPANY = 1
PARIS = "Europe/Paris"
_numbers = iter(range(1, 10**9))


def utc(text: str) -> datetime:
    """"2026-10-25 01:30" as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def line(product_id: int | None, category_id: int | None, quantity: int, amount: int
         ) -> SoldLine:
    return SoldLine(product_id=product_id, category_id=category_id, name=f"p{product_id}",
                    quantity=quantity, amount=amount)


def ticket(at: datetime, total: int, *, site: int = 1, kind: Literal[
        "sale", "refund", "void", "duplicate"] = "sale", training: bool = False,
           lines: list[SoldLine] | None = None, payments: list[PaidPart] | None = None,
           sold_at: datetime | None = None, company: int = COMPANY,
           corrects: int | None = None) -> TicketRecorded:
    number = next(_numbers)
    return TicketRecorded(
        at=at, company_id=company, site_id=site, till_id=1, ticket_id=number,
        ticket_uuid=uuid4(), number=f"T1-{number:06}", kind=kind, training=training,
        total=total, currency="EUR", staff_id=1, corrects_ticket_id=corrects,
        lines=lines if lines is not None else [line(1, 1, 1 if total >= 0 else -1, total)],
        payments=payments if payments is not None else [PaidPart(method="card", amount=total)],
        sold_at=sold_at if sold_at is not None else at,
    )


def bill(at: datetime, amount: int, *, site: int = 1, method: Literal[
        "cash", "card", "online"] = "cash", lines: list[SoldLine] | None = None,
         payments: list[PaidPart] | None = None, at_till: bool = False,
         company: int = COMPANY) -> TableSettled:
    number = next(_numbers)
    return TableSettled(
        at=at, company_id=company, site_id=site, table_id=1, session_id=number, amount=amount,
        currency="EUR", method=method, staff_id=1,
        lines=lines if lines is not None else [line(2, 1, 1, amount)],
        payments=payments if payments is not None else [PaidPart(method=method, amount=amount)],
        opened_at=at - timedelta(minutes=50), at_till=at_till,
    )


def brew(at: datetime, price: int, *, site: int = 1, machine: int = 1, charge: str = "credit",
         outcome: Literal["served", "failed"] = "served", refunded: bool = False,
         consumer: int | None = 7, product_type: str = "espresso",
         company: int = COMPANY) -> BrewFinished:
    number = next(_numbers)
    return BrewFinished(
        at=at, company_id=company, site_id=site, machine_id=machine, brew_id=number,
        consumer_id=consumer, product_id=3, product_name="Espresso", product_type=product_type,
        price=price, currency="EUR", charge=charge, outcome=outcome,
        reason=None if outcome == "served" else "jam", refunded=refunded, group_id=2,
        selection_id=4,
    )


def submitted(at: datetime, total: int, *, site: int = 1, company: int = COMPANY
              ) -> RoundSubmitted:
    number = next(_numbers)
    return RoundSubmitted(
        at=at, company_id=company, site_id=site, table_id=1, session_id=number,
        round_id=number, number=1, total=total, currency="EUR", member_id=None, staff_id=1,
        paid_online=False,
    )


def freed(at: datetime, minutes: int, *, site: int = 1, settled: bool = True,
          company: int = COMPANY) -> TableFreed:
    number = next(_numbers)
    return TableFreed(
        at=at, company_id=company, site_id=site, table_id=1, session_id=number,
        reason="freed", settled=settled, staff_id=1, opened_at=at - timedelta(minutes=minutes),
    )


def topup(at: datetime, amount: int, *, refunded: bool = False, consumer: int = 7,
          company: int = COMPANY) -> PaymentSettled | PaymentRefunded:
    kind = PaymentRefunded if refunded else PaymentSettled
    return kind(
        at=at, payment_id=next(_numbers), company_id=company, purpose="topup", amount=amount,
        currency="EUR", provider="test", consumer_id=consumer, brew_id=None,
        table_session_id=None, round_id=None,
    )
