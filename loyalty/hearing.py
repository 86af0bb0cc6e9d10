"""What loyalty hears of the other rooms: a sale or its refund at the till, a table's bill
settled, a drink served. It imports none of them; app.py registers these at assembly.

Each is heard once per subscriber (domain/outbox.py) and each effect is keyed in the points
ledger by its business event, so that even an event recorded twice counts once.

The till names the customer it identified on a counter sale's ticket (`customer_id`); a
table's session names the customer a diner linked from their phone, or the cashier at the
till (ordering/customer_link.py). A table's bill paid at a till is told twice, as the
table's and as the till's ticket: only the table's settlement names the customer (the
ticket of a table's bill names none, pos/sell.py `customer_of_sale`), so it earns once.
"""

from __future__ import annotations

from domain.events import BrewFinished, TableSettled, TicketRecorded
from domain.subscribers import subscribe
from loyalty import earning, ledger
from realtime.events import Tx

SUBSCRIBER = "loyalty.points"


async def ticket_recorded(tx: Tx, ticket: TicketRecorded) -> None:
    if ticket.training or ticket.kind == "duplicate":
        return
    if ticket.kind == "sale":
        if ticket.customer_id is not None:
            await earning.visit(
                tx, company_id=ticket.company_id, consumer_id=ticket.customer_id,
                key=ledger.ticket_key(str(ticket.ticket_uuid)),
                origin=ledger.ticket_origin(ticket.ticket_id), spent=ticket.total,
                at=ticket.sold_at or ticket.at, site_id=ticket.site_id,
            )
        return
    if ticket.corrects_ticket_id is not None:  # a refund or a void
        await earning.refund(
            tx, company_id=ticket.company_id,
            origin=ledger.ticket_origin(ticket.corrects_ticket_id),
            key=ledger.refund_key(str(ticket.ticket_uuid)), refunded=abs(ticket.total),
            site_id=ticket.site_id, at=ticket.sold_at or ticket.at,
        )


async def table_settled(tx: Tx, settled: TableSettled) -> None:
    if settled.customer_id is not None:
        await earning.visit(
            tx, company_id=settled.company_id, consumer_id=settled.customer_id,
            key=ledger.table_key(settled.session_id), origin=ledger.table_key(settled.session_id),
            spent=settled.amount, at=settled.at, site_id=settled.site_id,
        )


async def brew_finished(tx: Tx, brew: BrewFinished) -> None:
    if brew.outcome == "served" and not brew.refunded and brew.consumer_id is not None:
        await earning.visit(
            tx, company_id=brew.company_id, consumer_id=brew.consumer_id,
            key=ledger.brew_key(brew.brew_id), origin=ledger.brew_key(brew.brew_id),
            spent=brew.price, at=brew.at, site_id=brew.site_id,
        )


def register() -> None:
    subscribe(TicketRecorded, SUBSCRIBER, ticket_recorded)
    subscribe(TableSettled, SUBSCRIBER, table_settled)
    subscribe(BrewFinished, SUBSCRIBER, brew_finished)
