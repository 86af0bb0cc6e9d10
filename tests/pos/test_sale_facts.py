"""What a till's ticket tells the dashboards (TicketRecorded): its lines with their product and
category, its payments, and the till's own time of the sale; a refund or a void tells the
same products, negative; on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from domain.events import DomainEvent, PaidPart, SoldLine, TicketRecorded
from domain.models import OutboxEvent
from ordering.models import Product
from pos.corrections import Refund, RefundLine, Void, record_refund, record_void
from pos.records import Method, PaymentInput
from tests.pos.conftest import Clock, Shop
from tests.pos.test_till_sync import hooked, menu, pair, sale, upload

__all__ = ["hooked"]  # the sync's fixture, used here as there
RECORDED = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


async def tickets_told(shop: Shop) -> list[TicketRecorded]:
    async with shop.db.sessionmaker() as session:
        rows = (await session.execute(select(OutboxEvent.name, OutboxEvent.payload).where(
            OutboxEvent.name == TicketRecorded.name).order_by(OutboxEvent.recorded_at))).all()
    found: list[DomainEvent] = [DomainEvent.parse(name, payload) for name, payload in rows]
    return [event for event in found if isinstance(event, TicketRecorded)]


async def test_a_synced_sale_its_refund_and_a_void_tell_their_products(
    shop: Shop, clock_at: Clock
) -> None:
    clock_at.at = RECORDED
    coffee = await menu(shop)
    async with shop.db.sessionmaker() as session:
        product = await session.get(Product, coffee)
        assert product is not None
        category = product.category_id
    await pair(shop)
    sold = sale(shop, coffee, 1, quantity=3)  # made offline at 08:00, synced at 09:30
    await upload(shop, sold, sale(shop, coffee, 2))
    refund = Refund(shop.origin(supervisor_id=shop.supervisor_id), sold.uuid, [RefundLine(1, 1)],
                    [PaymentInput(Method.CASH, 150)], "renversé")
    await shop.run(lambda tx: record_refund(tx, refund))
    second = (await tickets_told(shop))[1]
    void = Void(shop.origin(supervisor_id=shop.supervisor_id), second.ticket_uuid, "erreur")
    await shop.run(lambda tx: record_void(tx, void))

    first, second, refunded, voided = await tickets_told(shop)
    assert first.lines == [SoldLine(product_id=coffee, category_id=category, name="Café",
                                    quantity=3, amount=450)]
    assert first.payments == [PaidPart(method="cash", amount=450)]
    assert first.sold_at == datetime(2026, 3, 10, 8, 0, tzinfo=UTC) and first.at > first.sold_at
    assert (refunded.kind, refunded.total) == ("refund", -150)
    assert refunded.lines == [SoldLine(product_id=coffee, category_id=category, name="Café",
                                       quantity=-1, amount=-150)]
    assert refunded.payments == [PaidPart(method="cash", amount=-150)]
    assert refunded.sold_at == RECORDED  # recorded online: the server's time
    assert (voided.kind, [line.product_id for line in voided.lines]) == ("void", [coffee])
    assert voided.lines[0].quantity == -1 and voided.payments == [
        PaidPart(method="cash", amount=-150)]
    assert uuid.UUID(str(voided.ticket_uuid))
