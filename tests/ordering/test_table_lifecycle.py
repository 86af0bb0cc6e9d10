"""The whole table lifecycle against a plain model, on SQLite and PostgreSQL.

Hypothesis drives random sequences of what diners and staff do (open a table, join with
the right PIN or a wrong one, add, change and remove lines, send, edit, refuse and
validate rounds, move production tickets, settle, free, let a table idle out, mark a
product sold out) through the services the routes use, against tests/ordering/table_model.py.
After every step the database must say what the model says:
- each table's cart, rounds, members and tickets are the model's, and so is the POS view;
- money adds up: line amounts, cart and round totals, each diner's subtotal, the bill;
- an action refused (a non-member, another company's staff, a role without the right,
  a move the state tables forbid) changes nothing, not even a version;
- a freed table keeps nothing of its old party;
- versions only grow, by one per published event, and the last event published on a
  table carries exactly the table's view.

`make test` runs a few examples on each database; `make soak` runs them for minutes:
COMPTOIR_SOAK=<seconds per database> (docs/testing.md).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from errors import DomainError
from ordering import cart_service, diner_service, staff_service
from ordering.staff_service import LineAdd, LineEdit
from ordering.views import table_topic
from realtime.events import Tx
from tests.ordering import table_model as model
from tests.ordering.lifecycle_world import World
from tests.ordering.table_model import CHANGE, NOOP, REJECTED, TableModel

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., None])
SOAK_S = float(os.environ.get("COMPTOIR_SOAK") or 0)
BOUNDED = settings(
    max_examples=20, stateful_step_count=40, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# A soak runs batches until its time is up: a batch is short, so the run ends near it.
SOAKING = settings(BOUNDED, max_examples=5, stateful_step_count=100)

DINERS = ["Ana", "Ben", "Cléo", "Dan", "Eve"]
NO_SUCH_ID = 2_000_000_000
WRONG_PINS_PER_DEVICE = 3  # few: the PIN limit's policy is not what this test is about
TOO_MANY = "answered 429"  # the PIN limit's answer, whatever its code


@dataclass(frozen=True)
class Action:
    """Something a diner or a member of staff does: how often (`weight`), when it can
    do anything at all (`when`), and its arguments' strategies."""

    weight: int
    when: Callable[[Any], bool]
    arguments: dict[str, st.SearchStrategy[Any]]


def action(
    weight: int, when: Callable[[Any], bool] = lambda machine: True,
    **arguments: st.SearchStrategy[Any],
) -> Callable[[F], F]:
    """Hypothesis chooses among its rules with a strong lean towards those with fewer
    arguments; the machine has one rule, `step`, which chooses among these by weight."""

    def mark(method: F) -> F:
        method.action = Action(weight, when, arguments)  # type: ignore[attr-defined]
        return method

    return mark


