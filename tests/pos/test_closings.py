"""Closings against hand-computed days: the Z (training excluded, refunds and voids net,
cash counted against expected), refused on a gap or unsynced sales, closed periods that take
no record, monthly and yearly grand totals, each closing signed and chained."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from accounts.models import Site
from pos import chain, closings
from pos.closings import CloseDay, CloseMonth, CloseYear, close_day, close_month, close_year
from pos.corrections import (
    Duplicate,
    Refund,
    RefundLine,
    Void,
    record_duplicate,
    record_refund,
    record_void,
)
from pos.errors import (
    AlreadyClosed,
    NoTill,
    PeriodClosed,
    PeriodNotOver,
    PeriodsOpen,
    SalesWaiting,
    SequenceGap,
)
from pos.keys import public_key_pem
from pos.models import ChainLink, Closing
from pos.records import Method, PaymentInput
from pos.signing import verify
from pos.vat import INTERMEDIATE, REDUCED, STANDARD, Line
from tests.pos.conftest import BOX, COFFEE, Clock, Shop

pytestmark = pytest.mark.asyncio

MARCH_10 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Paris


async def hand_computed_day(shop: Shop) -> None:
    """Three sales, a refund, a void, a duplicate and a training sale (see the Z below)."""
    a = await shop.sell(Line("Café", 2, 150, INTERMEDIATE),
                        Line("Croissant", 1, 120, REDUCED, discount=20), cash=500)
    b = await shop.sell(Line("Bière", 2, 400, STANDARD), card=800)
    c = await shop.sell(Line("Menu", 1, 1250, INTERMEDIATE), till=1, card=600, cash=1000)
    approved = {"supervisor_id": shop.supervisor_id}
    await shop.run(lambda tx: record_refund(tx, Refund(
        shop.origin(**approved), uuid.UUID(b.ticket.uuid), [RefundLine(1, 1)],
        [PaymentInput(Method.CASH, 400)], "tiède")))
    await shop.run(lambda tx: record_void(tx, Void(
        shop.origin(**approved), uuid.UUID(a.ticket.uuid), "erreur de saisie")))
    await shop.run(lambda tx: record_duplicate(tx, Duplicate(
        shop.origin(1), uuid.UUID(c.ticket.uuid))))
    await shop.sell(Line("Champagne", 1, 1000, STANDARD), training=True,
                    supervisor_id=shop.supervisor_id)


async def z(shop: Shop, day: date, counted: int = 0) -> Closing:
    return await shop.run(lambda tx: close_day(tx, BOX, CloseDay(
        uuid.uuid4(), shop.company_id, shop.site_id, day, shop.supervisor_id, counted)))


def body(closing: Closing) -> dict[str, Any]:
    return json.loads(closing.body)  # type: ignore[no-any-return]


async def test_a_z_matches_the_hand_computed_day(shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    await hand_computed_day(shop)
    closing = await z(shop, date(2026, 3, 10), counted=240)
    report = body(closing)["report"]
    assert report["tickets"] == 3
    assert report["sales"] == {"count": 3, "total_incl": 2450}
    assert report["refunds"] == {"count": 1, "total_incl": -400}
    assert report["voids"] == {"count": 1, "total_incl": -400}
    assert report["duplicates"] == 1
    assert report["discounts"] == 20
    assert (report["total_incl"], report["total_excl"], report["total_vat"]) == (1650, 1470, 180)
    assert report["by_method"] == [{"method": "card", "amount": 1400},
                                   {"method": "cash", "amount": 250}]
    assert report["by_rate"] == [
        {"vat_rate": REDUCED, "total_excl": 0, "total_vat": 0, "total_incl": 0},
        {"vat_rate": INTERMEDIATE, "total_excl": 1136, "total_vat": 114, "total_incl": 1250},
        {"vat_rate": STANDARD, "total_excl": 334, "total_vat": 66, "total_incl": 400},
    ]
    assert report["tills"] == [
        {"till": "T1", "first": "T1-000001", "last": "T1-000004", "records": 4},
        {"till": "T2", "first": "T2-000001", "last": "T2-000002", "records": 2},
    ]
    assert report["cash"] == {"expected": 250, "counted": 240, "difference": -10}
    assert body(closing)["grand_total"] == {
        "period": 1650, "perpetual": 1650, "perpetual_absolute": 3250}


async def test_a_closing_is_signed_and_enters_every_till_chain(shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    await shop.sell(COFFEE)
    closing = await z(shop, date(2026, 3, 10))
    async with shop.db.sessionmaker() as session:
        pem = await public_key_pem(session, shop.company_id)
        links = (await session.scalars(select(ChainLink).where(
            ChainLink.closing_id == closing.id).order_by(ChainLink.till_id))).all()
    assert pem is not None and pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert verify(pem, chain.canonical(body(closing)), closing.signature)
    assert not verify(pem, closing.body.replace("1650", "1651").encode() + b" ",
                      closing.signature)
    assert [(link.till_id, link.position) for link in links] == [
        (shop.till_ids[0], 2), (shop.till_ids[1], 1)]
    heads = body(closing)["chains"]
    assert heads[1] == {"till_id": shop.till_ids[1], "till": "T2", "position": 0,
                        "hash": chain.GENESIS}


async def test_a_closed_day_takes_no_new_record_and_closes_once(shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    await shop.sell(COFFEE)
    await z(shop, date(2026, 3, 10))
    with pytest.raises(PeriodClosed):
        await shop.sell(COFFEE)
    with pytest.raises(AlreadyClosed):
        await z(shop, date(2026, 3, 10))
    with pytest.raises(PeriodNotOver):
        await z(shop, date(2026, 3, 11))
    clock_at.at = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)
    assert (await shop.sell(COFFEE)).number == "T1-000002"


async def test_a_z_is_refused_while_a_till_misses_numbers_or_holds_unsynced_sales(
    shop: Shop, clock_at: Clock, monkeypatch: pytest.MonkeyPatch,
):
    clock_at.at = MARCH_10
    await shop.sell(COFFEE, till=1)
    await shop.sell(COFFEE, till=1, sequence=4)
    with pytest.raises(SequenceGap) as gap:
        await z(shop, date(2026, 3, 10))
    assert gap.value.params == {"till": "T2", "numbers": "2, 3"}
    await shop.sell(COFFEE, till=1, sequence=2)
    await shop.sell(COFFEE, till=1, sequence=3)

    async def waiting(_session: object, till: Any, _day: date) -> closings.TillSync:
        return closings.TillSync.WAITING if till.prefix == "T1" else closings.TillSync.IN

    monkeypatch.setattr(closings, "_pending", waiting)
    with pytest.raises(SalesWaiting) as held:
        await z(shop, date(2026, 3, 10))
    assert held.value.params == {"till": "T1"}
    monkeypatch.setattr(closings, "_pending", closings._none_pending)
    assert body(await z(shop, date(2026, 3, 10)))["report"]["tickets"] == 4


async def test_month_and_year_closings_carry_their_grand_totals(shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    await hand_computed_day(shop)
    await z(shop, date(2026, 3, 10), counted=250)
    clock_at.at = datetime(2026, 3, 11, 17, 0, tzinfo=UTC)
    await shop.sell(Line("Café", 4, 150, INTERMEDIATE), card=600)

    def month() -> CloseMonth:
        return CloseMonth(uuid.uuid4(), shop.company_id, shop.site_id, 2026, 3,
                          shop.supervisor_id)

    with pytest.raises(PeriodNotOver):
        await shop.run(lambda tx: close_month(tx, BOX, month()))
    clock_at.at = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(PeriodsOpen) as still_open:
        await shop.run(lambda tx: close_month(tx, BOX, month()))
    assert still_open.value.params == {"periods": "2026-03-11"}
    day_two = await z(shop, date(2026, 3, 11))
    assert body(day_two)["grand_total"] == {
        "period": 600, "perpetual": 2250, "perpetual_absolute": 3850}
    march = await shop.run(lambda tx: close_month(tx, BOX, month()))
    assert body(march)["report"]["total_incl"] == 2250
    assert body(march)["report"]["tickets"] == 4
    assert body(march)["grand_total"] == {
        "period": 2250, "perpetual": 2250, "perpetual_absolute": 3850}
    clock_at.at = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)
    with pytest.raises(PeriodClosed):
        await shop.sell(COFFEE)
    clock_at.at = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(AlreadyClosed):  # a day of a closed month, even without records
        await z(shop, date(2026, 3, 25))
    clock_at.at = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
    await shop.sell(COFFEE, card=150)
    await z(shop, date(2026, 4, 2))
    year = CloseYear(uuid.uuid4(), shop.company_id, shop.site_id, 2026, shop.supervisor_id)
    clock_at.at = datetime(2027, 1, 2, 8, 0, tzinfo=UTC)
    with pytest.raises(PeriodsOpen) as months_open:
        await shop.run(lambda tx: close_year(tx, BOX, year))
    assert months_open.value.params == {"periods": "2026-04"}
    await shop.run(lambda tx: close_month(tx, BOX, CloseMonth(
        uuid.uuid4(), shop.company_id, shop.site_id, 2026, 4, shop.supervisor_id)))
    closed = await shop.run(lambda tx: close_year(tx, BOX, year))
    again = await shop.run(lambda tx: close_year(tx, BOX, year))
    assert again.id == closed.id
    assert body(closed)["report"]["total_incl"] == 2400
    assert body(closed)["grand_total"] == {
        "period": 2400, "perpetual": 2400, "perpetual_absolute": 4000}


async def test_a_site_without_a_till_has_nothing_to_close(shop: Shop, clock_at: Clock):
    clock_at.at = MARCH_10
    async with shop.db.sessionmaker() as session, session.begin():
        empty = Site(company_id=shop.company_id, name="La Terrasse")
        session.add(empty)
        await session.flush()
        empty_id = empty.id
    with pytest.raises(NoTill):
        await shop.run(lambda tx: close_day(tx, BOX, CloseDay(
            uuid.uuid4(), shop.company_id, empty_id, date(2026, 3, 10), shop.supervisor_id,
            0)))
