"""Tills and the technical journal: prefixes, revocation, the X report journalled, a
tampered journal found, refusals said in French, corrections safe under concurrency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from pos.closings import x_report
from pos.corrections import Refund, RefundLine, record_refund
from pos.errors import BadPrefix, BadTicket, PrefixTaken, TillRevoked
from pos.models import JournalEntry, Ticket
from pos.records import Method, PaymentInput
from pos.tills import NewTill, create_till, revoke_till
from pos.vat import INTERMEDIATE, Line
from tests.pos.conftest import COFFEE, Clock, Shop
from tests.pos.test_verification import mismatches, tampering
from web.errors import error_body

pytestmark = pytest.mark.asyncio


async def test_a_till_prefix_is_short_capitals_and_unique_in_the_company(shop: Shop):
    with pytest.raises(BadPrefix):
        await shop.run(lambda tx: create_till(tx, NewTill(
            shop.company_id, shop.site_id, "T 3", "x", shop.supervisor_id)))
    with pytest.raises(PrefixTaken):
        await shop.run(lambda tx: create_till(tx, NewTill(
            shop.company_id, shop.site_id, "t2", "x", shop.supervisor_id)))


async def test_a_revoked_till_records_nothing_more_and_the_journal_says_so(shop: Shop):
    await shop.sell(COFFEE)
    await shop.run(lambda tx: revoke_till(tx, shop.company_id, shop.till_ids[0],
                                          shop.supervisor_id))
    with pytest.raises(TillRevoked):
        await shop.sell(COFFEE)
    async with shop.db.sessionmaker() as session:
        kinds = (await session.scalars(select(JournalEntry.kind).order_by(
            JournalEntry.position))).all()
    assert kinds == ["config_changed", "config_changed", "till_revoked"]


async def test_an_x_report_is_no_record_but_is_journalled(shop: Shop, clock_at: Clock):
    clock_at.at = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    await shop.sell(COFFEE)
    await shop.sell(COFFEE, training=True, supervisor_id=shop.supervisor_id)
    report = await shop.run(lambda tx: x_report(tx, shop.company_id, shop.site_id,
                                                shop.cashier_id))
    assert (report["day"], report["tickets"], report["total_incl"]) == ("2026-03-10", 1, 150)
    async with shop.db.sessionmaker() as session:
        last = await session.scalar(select(JournalEntry).order_by(
            JournalEntry.position.desc()).limit(1))
    assert last is not None and last.kind == "x_report" and last.staff_id == shop.cashier_id


async def test_a_tampered_journal_entry_is_named(shop: Shop):
    async with tampering(shop.db, "pos_journal") as session:
        await session.execute(text("UPDATE pos_journal SET detail = '{}' WHERE position = 2"))
    assert await mismatches(shop.db) == [
        f"company {shop.company_id}, journal, position 2 (journal entry 2): "
        "its content does not match its hash"]


async def test_a_refused_ticket_says_why_in_french():
    body = error_body(BadTicket(why="cash tendered covers its amount"), "fr")
    assert body["error"]["message"] == (
        "Ce ticket ne peut pas être enregistré\u00a0: les espèces remises couvrent leur "
        "montant.")


async def test_two_tills_refunding_the_last_coffee_at_once_refund_it_once(shop: Shop):
    sale = await shop.sell(Line("Café", 1, 150, INTERMEDIATE))

    def refund(till: int) -> Refund:
        return Refund(shop.origin(till, supervisor_id=shop.supervisor_id),
                      uuid.UUID(sale.ticket.uuid), [RefundLine(1, 1)],
                      [PaymentInput(Method.CASH, 150)], "froid")

    outcomes = await asyncio.gather(
        *(shop.run(lambda tx, t=till: record_refund(tx, refund(t)))  # type: ignore[misc]
          for till in (0, 1, 0, 1)),
        return_exceptions=True)
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, BadTicket) for o in outcomes if isinstance(o, BaseException))
    async with shop.db.sessionmaker() as session:
        refunds = (await session.scalars(select(Ticket).where(Ticket.kind == "refund"))).all()
    assert len(refunds) == 1
