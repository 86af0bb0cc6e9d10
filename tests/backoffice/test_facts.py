"""What each domain event adds to the statistics (backoffice/facts.py): pure, no database."""

from __future__ import annotations

from datetime import timedelta

from backoffice.facts import (
    PTYPES,
    Increment,
    aggregate,
    buckets,
    facts,
    increments,
    method_id,
    ptype_id,
)
from domain.events import PaidPart
from machines.recipes import TYPES
from tests.backoffice.stat_events import (
    PARIS,
    bill,
    brew,
    freed,
    line,
    submitted,
    ticket,
    topup,
    utc,
)


def totals(event: object) -> list[Increment]:
    return [i for i in increments(event) if i.dim_kind == ""]  # type: ignore[arg-type]


def test_a_sale_counts_one_ticket_its_money_by_method_product_and_category() -> None:
    sale = ticket(utc("2026-06-01 10:00"), 1250,
                  lines=[line(11, 1, 2, 700), line(12, 1, 1, 300), line(11, 1, 1, 250)],
                  payments=[PaidPart(method="cash", amount=1000),
                            PaidPart(method="card", amount=250)])
    found = increments(sale)
    assert Increment(1, "sales", count=1, quantity=4, amount=1250) in found
    assert Increment(1, "sales", "method", method_id("cash"), count=1, amount=1000) in found
    assert Increment(1, "sales", "method", method_id("card"), count=1, amount=250) in found
    assert Increment(1, "sales", "product", 11, count=1, quantity=3, amount=950) in found
    assert Increment(1, "sales", "product", 12, count=1, quantity=1, amount=300) in found
    assert Increment(1, "sales", "category", 1, count=1, quantity=4, amount=1250) in found
    assert len(found) == 6


def test_a_void_takes_its_ticket_back_and_a_refund_only_the_money() -> None:
    at = utc("2026-06-01 10:00")
    assert totals(ticket(at, -500, kind="void")) == [
        Increment(1, "sales", count=-1, quantity=-1, amount=-500)]
    assert totals(ticket(at, -300, kind="refund")) == [
        Increment(1, "sales", count=0, quantity=-1, amount=-300)]


def test_training_tickets_duplicates_and_bills_paid_by_a_ticket_count_nothing() -> None:
    at = utc("2026-06-01 10:00")
    assert increments(ticket(at, 500, training=True)) == []
    assert increments(ticket(at, 0, kind="duplicate", lines=[], payments=[])) == []
    assert increments(bill(at, 500, at_till=True)) == []  # its ticket counts the money


def test_a_ticket_counts_when_the_till_sold_it_never_after_it_was_recorded() -> None:
    offline = ticket(utc("2026-06-02 08:00"), 500, sold_at=utc("2026-06-01 21:30"))
    assert {f.bucket for f in facts(offline, PARIS)} == {"2026-06-01T23", "2026-06-01",
                                                          "2026-06", "2026-06/1/23"}
    ahead = ticket(utc("2026-06-02 08:00"), 500, sold_at=utc("2026-06-03 08:00"))
    assert {f.bucket for f in facts(ahead, PARIS)} == {"2026-06-02T10", "2026-06-02",
                                                        "2026-06", "2026-06/2/10"}


def test_a_table_bill_counts_its_parts_or_its_last_method() -> None:
    at = utc("2026-06-01 20:00")
    split = bill(at, 4000, payments=[PaidPart(method="online", amount=1500),
                                     PaidPart(method="card", amount=2500)])
    assert Increment(1, "tables", "method", method_id("online"), count=1, amount=1500) \
        in increments(split)
    whole = bill(at, 4000, method="card", payments=[])
    assert Increment(1, "tables", "method", method_id("card"), count=1, amount=4000) \
        in increments(whole)
    assert totals(whole) == [Increment(1, "tables", count=1, quantity=1, amount=4000)]


