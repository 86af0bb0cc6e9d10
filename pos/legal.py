"""The legal fields of each record as its chain's hash covers them (pure functions).

The same functions build the fields when a record is appended and when a chain is checked
(live, or from an archive), so that what is hashed is what is stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pos.journal import stamp
from pos.models import ChainLink, Closing, Ticket, TicketLine, TicketPayment, TicketTax


def number(prefix: str, sequence: int) -> str:
    """A ticket's number as printed: T2-000123."""
    return f"{prefix}-{sequence:06d}"


def ticket_fields(
    ticket: Ticket, lines: Sequence[TicketLine], taxes: Sequence[TicketTax],
    payments: Sequence[TicketPayment], corrects_uuid: str | None,
) -> dict[str, Any]:
    return {
        "record": "ticket",
        "uuid": ticket.uuid,
        "company_id": ticket.company_id,
        "site_id": ticket.site_id,
        "till_id": ticket.till_id,
        "sequence": ticket.sequence,
        "kind": ticket.kind,
        "training": ticket.training,
        "supervisor_id": ticket.supervisor_id,
        "staff_id": ticket.staff_id,
        "at": stamp(ticket.created_at),
        "device_at": stamp(ticket.device_at) if ticket.device_at else None,
        "corrects": corrects_uuid,
        "duplicate_number": ticket.duplicate_number,
        "reason": ticket.reason,
        "currency": ticket.currency,
        "total_incl": ticket.total_incl,
        "total_excl": ticket.total_excl,
        "total_vat": ticket.total_vat,
        "discount": ticket.discount,
        "lines": [
            {
                "position": line.position, "label": line.label, "quantity": line.quantity,
                "unit_price": line.unit_price, "discount": line.discount,
                "vat_rate": line.vat_rate, "total_incl": line.total_incl,
                "total_excl": line.total_excl, "corrects_position": line.corrects_position,
            }
            for line in sorted(lines, key=lambda line: line.position)
        ],
        "taxes": [
            {
                "vat_rate": tax.vat_rate, "total_excl": tax.total_excl,
                "total_vat": tax.total_vat, "total_incl": tax.total_incl,
            }
            for tax in sorted(taxes, key=lambda tax: tax.vat_rate)
        ],
        "payments": [
            {
                "position": payment.position, "method": payment.method,
                "amount": payment.amount, "tendered": payment.tendered,
                "change": payment.change,
            }
            for payment in sorted(payments, key=lambda payment: payment.position)
        ],
    }


def closing_signed(closing: Closing) -> dict[str, Any]:
    """A closing's signed fields: its body, kept as it was signed."""
    body: dict[str, Any] = json.loads(closing.body)
    return body


def closing_fields(closing: Closing) -> dict[str, Any]:
    """A closing as its tills' chains cover it: the signed body and the signature."""
    return {"record": "closing", "body": closing_signed(closing), "signature": closing.signature}


def link_fields(link: ChainLink, record: dict[str, Any]) -> dict[str, Any]:
    """What a chain link's hash covers: its place, when it was chained, and the record."""
    return {
        "till_id": link.till_id,
        "position": link.position,
        "recorded_at": stamp(link.recorded_at),
        "record": record,
    }
