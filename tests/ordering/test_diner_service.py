"""What diners do at a table, through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from errors import Forbidden
from ordering import cart_service, diner_service, pin, pin_alerts, staff_service
from ordering.cart import Limits
from ordering.diner_service import PinRejected, TableAccess
from ordering.errors import (
    BadName,
    BadQuantity,
    CartFull,
    EmptyCart,
    NotYourLine,
    PinLocked,
    PinRequired,
    PinSlowed,
    SessionEnded,
    TableLocked,
    UnknownLine,
    UnknownProduct,
    UnknownTable,
)
from ordering.models import Member, OrderLine, TableSession
from ordering.table_lock import Access
from tests.ordering.conftest import Cafe, assert_versions_consecutive, topics
from web.models import RateLimit


def key() -> str:
    return uuid.uuid4().hex


async def test_start_issues_a_pin_and_makes_a_member(cafe: Cafe) -> None:
    table = cafe.tables[0]
    pos = f"site:{cafe.venue.site_id}:pos"
    before = await cafe.access(table, "device-lea")
    assert before.access is Access.START and before.session is None

    opened = await cafe.start(table, "device-lea", "  Léa ")
    assert opened.access is Access.MEMBER
    assert opened.session is not None and opened.member is not None
    assert len(opened.session.pin) == 6 and opened.session.pin.isdigit()
    assert opened.member.name == "Léa"
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "session.opened"), (pos, "session.opened"),
    ]
    view = await cafe.view(table)
    assert view["table"]["state"] == "ordering"
    assert [m["name"] for m in view["session"]["members"]] == ["Léa"]

    # Starting again from the same phone is a retry: same session, nothing emitted.
    again = await cafe.start(table, "device-lea", "Léa")
    assert again.access is Access.MEMBER and again.session is not None
    assert again.session.id == opened.session.id and again.session.pin == opened.session.pin
    assert cafe.last_events == []
    await assert_versions_consecutive(cafe)


async def test_start_refuses_bad_names_and_unknown_tables(cafe: Cafe) -> None:
    with pytest.raises(BadName):
        await cafe.start(cafe.tables[0], "device-lea", "   ")
    with pytest.raises(UnknownTable):
        await cafe.run(
            lambda tx: diner_service.start(tx, cafe.config, "no-such-table", "device-lea", "Léa")
        )
    assert await cafe.count(select(func.count()).select_from(TableSession)) == 0


async def test_join_with_the_pin(cafe: Cafe) -> None:
    table = cafe.tables[0]
    opened = await cafe.start(table, "device-lea", "Léa")
    assert opened.session is not None

    stranger = await cafe.access(table, "device-tom")
    assert stranger.access is Access.NEED_PIN
    with pytest.raises(PinRequired):
        await cafe.start(table, "device-tom", "Tom")

    joined = await cafe.join(table, "device-tom", "Tom", f" {opened.session.pin} ")
    assert isinstance(joined, TableAccess)
    assert joined.access is Access.MEMBER and joined.member is not None
    assert joined.session is not None and joined.session.id == opened.session.id
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "member.joined"),
        (f"site:{cafe.venue.site_id}:pos", "member.joined"),
    ]
    # Joining again (a retry) changes nothing.
    again = await cafe.join(table, "device-tom", "Tom", opened.session.pin)
    assert isinstance(again, TableAccess) and again.member is not None
    assert again.member.id == joined.member.id and cafe.last_events == []
    view = await cafe.view(table)
    assert [m["name"] for m in view["session"]["members"]] == ["Léa", "Tom"]
    await assert_versions_consecutive(cafe)


async def test_joining_a_free_table_opens_it(cafe: Cafe) -> None:
    joined = await cafe.join(cafe.tables[0], "device-lea", "Léa", "whatever")
    assert isinstance(joined, TableAccess) and joined.access is Access.MEMBER


def wrong_for(right: str) -> str:
    return "000000" if right != "000000" else "111111"


async def tries(cafe: Cafe, scope: str) -> dict[str, int]:
    """The wrong PINs counted under a limit, by subject (a device, a table id)."""
    async with cafe.db.sessionmaker() as session:
        rows = await session.execute(
            select(RateLimit.subject, RateLimit.hits).where(RateLimit.scope == scope)
        )
        return {subject: hits for subject, hits in rows if hits}


async def test_wrong_pins_are_counted_and_lock_the_phone_after_five(cafe: Cafe) -> None:
    table = cafe.tables[0]
    right = await cafe.party(table, "Lea", "Tom")  # Tom's right PIN is not counted
    for attempt in range(5):
        rejected = await cafe.join(table, "device-eve", "Eve", wrong_for(right))
        assert rejected == PinRejected(slowed=False), attempt
        assert cafe.last_events == []
    assert await tries(cafe, pin.DEVICE) == {"device-eve": 5}
    assert await tries(cafe, pin.TABLE) == {str(table.id): 5}
    assert (await cafe.pos())["alerts"] == []

    # Out of tries: even the right PIN is not checked, for ten minutes.
    with pytest.raises(PinLocked) as locked:
        await cafe.join(table, "device-eve", "Eve", right)
    assert 590 <= locked.value.retry_after_s <= 600
    assert locked.value.headers() == {"Retry-After": str(locked.value.retry_after_s)}
    assert await tries(cafe, pin.DEVICE) == {"device-eve": 5}  # a refused try is not kept
    # Another phone is not held up by hers, and members are not affected.
    joined = await cafe.join(table, "device-max", "Max", right)
    assert isinstance(joined, TableAccess) and joined.access is Access.MEMBER
    assert (await cafe.access(table, "device-lea")).access is Access.MEMBER
    await assert_versions_consecutive(cafe)


async def test_ten_wrong_pins_from_several_phones_slow_the_table(cafe: Cafe) -> None:
    table, other = cafe.tables[0], cafe.tables[1]
    right = await cafe.party(table, "Lea")
    other_pin = await cafe.party(other, "Max")
    for number in range(9):
        rejected = await cafe.join(table, f"device-guess-{number}", "X", wrong_for(right))
        assert rejected == PinRejected(slowed=False)
    tenth = await cafe.join(table, "device-guess-9", "X", wrong_for(right))
    assert tenth == PinRejected(slowed=True)
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "pin.slowed"), (f"site:{cafe.venue.site_id}:pos", "pin.slowed"),
    ]
    alerts = (await cafe.pos())["alerts"]
    assert [(a["table_id"], a["kind"], a["failures"]) for a in alerts] == [
        (table.id, "pin_slowed", 10),
    ]

    # Slowed for everyone, the right PIN too: the next try may come in 30 seconds.
    with pytest.raises(PinSlowed) as slowed:
        await cafe.join(table, "device-tom", "Tom", right)
    assert 28 <= slowed.value.retry_after_s <= 30
    # Another table is not slowed by this one's failures.
    joined = await cafe.join(other, "device-tom", "Tom", other_pin)
    assert isinstance(joined, TableAccess) and joined.access is Access.MEMBER
    await assert_versions_consecutive(cafe)


async def test_a_slowed_table_takes_one_try_per_pace(cafe: Cafe) -> None:
    table = cafe.tables[0]
    right = await cafe.party(table, "Lea")
    for number in range(10):
        await cafe.join(table, f"device-guess-{number}", "X", wrong_for(right))
    # Thirty seconds later: one try goes through (a wrong one here), the next waits again.
    async with cafe.db.sessionmaker() as session, session.begin():
        await session.execute(
            update(RateLimit).where(RateLimit.scope == pin.TABLE)
            .values(next_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await cafe.join(table, "device-eve", "Eve", wrong_for(right)) == PinRejected(
        slowed=False
    )
    with pytest.raises(PinSlowed):
        await cafe.join(table, "device-tom", "Tom", right)
    # And thirty seconds after that, the right PIN gets in.
    async with cafe.db.sessionmaker() as session, session.begin():
        await session.execute(
            update(RateLimit).where(RateLimit.scope == pin.TABLE)
            .values(next_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    joined = await cafe.join(table, "device-tom", "Tom", right)
    assert isinstance(joined, TableAccess) and joined.access is Access.MEMBER


async def test_staff_lift_a_slowed_table(cafe: Cafe) -> None:
    table = cafe.tables[0]
    right = await cafe.party(table, "Lea")
    for number in range(10):
        await cafe.join(table, f"device-guess-{number}", "X", wrong_for(right))
    kitchen, cashier = await cafe.staff("kitchen"), await cafe.staff("cashier")
    with pytest.raises(Forbidden):
        await cafe.run(lambda tx: pin_alerts.lift(tx, cafe.config, kitchen, table.id))
    await cafe.run(lambda tx: pin_alerts.lift(tx, cafe.config, cashier, table.id))
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "pin.lifted"), (f"site:{cafe.venue.site_id}:pos", "pin.lifted"),
    ]
    assert (await cafe.pos())["alerts"] == []
    joined = await cafe.join(table, "device-tom", "Tom", right)
    assert isinstance(joined, TableAccess) and joined.access is Access.MEMBER
    # Lifting again changes nothing; each phone keeps its own count.
    await cafe.run(lambda tx: pin_alerts.lift(tx, cafe.config, cashier, table.id))
    assert cafe.last_events == []
    assert len(await tries(cafe, pin.DEVICE)) == 10


async def test_wrong_pins_across_tables_lock_the_phone(cafe: Cafe) -> None:
    pins = [await cafe.party(table, f"Host{n}") for n, table in enumerate(cafe.tables[:6])]
    for table, right in zip(cafe.tables[:5], pins, strict=False):
        assert isinstance(await cafe.join(table, "device-eve", "Eve", wrong_for(right)),
                          PinRejected)
    sixth = cafe.tables[5]
    with pytest.raises(PinLocked):
        await cafe.join(sixth, "device-eve", "Eve", pins[5])
    # Each table saw one failure only: an honest phone still joins.
    joined = await cafe.join(sixth, "device-tom", "Tom", pins[5])
    assert isinstance(joined, TableAccess) and joined.access is Access.MEMBER


async def test_old_pin_failures_stop_counting_after_the_window(cafe: Cafe) -> None:
    table = cafe.tables[0]
    right = await cafe.party(table, "Lea")
    for _ in range(5):
        await cafe.join(table, "device-eve", "Eve", wrong_for(right))
    ended = datetime.now(UTC) - timedelta(seconds=1)
    async with cafe.db.sessionmaker() as session, session.begin():
        await session.execute(update(RateLimit).values(expires_at=ended))
    joined = await cafe.join(table, "device-eve", "Eve", right)
    assert isinstance(joined, TableAccess) and joined.access is Access.MEMBER


async def _settle(cafe: Cafe, table_index: int = 0) -> None:
    table = cafe.tables[table_index]
    await cafe.add(table, "device-lea", "Espresso")
    sent = await cafe.submit(table, "device-lea", key())
    cashier = await cafe.staff("cashier")
    await cafe.validate(cashier, sent.round.id)
    await cafe.run(
        lambda tx: staff_service.settle(tx, cafe.config, cashier, table.id, "card", None, key())
    )


async def test_a_settled_table_locks_newcomers_and_members_see_settled(cafe: Cafe) -> None:
    table = cafe.tables[0]
    right = await cafe.party(table, "Lea", "Tom")
    await _settle(cafe)

    assert (await cafe.access(table, "device-lea")).access is Access.SETTLED
    assert (await cafe.access(table, "device-tom")).access is Access.SETTLED
    assert (await cafe.access(table, "device-eve")).access is Access.LOCKED
    with pytest.raises(TableLocked):
        await cafe.join(table, "device-eve", "Eve", right)  # the PIN stops working
    with pytest.raises(TableLocked):
        await cafe.start(table, "device-eve", "Eve")
    with pytest.raises(SessionEnded):
        await cafe.add(table, "device-lea", "Croissant")
    with pytest.raises(SessionEnded):
        await cafe.submit(table, "device-lea", key())
    assert await tries(cafe, pin.DEVICE) == {}  # the PIN was not even compared


async def test_after_free_old_members_are_strangers_and_the_old_pin_is_dead(
    cafe: Cafe, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = cafe.tables[0]
    issued = iter(["111111", "222222"])
    monkeypatch.setattr(pin, "new_pin", lambda length: next(issued))
    old_pin = await cafe.party(table, "Lea", "Tom")
    assert old_pin == "111111"
    await _settle(cafe)
    cashier = await cafe.staff("cashier")
    await cafe.run(lambda tx: staff_service.free(tx, cafe.config, cashier, table.id))

    assert (await cafe.access(table, "device-lea")).access is Access.START
    assert (await cafe.view(table))["session"] is None
    with pytest.raises(SessionEnded):
        await cafe.add(table, "device-tom", "Croissant")

    # A new party sits down; Tom's old PIN does not let him into their order.
    opened = await cafe.start(table, "device-max", "Max")
    assert opened.session is not None and opened.session.pin == "222222"
    assert (await cafe.access(table, "device-tom")).access is Access.NEED_PIN
    assert await cafe.join(table, "device-tom", "Tom", old_pin) == PinRejected(slowed=False)
    with pytest.raises(PinRequired):
        await cafe.add(table, "device-lea", "Croissant")


async def test_add_set_and_remove_lines_with_subtotals(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Lea", "Tom")
    espresso, croissant = cafe.products["Espresso"], cafe.products["Croissant"]

    mine = await cafe.add(table, "device-lea", "Espresso", 2, note="  serré ")
    assert topics(cafe.last_events) == [(f"table:{table.id}", "cart.added")]  # not the POS
    theirs = await cafe.add(table, "device-tom", "Croissant", 1)
    session = (await cafe.view(table))["session"]
    lea, tom = (m["id"] for m in session["members"])
    assert [(ln["member"], ln["name"], ln["quantity"], ln["note"]) for ln in session["cart"]] == [
        ("Lea", "Espresso", 2, "serré"), ("Tom", "Croissant", 1, ""),
    ]
    assert session["subtotals"] == {str(lea): 2 * espresso.price, str(tom): croissant.price}
    assert session["cart_total"] == 2 * espresso.price + croissant.price

    await cafe.run(
        lambda tx: cart_service.set_quantity(
            tx, cafe.config, table.token, "device-lea", mine.id, 3
        )
    )
    assert topics(cafe.last_events) == [(f"table:{table.id}", "cart.updated")]
    session = (await cafe.view(table))["session"]
    assert session["subtotals"][str(lea)] == 3 * espresso.price
    assert session["cart_total"] == 3 * espresso.price + croissant.price

    with pytest.raises(NotYourLine):
        await cafe.run(
            lambda tx: cart_service.set_quantity(
                tx, cafe.config, table.token, "device-lea", theirs.id, 5
            )
        )
    with pytest.raises(NotYourLine):
        await cafe.run(
            lambda tx: cart_service.remove_line(
                tx, cafe.config, table.token, "device-lea", theirs.id
            )
        )
    with pytest.raises(BadQuantity):
        await cafe.add(table, "device-lea", "Espresso", 0)
    with pytest.raises(UnknownProduct):
        await cafe.run(
            lambda tx: cart_service.add_line(
                tx, cafe.config, table.token, "device-lea", key(), 999_999, 1
            )
        )
    with pytest.raises(PinRequired):
        await cafe.add(table, "device-eve", "Espresso")

    await cafe.run(
        lambda tx: cart_service.remove_line(tx, cafe.config, table.token, "device-tom", theirs.id)
    )
    assert topics(cafe.last_events) == [(f"table:{table.id}", "cart.removed")]
    # Removing it again is a retry: no error, nothing emitted.
    await cafe.run(
        lambda tx: cart_service.remove_line(tx, cafe.config, table.token, "device-tom", theirs.id)
    )
    assert cafe.last_events == []
    with pytest.raises(UnknownLine):
        await cafe.run(
            lambda tx: cart_service.set_quantity(
                tx, cafe.config, table.token, "device-tom", theirs.id, 2
            )
        )
    # Quantity zero removes a line too.
    await cafe.run(
        lambda tx: cart_service.set_quantity(
            tx, cafe.config, table.token, "device-lea", mine.id, 0
        )
    )
    session = (await cafe.view(table))["session"]
    assert session["cart"] == [] and session["cart_total"] == 0 and session["subtotals"] == {}
    await assert_versions_consecutive(cafe)


async def test_a_retried_add_lands_once(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Lea")
    client_id = key()
    first = await cafe.add(table, "device-lea", "Espresso", 2, client_id=client_id)
    version = await cafe.version(f"table:{table.id}")
    second = await cafe.add(table, "device-lea", "Espresso", 2, client_id=client_id)
    assert second.id == first.id
    assert cafe.last_events == []
    assert await cafe.version(f"table:{table.id}") == version
    cart = (await cafe.view(table))["session"]["cart"]
    assert [(ln["name"], ln["quantity"]) for ln in cart] == [("Espresso", 2)]


async def test_the_cart_is_limited(cafe: Cafe) -> None:
    cafe.config = replace(cafe.config, limits=Limits(max_cart_lines=2))
    table = cafe.tables[0]
    await cafe.party(table, "Lea")
    await cafe.add(table, "device-lea", "Espresso")
    await cafe.add(table, "device-lea", "Croissant")
    with pytest.raises(CartFull):
        await cafe.add(table, "device-lea", "Cappuccino")


async def test_submit_moves_the_cart_to_a_round(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Lea", "Tom")
    with pytest.raises(EmptyCart):
        await cafe.submit(table, "device-lea", key())
    await cafe.add(table, "device-lea", "Espresso", 2)
    await cafe.add(table, "device-tom", "Croissant")

    sent = await cafe.submit(table, "device-tom", key())
    assert not sent.duplicate
    assert sent.round.number == 1 and sent.round.status == "to_validate"
    assert topics(cafe.last_events) == [
        (f"table:{table.id}", "round.submitted"),
        (f"site:{cafe.venue.site_id}:pos", "round.submitted"),
        await cafe.stats_told(),  # an order counted
    ]
    view = await cafe.view(table)
    assert view["table"]["state"] == "to_validate"
    session = view["session"]
    assert session["cart"] == []
    [round_] = session["rounds"]
    assert round_["submitted_by"] == "Tom" and round_["status"] == "to_validate"
    assert [(ln["name"], ln["quantity"]) for ln in round_["lines"]] == [
        ("Espresso", 2), ("Croissant", 1),
    ]
    assert round_["total"] == 2 * cafe.products["Espresso"].price + cafe.products["Croissant"].price
    assert [r["id"] for r in (await cafe.pos())["queue"]] == [sent.round.id]
    await assert_versions_consecutive(cafe)


async def test_a_retried_submit_returns_the_same_round(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Lea")
    await cafe.add(table, "device-lea", "Espresso")
    submission = key()
    first = await cafe.submit(table, "device-lea", submission)
    # Meanwhile another line goes into the cart; the retry must not send it.
    await cafe.add(table, "device-lea", "Croissant")
    again = await cafe.submit(table, "device-lea", submission)
    assert again.duplicate and again.round.id == first.round.id
    assert cafe.last_events == []
    session = (await cafe.view(table))["session"]
    assert len(session["rounds"]) == 1
    assert [ln["name"] for ln in session["cart"]] == ["Croissant"]


async def test_a_second_round_after_the_first(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Lea")
    await cafe.add(table, "device-lea", "Espresso")
    first = await cafe.submit(table, "device-lea", key())
    await cafe.add(table, "device-lea", "Tarte Tatin", 2)
    second = await cafe.submit(table, "device-lea", key())
    assert (first.round.number, second.round.number) == (1, 2)
    rounds = (await cafe.view(table))["session"]["rounds"]
    assert [[ln["name"] for ln in r["lines"]] for r in rounds] == [["Espresso"], ["Tarte Tatin"]]
    await assert_versions_consecutive(cafe)


async def test_expire_idle_closes_only_idle_empty_sessions(cafe: Cafe) -> None:
    empty, with_line, with_round, recent = cafe.tables[:4]
    await cafe.party(empty, "Ana")
    await cafe.party(with_line, "Ben")
    await cafe.add(with_line, "device-ben", "Espresso")
    await cafe.party(with_round, "Cyd")
    await cafe.add(with_round, "device-cyd", "Espresso")
    await cafe.submit(with_round, "device-cyd", key())
    await cafe.party(recent, "Dan")
    long_ago = datetime.now(UTC) - timedelta(seconds=cafe.config.idle_s + 60)
    for table in (empty, with_line, with_round):
        await cafe.set_idle_since(table, long_ago)

    now = datetime.now(UTC)
    closed = await cafe.run(lambda tx: diner_service.expire_idle(tx, cafe.config, now))
    assert closed == 1
    assert topics(cafe.last_events) == [
        (f"table:{empty.id}", "session.expired"),
        (f"site:{cafe.venue.site_id}:pos", "session.expired"),
    ]
    assert (await cafe.view(empty))["session"] is None
    assert (await cafe.access(empty, "device-ana")).access is Access.START
    for table in (with_line, with_round, recent):
        assert (await cafe.view(table))["session"] is not None

    # Safe to run again, or in another process: nothing left to close, nothing emitted.
    assert await cafe.run(lambda tx: diner_service.expire_idle(tx, cafe.config, now)) == 0
    assert cafe.last_events == []
    closed_rows = await cafe.count(
        select(func.count()).select_from(TableSession).where(TableSession.close_reason == "idle")
    )
    assert closed_rows == 1
    await assert_versions_consecutive(cafe)


async def test_an_idle_session_closes_when_someone_scans_the_table(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Ana")
    await cafe.set_idle_since(table, datetime.now(UTC) - timedelta(seconds=cafe.config.idle_s + 1))
    # A newcomer finds the table free rather than being asked for a forgotten PIN.
    opened = await cafe.start(table, "device-eve", "Eve")
    assert opened.access is Access.MEMBER
    members = await cafe.count(
        select(func.count()).select_from(Member).where(Member.device_key == "device-eve")
    )
    assert members == 1
    assert await cafe.count(select(func.count()).select_from(OrderLine)) == 0


async def test_a_lines_note_is_edited_in_the_cart_by_its_owner_only(cafe: Cafe) -> None:
    table = cafe.tables[0]
    await cafe.party(table, "Lea", "Tom")
    line = await cafe.add(table, "device-lea", "Espresso")

    await cafe.run(lambda tx: cart_service.set_quantity(
        tx, cafe.config, table.token, "device-lea", line.id, 1, "  bien   serré "))
    assert [e.data["change"] for e in cafe.last_events] == [
        {"product": "Espresso", "quantity": 1, "note": "bien serré", "member": "Lea",
         "member_id": line.member_id},
    ]
    # Without a note the quantity changes and the note stays.
    await cafe.run(lambda tx: cart_service.set_quantity(
        tx, cafe.config, table.token, "device-lea", line.id, 2))
    cart = (await cafe.view(table))["session"]["cart"]
    assert [(ln["quantity"], ln["note"]) for ln in cart] == [(2, "bien serré")]
    with pytest.raises(NotYourLine):
        await cafe.run(lambda tx: cart_service.set_quantity(
            tx, cafe.config, table.token, "device-tom", line.id, 2, "sans sucre"))
    assert (await cafe.view(table))["session"]["cart"][0]["note"] == "bien serré"
    await assert_versions_consecutive(cafe)