def choose(pick: int, wanted: list[T], anything: list[T]) -> T:
    """Three times in four one of `wanted` (when there is one), else one of `anything`."""
    if wanted and pick % 4 != 3:
        return wanted[pick // 4 % len(wanted)]
    return anything[pick // 4 % len(anything)]


def ordering(table: TableModel) -> bool:
    return table.party is not None and table.party.status == "open"


def with_cart(table: TableModel) -> bool:
    return table.party is not None and bool(table.party.cart)


def room(table: TableModel) -> bool:
    """Does the table's party leave a device of the example out, one who may join?"""
    return table.party is not None and len(table.party.members) < len(DINERS)


def settleable(table: TableModel) -> bool:
    party = table.party
    return (
        party is not None and party.status == "open" and party.billed > 0
        and not any(r.status == "to_validate" for r in party.rounds)
    )


def may_idle(table: TableModel) -> bool:
    """Could the sweeper close this table's party, given the time?"""
    return table.party is not None and table.party.status == "open" and not table.party.rounds


def mostly(common: list[Any], rare: list[Any]) -> st.SearchStrategy[Any]:
    """One of `common`, and now and then one of `rare` (one time in ten)."""
    return st.integers(0, 10 * len(rare) - 1).map(
        lambda n: rare[n // 10] if n % 10 == 7 else common[n % len(common)]
    )


products = mostly([0, 1, 2, 3], [4])  # 4: a product of no menu
picks = st.integers(0, 1000)  # see choose()
quantities = mostly([1, 2, 3, 1, 50], [0, 51])
notes = mostly(["", "sans sucre", "", "  bien   cuit  "], ["x" * 201])
reasons = mostly(["Plus de quiche", "  changé  à la demande "], ["   "])
retries = mostly([None], list(range(8)))  # now and then, a key sent before (a retry)
staff_roles = mostly(["cashier", "admin", "cashier"], ["kitchen", "stranger"])


class TableLifecycle(RuleBasedStateMachine):
    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        self.site_id, self.cafe = self.world.new_corner()
        corner = self.world.corners
        self.devices = [f"device-{corner}-{n}" for n in range(len(DINERS))]
        self.names = dict(zip(self.devices, DINERS, strict=True))
        self.client_ids: list[str] = []
        self.keys: list[str] = []
        self.table_ids = [t.id for t in self.cafe.tables]
        self.topics = self.world.topics(self.site_id, self.table_ids)
        self.last = self.world.truth(self.site_id, self.table_ids, [])
        self.world.bus.take()  # what earlier examples published
        self._step_begins()

    def _step_begins(self) -> None:
        self.touched: dict[int, str] = {}  # table id -> "yes" (its topic must move), "maybe"
        self.refused = False

    # Running a step

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        actions = {
            name: method.action for name, method in vars(type(self)).items()
            if hasattr(method, "action")
        }
        able = [
            name for name, act in actions.items() if act.when(self) for _ in range(act.weight)
        ]
        name = data.draw(st.sampled_from(able), label="action")
        arguments = data.draw(st.fixed_dictionaries(actions[name].arguments), label=name)
        getattr(self, name)(**arguments)

    def act(
        self, outcome: str | set[str], op: Callable[[Tx], Awaitable[Any]],
        at: TableModel | None = None,
    ) -> Any:
        """Run one unit of work; check it answered as the model said. Returns its result,
        or the domain error it raised."""
        allowed = {outcome} if isinstance(outcome, str) else outcome
        try:
            result = self.world.run(op)
        except DomainError as error:
            assert error.code in allowed or (TOO_MANY in allowed and error.status == 429), (
                f"answered {error.code!r}, the model expected {sorted(map(str, allowed))}"
            )
            self.refused = True
            return error
        assert allowed & {NOOP, CHANGE, REJECTED}, f"succeeded, expected {sorted(allowed)}"
        if at is not None and allowed == {CHANGE}:
            self.touched[at.id] = "yes"
        return result

    def table(
        self, pick: int, wanted: Callable[[TableModel], bool] = lambda t: True
    ) -> TableModel:
        """Mostly a table where the action can do something; now and then either."""
        return choose(pick, [t for t in self.cafe.tables if wanted(t)], self.cafe.tables)

    def diner(self, table: TableModel, pick: int, *, member: bool = True) -> str:
        """Mostly a member of the table's party (or, for joining, a newcomer); now and then
        anyone."""
        members = list(table.party.members) if table.party else []
        wanted = members if member else [d for d in self.devices if d not in members]
        return choose(pick, wanted, self.devices)

    def has_party(self) -> bool:
        return any(table.party for table in self.cafe.tables)

    def any_table(self, wanted: Callable[[TableModel], bool]) -> bool:
        return any(wanted(table) for table in self.cafe.tables)

    def has_rounds_to_validate(self) -> bool:
        return any(rnd.status == "to_validate" for _, _, rnd in self.cafe.rounds())

    def has_tickets(self) -> bool:
        return any(rnd.tickets for _, _, rnd in self.cafe.rounds())

    def staff(self, role: str) -> Any:
        return self.world.stranger if role == "stranger" else self.world.staff[role]

    def may(self, role: str, permission: str) -> bool:
        return permission in model.ROLES["admin" if role == "stranger" else role]

    def product_id(self, index: int) -> int:
        return self.cafe.products[index].id if index < len(self.cafe.products) else NO_SUCH_ID

    # Diners

    @action(2, when=lambda self: self.any_table(lambda t: t.party is None), t=picks, d=picks)
    def start(self, t: int, d: int) -> None:
        table = self.table(t, lambda t: t.party is None)
        device = self.diner(table, d, member=False)
        outcome = model.start_outcome(table.access(device))
        found = self.act(outcome, lambda tx: diner_service.start(
            tx, self.world.config, table.token, device, self.names[device]
        ), table)
        self._opened_or_kept(table, device, outcome, found)

    def _opened_or_kept(self, table: TableModel, device: str, outcome: str, found: Any) -> None:
        if outcome == CHANGE:
            session = found.session
            assert len(session.pin) == 6 and session.pin.isdigit()
            table.party = model.Party(session.id, session.pin, {device: self.names[device]})
        elif outcome == NOOP:
            assert table.party is not None
            assert (found.session.id, found.session.pin) == (
                table.party.session_id, table.party.pin
            )

    @action(
        2, when=lambda self: self.any_table(lambda t: t.party is None or room(t)),
        t=picks, d=picks, kind=st.sampled_from(["right", "spaced", "wrong", "stale", "junk"]),
    )
    def join(self, t: int, d: int, kind: str) -> None:
        table = self.table(t, lambda t: ordering(t) and room(t))
        device = self.diner(table, d, member=False)
        access = table.access(device)
        if self.cafe.device_wrong_pins.get(device, 0) >= WRONG_PINS_PER_DEVICE:
            kind = "right"
        given = self._pin(table, kind)
        right = table.party is not None and given.strip() == table.party.pin
        outcome: str | set[str]
        if access != "need_pin":
            outcome = model.start_outcome(access)  # the PIN plays no part
        elif right:
            outcome = CHANGE if self.cafe.pin_sure(table, device) else {CHANGE, TOO_MANY}
            self.touched[table.id] = "maybe"
        else:
            outcome = {REJECTED, "wrong_pin", TOO_MANY}  # told as a result, or raised
            self.cafe.count_wrong_pin(table, device)
            self.touched[table.id] = "maybe"  # the table may now show that it is blocked
        found = self.act(outcome, lambda tx: diner_service.join(
            tx, self.world.config, table.token, device, self.names[device], given
        ), table)
        if isinstance(found, DomainError):
            return
        if isinstance(found, diner_service.PinRejected):
            assert not right, "the right PIN was taken for a wrong one"
        elif access == "need_pin":
            assert right and table.party is not None, "a wrong PIN let a device in"
            self.touched[table.id] = "yes"
            table.party.members[device] = self.names[device]
        else:
            assert isinstance(outcome, str)
            self._opened_or_kept(table, device, outcome, found)

    def _pin(self, table: TableModel, kind: str) -> str:
        current = table.party.pin if table.party else "123456"
        wrong = "".join(str((int(c) + 1) % 10) for c in current)
        if kind == "right":
            return current
        if kind == "spaced":
            return f" {current} "
        if kind == "stale":
            old = [p.pin for p in table.past if p.pin != current]
            return old[-1] if old else wrong
        return wrong if kind == "wrong" else "12a4"

    @action(
        6, when=lambda self: self.any_table(ordering),
        t=picks, d=picks, p=products, q=quantities, note=notes, retry=retries,
    )
    def add(self, t: int, d: int, p: int, q: int, note: str, retry: int | None) -> None:
        table = self.table(t, ordering)
        device = self.diner(table, d)
        if retry is not None and self.client_ids:
            client_id = self.client_ids[retry % len(self.client_ids)]
        else:
            client_id = uuid.uuid4().hex
            self.client_ids.append(client_id)
        party = table.party
        known = party.line_with_client_id(client_id) if party else None
        product = self.cafe.products[p] if p < len(self.cafe.products) else None
        outcome = (
            model.quantity_error(q)
            or ("note_too_long" if len(model.clean(note)) > 200 else None)
            or model.member_only(table.access(device))
            or (NOOP if known else None)
            or ("unknown_product" if product is None else None)
            or ("product_unavailable" if product and not product.available else CHANGE)
        )
        line = self.act(outcome, lambda tx: cart_service.add_line(
            tx, self.world.config, table.token, device, client_id, self.product_id(p), q, note
        ), table)
        if outcome == NOOP:
            assert known is not None and line.id == known.id  # a retry adds nothing
        elif outcome == CHANGE:
            assert party is not None and product is not None
            party.cart[line.id] = model.Line(
                line.id, client_id, device, product, q, product.price, model.clean(note)
            )

    def _any_line(self, pick: int, table: TableModel | None = None) -> int:
        """Mostly a line of the table's cart; else any line the model knows (a round's, a
        freed party's) or one that does not exist."""
        lines = [
            line.id
            for t in self.cafe.tables
            for party in [*t.past, *([t.party] if t.party else [])]
            for line in [*party.cart.values(), *(ln for r in party.rounds for ln in r.lines)]
        ]
        cart = list(table.party.cart) if table and table.party else []
        return choose(pick, cart, [*lines, NO_SUCH_ID])

    def _line_and_hand(
        self, t: int, d: int, pick: int
    ) -> tuple[TableModel, int, model.Line | None, str]:
        """A table with a cart, one of its lines, and mostly the hand that added it."""
        table = self.table(t, with_cart)
        line_id = self._any_line(pick, table)
        line = table.party.cart.get(line_id) if table.party else None
        owner = [line.owner] if line and line.owner else []
        others = [m for m in (table.party.members if table.party else []) if m not in owner]
        return table, line_id, line, choose(d, owner, others or self.devices)

    @action(
        3, when=lambda self: self.any_table(with_cart), t=picks, d=picks, pick=picks, q=quantities
    )
    def change(self, t: int, d: int, pick: int, q: int) -> None:
        table, line_id, line, device = self._line_and_hand(t, d, pick)
        outcome = (
            model.quantity_error(q, allow_zero=True)
            or model.member_only(table.access(device))
            or ("unknown_line" if line is None else None)
            or ("not_your_line" if line and line.owner != device else CHANGE)
        )
        self.act(outcome, lambda tx: cart_service.set_quantity(
            tx, self.world.config, table.token, device, line_id, q
        ), table)
        if outcome == CHANGE:
            assert table.party is not None and line is not None
            if q == 0:
                del table.party.cart[line_id]
            else:
                line.quantity = q

    @action(2, when=lambda self: self.any_table(with_cart), t=picks, d=picks, pick=picks)
    def remove(self, t: int, d: int, pick: int) -> None:
        table, line_id, line, device = self._line_and_hand(t, d, pick)
        outcome = (
            model.member_only(table.access(device))
            or (NOOP if line is None else None)  # already gone: a retry
            or ("not_your_line" if line and line.owner != device else CHANGE)
        )
        self.act(outcome, lambda tx: cart_service.remove_line(
            tx, self.world.config, table.token, device, line_id
        ), table)
        if outcome == CHANGE:
            assert table.party is not None
            del table.party.cart[line_id]

    @action(4, when=lambda self: self.any_table(with_cart), t=picks, d=picks, retry=retries)
    def send(self, t: int, d: int, retry: int | None) -> None:
        table = self.table(t, with_cart)
        device = self.diner(table, d)
        if retry is not None and self.keys:
            key = self.keys[retry % len(self.keys)]
        else:
            key = uuid.uuid4().hex
            self.keys.append(key)
        party = table.party
        sent = party.round_with_key(key) if party else None
        outcome = (
            model.member_only(table.access(device))
            or (NOOP if sent else None)
            or ("empty_cart" if party and not party.cart else None)
            # A line whose product is sold out blocks the whole round until removed.
            or ("cart_unavailable" if party and any(
                not line.product.available for line in party.cart.values()) else CHANGE)
        )
        result = self.act(outcome, lambda tx: diner_service.submit(
            tx, self.world.config, table.token, device, key
        ), table)
        if outcome == NOOP:
            assert sent is not None and result.duplicate and result.round.id == sent.id
        elif outcome == CHANGE:
            assert party is not None and not result.duplicate
            assert result.round.number == len(party.rounds) + 1
            party.rounds.append(
                model.Round(result.round.id, result.round.number, key, list(party.cart.values()))
            )
            party.cart.clear()

    # Staff

    def _any_round(
        self, pick: int, status: str = "to_validate"
    ) -> tuple[TableModel | None, model.Round | None]:
        """Mostly a round in `status`; else any round any party had here, or none."""
        rounds = [(table, rnd) for table, _, rnd in self.cafe.rounds()]
        wanted = [(table, rnd) for table, rnd in rounds if rnd.status == status]
        return choose(pick, wanted, [*rounds, (None, None)])

    def _round_outcome(
        self, role: str, rnd: model.Round | None, reason: str | None
    ) -> str | None:
        """What validating, refusing or editing answers before looking at the round's status."""
        if not self.may(role, "validate"):
            return "forbidden"
        if reason is not None and not model.reason_ok(reason):
            return "reason_required"
        if rnd is None or role == "stranger":
            return "unknown_round"
        return None

    @action(4, when=lambda self: self.has_rounds_to_validate(), pick=picks, role=staff_roles)
    def validate(self, pick: int, role: str) -> None:
        table, rnd = self._any_round(pick)
        outcome = self._round_outcome(role, rnd, None) or (
            NOOP if rnd and rnd.status == "validated"  # a retry
            else "session_closed" if rnd and self.cafe.freed(rnd)
            else "bad_transition" if rnd and rnd.status != "to_validate" else CHANGE
        )
        round_id = rnd.id if rnd else NO_SUCH_ID
        self.act(outcome, lambda tx: staff_service.validate(
            tx, self.world.config, self.staff(role), round_id
        ), table)
        if outcome == CHANGE:
            assert rnd is not None
            rnd.status = "validated"
            ids = self.world.ticket_ids(rnd.id)
            stations = sorted({line.product.station for line in rnd.shown})
            rnd.tickets = {s: model.Ticket(ids[s], s) for s in stations}

    @action(
        2, when=lambda self: self.has_rounds_to_validate(),
        pick=picks, role=staff_roles, reason=reasons,
    )
    def refuse(self, pick: int, role: str, reason: str) -> None:
        table, rnd = self._any_round(pick)
        outcome = self._round_outcome(role, rnd, reason) or (
            NOOP if rnd and rnd.status == "refused"
            else "bad_transition" if rnd and rnd.status != "to_validate" else CHANGE
        )
        round_id = rnd.id if rnd else NO_SUCH_ID
        self.act(outcome, lambda tx: staff_service.refuse(
            tx, self.world.config, self.staff(role), round_id, reason
        ), table)
        if outcome == CHANGE:
            assert rnd is not None
            rnd.status, rnd.reason = "refused", model.clean(reason)

    @action(
        3, when=lambda self: self.has_rounds_to_validate(),
        pick=picks, role=staff_roles, reason=reasons, stale=mostly([False], [True]),
        changes=st.lists(st.tuples(picks, quantities), max_size=2),
        additions=st.lists(st.tuples(products, quantities), max_size=2),
    )
    def edit(
        self, pick: int, role: str, reason: str, stale: bool,
        changes: list[tuple[int, int]], additions: list[tuple[int, int]],
    ) -> None:
        table, rnd = self._any_round(pick)
        own = [line.id for line in rnd.lines] if rnd else []
        edits = [LineEdit(choose(p, own, [self._any_line(p)]), q) for p, q in changes]
        adds = [LineAdd(self.product_id(p), q) for p, q in additions]
        expected_revision = (rnd.revision if rnd else 1) + (1 if stale else 0)
        outcome = self._round_outcome(role, rnd, reason) or (
            "session_closed" if rnd and self.cafe.freed(rnd)
            else self._edit_outcome(rnd, stale, edits, adds)
        )
        round_id = rnd.id if rnd else NO_SUCH_ID
        self.act(outcome, lambda tx: staff_service.edit(
            tx, self.world.config, self.staff(role), round_id, expected_revision, reason,
            edits, adds,
        ), table)
        if outcome != CHANGE:
            return
        assert rnd is not None
        lines = {line.id: line for line in rnd.lines}
        for change in edits:
            lines[change.line_id].quantity = change.quantity
        added = self.world.staff_lines(rnd.id, set(lines))
        assert len(added) == len(adds)
        for (line_id, client_id), addition in zip(added, adds, strict=True):
            product = next(p for p in self.cafe.products if p.id == addition.product_id)
            rnd.lines.append(model.Line(
                line_id, client_id, None, product, addition.quantity, product.price, ""
            ))
        rnd.revision += 1
        rnd.reason = model.clean(reason)

    def _edit_outcome(
        self, rnd: model.Round | None, stale: bool, edits: list[LineEdit], adds: list[LineAdd]
    ) -> str:
        assert rnd is not None
        if rnd.status != "to_validate":
            return "bad_transition"
        if stale:
            return "stale_version"
        in_round = {line.id for line in rnd.lines}
        for change in edits:
            problem = model.quantity_error(change.quantity, allow_zero=True) or (
                None if change.line_id in in_round else "unknown_line"
            )
            if problem:
                return problem
        for addition in adds:
            problem = model.quantity_error(addition.quantity) or (
                None if addition.product_id != NO_SUCH_ID else "not_found"
            )
            if problem:
                return problem
        return CHANGE

    @action(
        4, when=lambda self: self.has_tickets(),
        pick=picks, role=staff_roles,
        to=st.sampled_from([*model.TICKET_MOVES, "cooking"]),
    )
    def move_ticket(self, pick: int, role: str, to: str) -> None:
        tickets: list[tuple[TableModel, model.Round, model.Ticket] | None] = [
            (table, rnd, ticket)
            for table, _, rnd in self.cafe.rounds() for ticket in rnd.tickets.values()
        ]
        busy = [x for x in tickets if x and x[2].status != "served"]
        chosen = choose(pick, busy, [*tickets, None])
        ticket = chosen[2] if chosen else None
        outcome = (
            "not_found" if ticket is None
            else "unknown_round" if role == "stranger"
            else "bad_transition" if to not in model.TICKET_MOVES
            else NOOP if ticket.status == to
            else CHANGE if to in model.TICKET_MOVES[ticket.status]
            else "bad_transition"
        )
        ticket_id = ticket.id if ticket else NO_SUCH_ID
        self.act(outcome, lambda tx: staff_service.move_ticket(
            tx, self.world.config, self.staff(role), ticket_id, to
        ), chosen[0] if chosen else None)
        if outcome == CHANGE:
            assert chosen is not None and ticket is not None
            ticket.status = to
            chosen[1].status = chosen[1].status_from_tickets()

    @action(
        2, when=lambda self: self.any_table(ordering),
        t=picks, role=staff_roles, method=st.sampled_from(["cash", "card"]),
        tendered=st.sampled_from(["none", "exact", "over", "none", "short"]), retry=retries,
    )
    def settle(
        self, t: int, role: str, method: str, tendered: str, retry: int | None
    ) -> None:
        table = self.table(t, settleable)
        party = table.party
        keys = list(party.payments) if party else []
        key = keys[retry % len(keys)] if retry is not None and keys else uuid.uuid4().hex
        due = party.billed if party else 0
        given = {"none": None, "exact": due, "short": due - 1, "over": due + 500}[tendered]
        taken = due if (method == "card" or due == 0) and given is None else given
        outcome = (
            "forbidden" if not self.may(role, "settle")
            else "not_found" if role == "stranger"
            else NOOP if party and key in party.payments
            else "not_settleable" if party is None or party.status != "open"
            else "not_settleable" if any(r.status == "to_validate" for r in party.rounds)
            else "underpaid" if taken is None or taken < due
            else CHANGE
        )
        paid = self.act(outcome, lambda tx: staff_service.settle(
            tx, self.world.config, self.staff(role), table.id, method, given, key
        ), table)
        if outcome == NOOP:
            assert party is not None and paid.amount == party.payments[key]
        elif outcome == CHANGE:
            assert party is not None and taken is not None
            assert (paid.amount, paid.tendered, paid.change_given) == (due, taken, taken - due)
            party.status = "settled"
            party.payments[key] = due

    @action(2, when=lambda self: self.has_party(), t=picks, role=staff_roles)
    def free(self, t: int, role: str) -> None:
        table = self.table(t, lambda t: t.party is not None)
        party = table.party
        owed = party is not None and party.status == "open" and (
            party.billed > 0 or any(r.status in model.OPEN_ROUND for r in party.rounds)
        )
        outcome = (
            "forbidden" if not self.may(role, "free")
            else "not_found" if role == "stranger"
            else NOOP if party is None
            else "forbidden" if owed and not self.may(role, "force_free")
            else CHANGE
        )
        self.act(outcome, lambda tx: staff_service.free(
            tx, self.world.config, self.staff(role), table.id
        ), table)
        if outcome == CHANGE:
            table.free()

    @action(2, when=lambda self: self.any_table(may_idle), later=st.booleans())
    def idle(self, later: bool) -> None:
        """The sweeper's pass, now or after the idle time: the time is given, not waited."""
        now = datetime.now(UTC)
        if later:
            now += timedelta(seconds=self.world.config.idle_s + 1)
        self.act({NOOP, CHANGE}, lambda tx: diner_service.expire_idle(tx, self.world.config, now))
        for table in self.cafe.tables:
            party = table.party
            if later and party and party.status == "open" and not party.rounds and not party.cart:
                self.touched[table.id] = "yes"
                table.free()

    @action(1, p=products, available=st.booleans(), role=staff_roles)
    def sold_out(self, p: int, available: bool, role: str) -> None:
        product = self.cafe.products[p] if p < len(self.cafe.products) else None
        outcome = (
            "forbidden" if not self.may(role, "sold_out")
            else "not_found" if role == "stranger" or product is None
            else NOOP if product.available == available
            else CHANGE
        )
        self.act(outcome, lambda tx: staff_service.set_available(
            tx, self.staff(role), self.product_id(p), available
        ))
        if outcome == CHANGE:
            assert product is not None
            product.available = available
            # Every open cart holding it shows it (un)available at once.
            for table in self.cafe.tables:
                if table.party and any(
                    line.product is product for line in table.party.cart.values()
                ):
                    self.touched[table.id] = "yes"

    # After every step

    @invariant()
    def the_database_says_what_the_model_says(self) -> None:
        rounds = [rnd.id for _, _, rnd in self.cafe.rounds()]
        truth = self.world.truth(self.site_id, self.table_ids, rounds)
        if self.refused:
            assert truth.views == self.last.views, "a refused action changed a table"
        for table in self.cafe.tables:
            check_table(table, truth.views[table.id])
        check_tickets(self.cafe, truth.tickets)
        check_pos(self.cafe, truth.pos)
        self._check_versions(truth.versions, truth.views)
        self.last = truth
        self._step_begins()

    def _check_versions(self, versions: dict[str, int], views: dict[int, Any]) -> None:
        published = self.world.bus.take()
        for topic in self.topics:
            before, now = self.last.versions.get(topic, 0), versions.get(topic, 0)
            assert now >= before, f"{topic}: version {before} -> {now}"
            events = [e for e in published if e["topic"] == topic]
            assert [e["version"] for e in events] == list(range(before + 1, now + 1)), topic
        for table in self.cafe.tables:
            topic = table_topic(table.id)
            before, now = self.last.versions.get(topic, 0), versions.get(topic, 0)
            expected = self.touched.get(table.id, "no")
            moved = {"yes": now > before, "no": now == before, "maybe": True}[expected]
            assert moved, f"{topic}: version {before} -> {now}, expected a change: {expected}"
            if now > before:
                last = next(e for e in reversed(published) if e["topic"] == topic)
                shown = {k: v for k, v in last["data"]["view"].items() if k != "version"}
                assert shown == views[table.id], f"{topic}: the last event is not the view"


def check_table(table: TableModel, view: dict[str, Any]) -> None:
    assert view["table"]["state"] == table.state()
    session, party = view["session"], table.party
    if party is None:
        assert session is None, "a freed table still shows a party"
        return
    assert session is not None
    assert (session["id"], session["status"], session["pin"]) == (
        party.session_id, party.status, party.pin
    )
    # Nothing of an old party: not its session, its lines or its rounds.
    assert session["id"] not in {p.session_id for p in table.past}
    old_lines = {
        line.id for p in table.past
        for line in [*p.cart.values(), *(x for r in p.rounds for x in r.lines)]
    }
    shown_lines = {ln["id"] for ln in session["cart"]} | {
        ln["id"] for r in session["rounds"] for ln in r["lines"]
    }
    assert not shown_lines & old_lines
    members = {m["key"]: m["name"] for m in session["members"]}
    assert members == party.members
    ids = {m["key"]: m["id"] for m in session["members"]}

    def line(x: model.Line) -> tuple[Any, ...]:
        owner = ids[x.owner] if x.owner else None
        return (x.id, x.client_id, owner, x.product.id, x.quantity, x.unit_price, x.note)

    def shown(x: dict[str, Any]) -> tuple[Any, ...]:
        assert x["amount"] == x["quantity"] * x["unit_price"]
        # A cart line says whether it can still be ordered; a sent one always can.
        assert x["available"] is (
            x["round_id"] is not None or product_available[x["product_id"]])
        return (x["id"], x["client_id"], x["member_id"], x["product_id"], x["quantity"],
                x["unit_price"], x["note"])

    product_available = {x.product.id: x.product.available for x in party.cart.values()}
    assert sorted(map(shown, session["cart"])) == sorted(map(line, party.cart.values()))
    assert [
        (r["id"], r["number"], r["status"], r["revision"], r["reason"],
         sorted(map(shown, r["lines"])))
        for r in session["rounds"]
    ] == [
        (r.id, r.number, r.status, r.revision, r.reason, sorted(map(line, r.shown)))
        for r in party.rounds
    ]
    # Money adds up, and to the model's sums.
    assert session["cart_total"] == sum(x["amount"] for x in session["cart"]) == party.cart_total
    for r in session["rounds"]:
        assert r["total"] == sum(x["amount"] for x in r["lines"])
    billed = sum(r["total"] for r in session["rounds"] if r["status"] != "refused")
    assert session["ordered"] == billed == party.billed
    # Settled at the till: nothing is left due, on the phones as on the POS.
    assert (session["paid"], session["due"]) == (0, billed if party.status == "open" else 0)
    assert session["subtotals"] == {str(ids[d]): v for d, v in party.subtotals().items()}


def check_tickets(cafe: model.Cafe, found: dict[tuple[int, str], tuple[int, str]]) -> None:
    expected = {
        (rnd.id, station): (ticket.id, ticket.status)
        for _, _, rnd in cafe.rounds() for station, ticket in rnd.tickets.items()
    }
    assert found == expected


def check_pos(cafe: model.Cafe, pos: dict[str, Any]) -> None:
    tiles = {tile["id"]: tile for tile in pos["tables"]}
    for table in cafe.tables:
        tile, party = tiles[table.id], table.party
        assert tile["state"] == table.state()
        assert tile["pin"] == (party.pin if party else None)
        assert tile["members"] == (len(party.members) if party else 0)
        # Settled at the till: nothing is left due on the map.
        owed = party.billed if party and party.status == "open" else 0
        assert tile["due"] == owed
    current = [rnd for table in cafe.tables if table.party for rnd in table.party.rounds]
    assert sorted(r["id"] for r in pos["queue"]) == sorted(
        r.id for r in current if r.status == "to_validate"
    )
    assert sorted(r["id"] for r in pos["in_production"]) == sorted(
        r.id for r in current if r.status in model.IN_KITCHEN
    )
    assert {p["id"] for p in pos["products"]} == {p.id for p in cafe.products if p.available}


def test_the_table_lifecycle_follows_the_model(database_url: str) -> None:
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    world = World(database_url, backend)
    TableLifecycle.world = world
    try:
        if not SOAK_S:
            run_state_machine_as_test(TableLifecycle, settings=BOUNDED)
            return
        until = time.monotonic() + SOAK_S
        while time.monotonic() < until:
            run_state_machine_as_test(TableLifecycle, settings=SOAKING)
    finally:
        world.close()

