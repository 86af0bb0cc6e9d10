"""Recording tickets: numbers without gaps under concurrency, retries by UUID, corrections
of opposite sign, duplicates, training, and a database that refuses to change a record."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from accounts.models import Company, Staff
from domain.models import OutboxEvent
from pos import chain
from pos.archives import keep_year
from pos.closings import CloseDay, close_day
from pos.corrections import (
    Duplicate,
    Refund,
    RefundLine,
    Void,
    record_duplicate,
    record_refund,
    record_void,
)
from pos.errors import BadTicket, SequenceTaken
from pos.loading import till_chain
from pos.models import APPEND_ONLY, ChainLink, Ticket
from pos.records import Method, PaymentInput, Sale, record_sale
from pos.vat import INTERMEDIATE, REDUCED, STANDARD, Line
from tests.pos.conftest import BOX, COFFEE, Clock, Shop

pytestmark = pytest.mark.asyncio


async def test_a_sale_is_numbered_by_its_till_and_carries_its_vat_per_rate(shop: Shop):
    first = await shop.sell(COFFEE)
    sale = await shop.sell(Line("Café", 2, 150, INTERMEDIATE), Line("Bière", 1, 400, STANDARD),
                           Line("Sandwich", 1, 395, REDUCED), cash=2000)
    assert (first.number, sale.number) == ("T1-000001", "T1-000002")
    assert sale.ticket.total_incl == 1095
    assert [(t.vat_rate, t.total_excl, t.total_vat) for t in sale.taxes] == [
        (REDUCED, 374, 21), (INTERMEDIATE, 273, 27), (STANDARD, 333, 67)]
    assert sum(line.total_excl for line in sale.lines) == sale.ticket.total_excl == 980
    [cash] = sale.payments
    assert (cash.method, cash.amount, cash.tendered, cash.change) == ("cash", 1095, 2000, 905)
    other_till = await shop.sell(COFFEE, till=1)
    assert other_till.number == "T2-000001"


async def test_many_concurrent_sales_on_one_till_leave_no_gap_no_double_and_a_whole_chain(
    shop: Shop,
):
    results = await asyncio.gather(*(shop.sell(COFFEE) for _ in range(24)))
    assert sorted(r.ticket.sequence for r in results) == list(range(1, 25))
    async with shop.db.sessionmaker() as session:
        links = (await session.scalars(select(ChainLink).where(
            ChainLink.till_id == shop.till_ids[0]).order_by(ChainLink.position))).all()
    assert [link.position for link in links] == list(range(1, 25))
    previous = chain.GENESIS
    for link in links:
        assert link.previous_hash == previous
        previous = link.hash


async def test_a_retry_with_the_same_uuid_returns_the_first_record(shop: Shop):
    key = uuid.uuid4()
    sale = Sale(shop.origin(uuid=key), [COFFEE], [PaymentInput(Method.CARD, 150)])
    attempts = await asyncio.gather(*(shop.run(lambda tx: record_sale(tx, sale))
                                      for _ in range(5)))
    assert {a.ticket.id for a in attempts} == {attempts[0].ticket.id}
    assert sorted(a.first for a in attempts) == [False, False, False, False, True]
    async with shop.db.sessionmaker() as session:
        assert len((await session.scalars(select(Ticket))).all()) == 1


async def test_a_number_given_by_the_till_is_kept_and_never_given_twice(shop: Shop):
    nine = await shop.sell(COFFEE, sequence=9)
    assert nine.number == "T1-000009"
    with pytest.raises(SequenceTaken):
        await shop.sell(COFFEE, sequence=9)
    assert (await shop.sell(COFFEE)).number == "T1-000010"


async def test_payments_must_add_up_and_cash_gives_change(shop: Shop):
    short = Sale(shop.origin(), [COFFEE], [PaymentInput(Method.CARD, 100)])
    with pytest.raises(BadTicket):
        await shop.run(lambda tx: record_sale(tx, short))
    split = await shop.sell(Line("Menu", 1, 1250, INTERMEDIATE), card=600, cash=1000)
    assert [(p.method, p.amount, p.change) for p in split.payments] == [
        ("card", 600, 0), ("cash", 650, 350)]


async def test_refunds_and_voids_are_new_records_of_opposite_sign_naming_the_sale(shop: Shop):
    sale = await shop.sell(Line("Café", 3, 155, INTERMEDIATE), Line("Tarte", 1, 450, REDUCED))
    origin = shop.origin(supervisor_id=shop.supervisor_id)
    refund = await shop.run(lambda tx: record_refund(tx, Refund(
        origin, uuid.UUID(sale.ticket.uuid), [RefundLine(1, 1)],
        [PaymentInput(Method.CASH, 155)], "froid")))
    assert refund.ticket.kind == "refund" and refund.corrects_number == sale.number
    assert refund.ticket.total_incl == -155
    assert refund.payments[0].amount == -155
    rest = await shop.run(lambda tx: record_refund(tx, Refund(
        shop.origin(supervisor_id=shop.supervisor_id), uuid.UUID(sale.ticket.uuid),
        [RefundLine(1, 2), RefundLine(2, 1)], [PaymentInput(Method.CASH, 760)], "tout")))
    assert rest.ticket.total_incl == -760
    with pytest.raises(BadTicket):  # nothing left to give back
        await shop.run(lambda tx: record_refund(tx, Refund(
            shop.origin(supervisor_id=shop.supervisor_id), uuid.UUID(sale.ticket.uuid),
            [RefundLine(2, 1)], [PaymentInput(Method.CASH, 450)], "encore")))
    other = await shop.sell(COFFEE, card=150)
    void = await shop.run(lambda tx: record_void(tx, Void(
        shop.origin(supervisor_id=shop.supervisor_id), uuid.UUID(other.ticket.uuid), "erreur")))
    assert void.ticket.total_incl == -150
    assert [(p.method, p.amount) for p in void.payments] == [("card", -150)]


async def test_only_the_company_s_active_staff_record_or_supervise(shop: Shop):
    async with shop.db.sessionmaker() as session, session.begin():
        other = Company(name="Ailleurs")
        session.add(other)
        await session.flush()
        stranger = Staff(company_id=other.id, email="x@ailleurs.test", name="X",
                         password_hash="x", role="supervisor")
        session.add(stranger)
        await session.flush()
        stranger_id = stranger.id
    with pytest.raises(BadTicket):
        await shop.sell(COFFEE, training=True, supervisor_id=stranger_id)
    async with shop.db.sessionmaker() as session, session.begin():
        cashier = await session.get(Staff, shop.cashier_id)
        assert cashier is not None
        cashier.active = False
    with pytest.raises(BadTicket):
        await shop.sell(COFFEE)


async def test_a_correction_needs_its_supervisor(shop: Shop):
    sale = await shop.sell(COFFEE)
    with pytest.raises(BadTicket):
        await shop.run(lambda tx: record_void(tx, Void(
            shop.origin(), uuid.UUID(sale.ticket.uuid), "erreur")))


async def test_a_reprint_is_a_numbered_duplicate(shop: Shop):
    sale = await shop.sell(COFFEE)
    copies = [await shop.run(lambda tx: record_duplicate(tx, Duplicate(
        shop.origin(), uuid.UUID(sale.ticket.uuid)))) for _ in range(2)]
    assert [c.ticket.duplicate_number for c in copies] == [1, 2]
    assert [c.number for c in copies] == ["T1-000002", "T1-000003"]
    assert all(c.ticket.total_incl == 0 and not c.lines for c in copies)


async def test_training_names_its_supervisor_and_is_told_as_training(shop: Shop):
    with pytest.raises(BadTicket):
        await shop.sell(COFFEE, training=True)
    practice = await shop.sell(COFFEE, training=True, supervisor_id=shop.supervisor_id)
    assert practice.ticket.training
    async with shop.db.sessionmaker() as session:
        events = (await session.scalars(select(OutboxEvent).where(
            OutboxEvent.name == "ticket.recorded"))).all()
    assert len(events) == 1 and '"training":true' in events[0].payload


async def test_each_link_hashes_the_previous_hash_and_the_ticket_s_legal_fields(shop: Shop):
    first = await shop.sell(COFFEE)
    await shop.sell(Line("Bière", 2, 400, STANDARD), card=800)
    async with shop.db.sessionmaker() as session:
        chained = await till_chain(session, shop.till_ids[0])
    one, two = (item.entry for item in chained)
    assert one.previous_hash == chain.GENESIS and two.previous_hash == one.hash
    assert two.hash == hashlib.sha256(one.hash.encode() + chain.canonical(two.fields)).hexdigest()
    record = one.fields["record"]
    assert (record["uuid"], record["sequence"], record["total_incl"]) == (
        first.ticket.uuid, 1, 150)
    assert record["lines"][0]["label"] == "Café" and record["payments"][0]["method"] == "cash"


@pytest.mark.parametrize("verb", ["UPDATE", "DELETE"])
async def test_the_database_refuses_to_change_or_delete_any_record(
    shop: Shop, verb: str, clock_at: Clock,
):
    clock_at.at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    sale = await shop.sell(COFFEE)
    await shop.run(lambda tx: close_day(tx, BOX, CloseDay(
        uuid.uuid4(), shop.company_id, shop.site_id, date(2026, 3, 10), shop.supervisor_id,
        150)))
    await shop.run(lambda tx: keep_year(tx, BOX, shop.company_id, 2026))
    assert set(APPEND_ONLY) == {
        "pos_ticket", "pos_ticket_line", "pos_ticket_tax", "pos_ticket_payment",
        "pos_closing", "pos_chain_link", "pos_journal", "pos_signing_key", "pos_archive"}
    for table in APPEND_ONLY:
        column = "ticket_id" if table == "pos_ticket_tax" else "id"
        statement = (f"UPDATE {table} SET {column} = {column}" if verb == "UPDATE"
                     else f"DELETE FROM {table}")
        with pytest.raises((DBAPIError, IntegrityError)) as refused:
            async with shop.db.sessionmaker() as session, session.begin():
                await session.execute(text(statement))
        assert "never updated nor deleted" in str(refused.value), table
    async with shop.db.sessionmaker() as session:
        for table in APPEND_ONLY:
            assert await session.scalar(text(f"SELECT count(*) FROM {table}")), table
        assert (await session.get(Ticket, sale.ticket.id)) is not None
