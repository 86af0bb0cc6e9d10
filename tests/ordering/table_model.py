"""A plain model of a café's tables: what the lifecycle test expects of the real services.

No database, no service: for each thing a diner or a member of staff may do, the model says
which error the services must answer (by its stable code), or that the action succeeds
and changes nothing (a retry), or that it succeeds and what it changes: the rules said
again in plain Python (the README's journey, the API document, the state tables), not read
from the services.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NOOP = "ok, nothing changes"
CHANGE = "ok, the table changes"
REJECTED = "ok, a wrong PIN is told so"  # and counted; nothing else changes

# Wrong PINs below this count, at a table and from a device, never block the right PIN
# (the limit: five per device, and the table slows down only after more). At or above
# it the model is loose: the right PIN gets in or is answered 429, which changes nothing.
SURE_BELOW = 5

TICKET_MOVES = {
    "queued": {"in_preparation", "ready"},
    "in_preparation": {"ready", "queued"},
    "ready": {"served", "in_preparation"},
    "served": set(),
}
OPEN_ROUND = {"to_validate", "validated", "in_production", "ready"}
IN_KITCHEN = {"validated", "in_production", "ready"}
ROLES = {
    "kitchen": {"produce", "sold_out"},
    "cashier": {"validate", "produce", "settle", "free", "sold_out"},
    "admin": {"validate", "produce", "settle", "free", "force_free", "sold_out"},
}


@dataclass
class Product:
    id: int
    name: str
    price: int
    station: str
    available: bool = True


@dataclass
class Line:
    id: int
    client_id: str
    owner: str | None  # the device that added it; None: staff, in an edit
    product: Product
    quantity: int
    unit_price: int
    note: str

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass
class Ticket:
    id: int
    station: str
    status: str = "queued"


@dataclass
class Round:
    id: int
    number: int
    key: str
    lines: list[Line]
    status: str = "to_validate"
    revision: int = 1
    reason: str | None = None
    tickets: dict[str, Ticket] = field(default_factory=dict)

    @property
    def shown(self) -> list[Line]:
        """The lines still ordered: an edit may have set some to zero."""
        return [line for line in self.lines if line.quantity > 0]

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.shown)

    def status_from_tickets(self) -> str:
        found = {t.status for t in self.tickets.values()}
        if not found or found == {"queued"}:
            return "validated"
        if found == {"served"}:
            return "served"
        if found <= {"ready", "served"}:
            return "ready"
        return "in_production"


@dataclass
class Party:
    """A table's session, from its first member until staff free the table."""

    session_id: int
    pin: str
    members: dict[str, str]  # device key -> name
    status: str = "open"
    cart: dict[int, Line] = field(default_factory=dict)  # by line id
    rounds: list[Round] = field(default_factory=list)
    payments: dict[str, int] = field(default_factory=dict)  # idempotency key -> amount

    def access(self, device: str) -> str:
        if self.status == "open":
            return "member" if device in self.members else "need_pin"
        return "settled" if device in self.members else "locked"

    @property
    def billed(self) -> int:
        return sum(r.total for r in self.rounds if r.status != "refused")

    @property
    def cart_total(self) -> int:
        return sum(line.amount for line in self.cart.values())

    def subtotals(self) -> dict[str, int]:
        """Each member's share of the cart, by device."""
        sums: dict[str, int] = {}
        for line in self.cart.values():
            assert line.owner is not None
            sums[line.owner] = sums.get(line.owner, 0) + line.amount
        return sums

    def line_with_client_id(self, client_id: str) -> Line | None:
        lines = [*self.cart.values(), *(ln for r in self.rounds for ln in r.lines)]
        return next((line for line in lines if line.client_id == client_id), None)

    def round_with_key(self, key: str) -> Round | None:
        return next((r for r in self.rounds if r.key == key), None)

    def state(self) -> str:
        """The table map's state (ordering/table_lock.table_state, said again)."""
        if self.status == "settled":
            return "settled"
        statuses = {r.status for r in self.rounds} - {"refused"}
        if "to_validate" in statuses:
            return "to_validate"
        if statuses & IN_KITCHEN:
            return "in_production"
        return "to_settle" if statuses else "ordering"


@dataclass
class TableModel:
    id: int
    token: str
    party: Party | None = None
    past: list[Party] = field(default_factory=list)  # the parties it had, freed
    wrong_pins: int = 0  # wrong PINs tried here: an upper bound of what the limit counts

    def access(self, device: str) -> str:
        return "start" if self.party is None else self.party.access(device)

    def state(self) -> str:
        return "free" if self.party is None else self.party.state()

    def free(self) -> None:
        assert self.party is not None
        self.past.append(self.party)
        self.party = None


def start_outcome(access: str) -> str:
    if access == "member":
        return NOOP
    if access == "start":
        return CHANGE
    return "pin_required" if access == "need_pin" else "table_locked"


def member_only(access: str) -> str | None:
    """What a cart change or a send answers a device that is not an ordering member."""
    return {
        "member": None,
        "need_pin": "pin_required",
        "locked": "table_locked",
        "settled": "session_ended",
        "start": "session_ended",  # the party this device was in has gone
    }[access]


def quantity_error(quantity: int, *, allow_zero: bool = False) -> str | None:
    low = 0 if allow_zero else 1
    return None if low <= quantity <= 50 else "bad_quantity"


def reason_ok(reason: str) -> bool:
    return 1 <= len(reason.strip()) <= 200


def clean(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Cafe:
    """Every table of the corner of the venue an example plays in, and its menu."""

    tables: list[TableModel]
    products: list[Product]
    device_wrong_pins: dict[str, int] = field(default_factory=dict)

    def rounds(self) -> list[tuple[TableModel, Party, Round]]:
        """Every round any party had here, the freed ones' too."""
        return [
            (table, party, rnd)
            for table in self.tables
            for party in [*table.past, *([table.party] if table.party else [])]
            for rnd in party.rounds
        ]

    def freed(self, rnd: Round) -> bool:
        """Is this round its freed party's? Staff may no longer validate or edit it: nobody
        is at the table to serve, and the POS no longer shows it."""
        return any(r is rnd for table in self.tables for party in table.past for r in party.rounds)

    def pin_sure(self, table: TableModel, device: str) -> bool:
        return (
            table.wrong_pins < SURE_BELOW
            and self.device_wrong_pins.get(device, 0) < SURE_BELOW
        )

    def count_wrong_pin(self, table: TableModel, device: str) -> None:
        table.wrong_pins += 1
        self.device_wrong_pins[device] = self.device_wrong_pins.get(device, 0) + 1
