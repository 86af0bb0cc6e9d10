"""The `table:{id}` view: the table, its open session, members, cart, rounds and bill.

It is rebuilt from the database inside the transaction of every change at the table, so
it is read with as few round trips as possible: one for the table (skipped when the
change already read it) and one for everything in the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company, Site, Staff
from db.base import UTCDateTime
from ordering import cart
from ordering.models import (
    DiningTable,
    Member,
    OrderLine,
    Product,
    Round,
    TableReward,
    TableSession,
)
from ordering.payment_views import payment_state
from ordering.session_state import SessionStatus
from ordering.table_lock import table_state
from ordering.table_payment import bill
from payments.models import ProviderPayment
from payments.payment_state import IN_PLAY


@dataclass(frozen=True)
class TableHeader:
    """The table, its site and company as the view shows them, and its open session."""

    table_id: int
    label: str
    mode: str  # the table's own, or its site's
    site_id: int
    company_id: int
    currency: str
    timezone: str
    session: TableSession | None


# Statements are built once: building one costs more than running it.
_HEADER = (
    select(
        DiningTable.label,
        DiningTable.mode,
        Site.id,
        Site.company_id,
        Site.table_mode,
        Company.currency,
        Company.timezone,
        TableSession,
    )
    .join(Site, Site.id == DiningTable.site_id)
    .join(Company, Company.id == Site.company_id)
    .outerjoin(
        TableSession,
        and_(TableSession.table_id == DiningTable.id, TableSession.closed_at.is_(None)),
    )
    .where(DiningTable.id == bindparam("table_id"))
)


async def table_header(session: AsyncSession, table_id: int) -> TableHeader:
    row = (await session.execute(_HEADER, {"table_id": table_id})).one()
    label, mode, site_id, company_id, site_mode, currency, timezone, ts = row
    return TableHeader(
        table_id, label, mode or site_mode, site_id, company_id, currency, timezone, ts
    )


# A session's rounds, members, lines, online payments and loyalty reward in one statement:
# one row shape for the five, told apart by `kind`. Rounds come first so that the compound's column
# types (which SQLAlchemy takes from its first SELECT) are the real ones.
_ROUND, _MEMBER, _LINE, _PAYMENT, _REWARD = 0, 1, 2, 3, 4
# Typed NULLs: PostgreSQL resolves a column that is NULL in the first two SELECTs as text.
_INT, _TEXT = cast(null(), BigInteger), cast(null(), String)
def _kind(kind: int) -> Any:
    return literal_column(str(kind), Integer)


_SESSION_ROWS = union_all(
    select(
        _kind(_ROUND).label("kind"), Round.number.label("pos"), Round.id, Round.number.label("n1"),
        Round.revision.label("n2"), Round.submitted_by.label("n3"), _INT.label("n4"),
        _INT.label("n5"), Round.status.label("t1"), Round.reason.label("t2"),
        Staff.name.label("t3"), Round.submitted_at.label("at"), _INT.label("n6"),
        _INT.label("n7"),
    )
    .outerjoin(Staff, Staff.id == Round.staff_id)
    .where(Round.session_id == bindparam("session_id")),
    select(
        _kind(_MEMBER), Member.id, Member.id, _INT, _INT, _INT, _INT, _INT, Member.name,
        Member.device_key, _TEXT, type_coerce(null(), UTCDateTime), _INT, _INT,
    ).where(Member.session_id == bindparam("session_id")),
    select(
        _kind(_LINE), OrderLine.id, OrderLine.id, OrderLine.member_id, OrderLine.product_id,
        OrderLine.quantity, OrderLine.unit_price, OrderLine.round_id, Product.name,
        OrderLine.note, OrderLine.client_id, type_coerce(null(), UTCDateTime),
        # The menu's price and availability now: a cart line is priced from them until sent.
        Product.price, case((Product.available.is_(True), 1), else_=0),
    )
    .join(Product, Product.id == OrderLine.product_id)
    .where(OrderLine.session_id == bindparam("session_id")),
    select(
        _kind(_PAYMENT), ProviderPayment.id, ProviderPayment.id, ProviderPayment.amount,
        ProviderPayment.round_id, _INT, _INT, _INT, ProviderPayment.status,
        ProviderPayment.purpose, ProviderPayment.checkout_url, ProviderPayment.created_at,
        _INT, _INT,
    ).where(
        ProviderPayment.table_session_id == bindparam("session_id"),
        ProviderPayment.status.in_(IN_PLAY),
    ),
    select(
        _kind(_REWARD), TableReward.id, TableReward.id, TableReward.discount,
        TableReward.consumer_id, TableReward.reward_id,
        case((TableReward.coupon.is_(True), 1), else_=0), _INT, TableReward.reward_name, _TEXT,
        _TEXT, TableReward.created_at, _INT, _INT,
    ).where(
        TableReward.session_id == bindparam("session_id"), TableReward.given_back_at.is_(None)
    ),
).order_by("kind", "pos")


def _amounts(lines: list[dict[str, Any]]) -> list[cart.LineAmount]:
    return [cart.LineAmount(ln["member_id"], ln["quantity"], ln["unit_price"]) for ln in lines]


@dataclass(frozen=True)
class _Payment:
    id: int
    status: str
    purpose: str
    amount: int
    round_id: int | None
    checkout_url: str | None
    created_at: datetime


def line_view(
    id: int, client_id: str, member_id: int | None, member: str | None, product_id: int,
    name: str, quantity: int, unit_price: int, note: str, round_id: int | None,
    *, available: bool = True, price_was: int | None = None,
) -> dict[str, Any]:
    """A line as every view shows it (the table's, the POS's). A cart line also says
    whether its product can still be ordered, and the price it was added at when the menu's
    has changed since (`price_was`; `unit_price` is the menu's)."""
    return {
        "id": id,
        "client_id": client_id,
        "member_id": member_id,
        "member": member,
        "product_id": product_id,
        "name": name,
        "quantity": quantity,
        "unit_price": unit_price,
        "amount": quantity * unit_price,
        "note": note,
        "round_id": round_id,
        "available": available,
        "price_was": price_was,
    }


def round_view(
    id: int, number: int, status: str, revision: int, reason: str | None,
    submitted_by: str | None, taken_by: str | None, submitted_at: datetime,
    lines: list[dict[str, Any]],
) -> dict[str, Any]:
    """A round as every view shows it: `submitted_by` the diner who sent it, `taken_by`
    the staff member who took it at the POS; `lines` those still ordered (quantity > 0)."""
    return {
        "id": id,
        "number": number,
        "status": status,
        "revision": revision,
        "reason": reason,
        "submitted_by": submitted_by,
        "taken_by": taken_by,
        "submitted_at": submitted_at.isoformat(),
        "lines": lines,
        "total": cart.total(_amounts(lines)),
    }


def _split(rows: Sequence[Row[Any]]) -> tuple[list[Row[Any]], ...]:
    kinds: tuple[list[Row[Any]], ...] = ([], [], [], [], [])
    for row in rows:
        kinds[row.kind].append(row)
    return kinds


def _line(row: Row[Any], names: dict[int, str]) -> dict[str, Any]:
    member = names.get(row.n1) if row.n1 else None
    if row.n5 is not None:  # sent: priced as it was sent
        return line_view(row.id, row.t3, row.n1, member, row.n2, row.t1, row.n3, row.n4,
                         row.t2, row.n5)
    return line_view(
        row.id, row.t3, row.n1, member, row.n2, row.t1, row.n3, row.n6, row.t2, None,
        available=bool(row.n7), price_was=row.n4 if row.n4 != row.n6 else None,
    )


async def session_detail(session: AsyncSession, ts: TableSession) -> dict[str, Any]:
    # Run as Core on the session's connection (plain rows, no ORM work on every change),
    # after writing out what the change left pending.
    await session.flush()
    connection = await session.connection()
    rows = (await connection.execute(_SESSION_ROWS, {"session_id": ts.id})).all()
    rounds, members, line_rows, payment_rows, rewards = _split(rows)
    names = {m.id: m.t1 for m in members}
    lines = [_line(ln, names) for ln in line_rows]
    cart_lines = [ln for ln in lines if ln["round_id"] is None]
    round_views = [
        round_view(
            rnd.id, rnd.n1, rnd.t1, rnd.n2, rnd.t2, names.get(rnd.n3) if rnd.n3 else None,
            rnd.t3, rnd.at, [ln for ln in lines if ln["round_id"] == rnd.id and ln["quantity"] > 0],
        )
        for rnd in rounds
    ]
    payments = payment_state(
        _Payment(p.id, p.t1, p.t2, p.n1, p.n2, p.t3, p.at) for p in payment_rows
    )
    reward = rewards[0] if rewards else None
    billed = bill(((r["status"], r["total"]) for r in round_views), payments["paid"],
                  reward.n1 if reward else 0)
    return {
        "id": ts.id,
        "status": ts.status,
        "pin": ts.pin,
        "opened_at": ts.opened_at.isoformat(),
        "members": [{"id": m.id, "name": m.t1, "key": m.t2} for m in members],
        "cart": cart_lines,
        "cart_total": cart.total(_amounts(cart_lines)),
        "subtotals": {
            str(k): v for k, v in cart.subtotals(_amounts(cart_lines)).items() if k is not None
        },
        "rounds": round_views,
        "ordered": billed.ordered,
        "paid": billed.paid,  # online, from phones
        # What is left to pay; nothing once settled (at the till, whatever phones paid).
        "due": 0 if ts.status == SessionStatus.SETTLED else billed.due,
        "discount": billed.discount,  # what the loyalty reward takes off
        "reward": None if reward is None else {
            "id": reward.id, "name": reward.t1, "consumer_id": reward.n2,
            "coupon": bool(reward.n4), "discount": billed.discount,
        },
        "payment": payments["payment"],  # a phone's payment in progress
    }


async def table_view(
    session: AsyncSession, table_id: int, header: TableHeader | None = None
) -> dict[str, Any]:
    """The view; `header` is what the change already read of the table, if it did."""
    if header is None:
        header = await table_header(session, table_id)
    ts = header.session
    detail = await session_detail(session, ts) if ts else None
    statuses = [r["status"] for r in detail["rounds"]] if detail else []
    return {
        "table": {
            "id": table_id,
            "label": header.label,
            "site_id": header.site_id,
            "company_id": header.company_id,
            "mode": header.mode,
            "state": table_state(ts.status if ts else None, statuses),
        },
        "currency": header.currency,
        "timezone": header.timezone,
        "session": detail,
    }