def test_a_brew_counts_when_served_charged_only_when_paid_and_kept() -> None:
    at = utc("2026-06-01 09:00")
    assert totals(brew(at, 120)) == [Increment(1, "brews", count=1, quantity=1, amount=120)]
    assert totals(brew(at, 120, charge="none")) == [
        Increment(1, "brews", count=1, quantity=1, amount=0)]
    assert totals(brew(at, 120, refunded=True)) == [
        Increment(1, "brews", count=1, quantity=1, amount=0)]
    assert increments(brew(at, 120, outcome="failed", refunded=True)) == []
    kinds = {(i.dim_kind, i.dim_id) for i in increments(brew(at, 120, charge="payment"))}
    assert kinds == {("", 0), ("machine", 1), ("product", 3), ("ptype", ptype_id("espresso")),
                     ("consumer", 7), ("group", 2), ("selection", 4),
                     ("method", method_id("online"))}
    assert ("method", method_id("online")) not in {
        (i.dim_kind, i.dim_id) for i in increments(brew(at, 120, charge="none"))}


def test_every_drink_type_has_a_stable_id() -> None:
    assert set(TYPES) <= set(PTYPES)
    assert ptype_id("espresso") == 2 and ptype_id("a new one") == 0


def test_rounds_turns_and_topups() -> None:
    at = utc("2026-06-01 12:00")
    assert increments(submitted(at, 2300)) == [Increment(1, "rounds", count=1, amount=2300)]
    assert increments(freed(at, 45)) == [Increment(1, "turns", count=1, seconds=2700)]
    assert increments(freed(at, 45, settled=False)) == []  # idled empty: not a table's turn
    assert totals(topup(at, 2000)) == [Increment(0, "topups", count=1, amount=2000)]
    assert totals(topup(at, 2000, refunded=True)) == [
        Increment(0, "topups", count=-1, amount=-2000)]


def test_buckets_are_local_hours_days_and_months_across_daylight_saving() -> None:
    # 2026-10-25: Paris goes from UTC+2 back to UTC+1 at 03:00 local (01:00 UTC).
    assert buckets(utc("2026-10-24 23:59"), PARIS) == ("2026-10-25T01", "2026-10-25", "2026-10")
    assert buckets(utc("2026-10-25 00:30"), PARIS)[0] == "2026-10-25T02"  # the first 02:30
    assert buckets(utc("2026-10-25 01:30"), PARIS)[0] == "2026-10-25T02"  # the second
    assert buckets(utc("2026-10-25 02:30"), PARIS)[0] == "2026-10-25T03"
    # 2026-03-29: from UTC+1 to UTC+2 at 02:00 local: 01:59 is followed by 03:00.
    assert buckets(utc("2026-03-29 00:59"), PARIS)[0] == "2026-03-29T01"
    assert buckets(utc("2026-03-29 01:00"), PARIS)[0] == "2026-03-29T03"
    # Midnight of the first of a month, local, is still the month before in UTC.
    assert buckets(utc("2026-10-31 23:30"), PARIS) == ("2026-11-01T00", "2026-11-01", "2026-11")
    assert buckets(utc("2026-10-31 23:30"), "UTC") == ("2026-10-31T23", "2026-10-31", "2026-10")


def test_facts_place_every_increment_in_each_grain_and_add_up_by_row() -> None:
    at = utc("2026-06-01 10:15")
    two = [*facts(ticket(at, 500), PARIS), *facts(ticket(at + timedelta(minutes=5), 700), PARIS)]
    rows = aggregate(two)
    assert rows[(1, "hour", "2026-06-01T12", 1, "sales", "", 0)] == (2, 2, 1200, 0)
    assert rows[(1, "day", "2026-06-01", 1, "sales", "", 0)] == (2, 2, 1200, 0)
    assert rows[(1, "month", "2026-06", 1, "sales", "", 0)] == (2, 2, 1200, 0)
    assert facts(ticket(at, 500, training=True), PARIS) == []
    hourly = {f.increment.dim_kind for f in facts(brew(at, 120), PARIS) if f.grain == "hour"}
    assert hourly == {"", "machine", "method"}  # consumers, products…: by day and month
