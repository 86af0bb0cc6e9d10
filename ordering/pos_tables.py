"""The POS's tables: each table of a site with its open session's rounds and bill.

The POS view is rebuilt inside the transaction of every change at the site, so all its
tables are read in four statements however many are open (tables, rounds with their
lines, payments, loyalty rewards on their bills), each round and bill shown as the table's
own view shows it (ordering/table_view.py), plus who took the round at the POS.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from accounts.models import Staff
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
from ordering.table_lock import table_state
from ordering.table_payment import bill
from ordering.table_view import line_view, round_view
from payments.models import ProviderPayment
from payments.payment_state import IN_PLAY


@dataclass(frozen=True)
class PosTable:
    tile: dict[str, Any]  # the table map's entry
    rounds: list[dict[str, Any]]  # its open session's, in order


# Statements are built once: building one costs more than running it.
_OPEN_AT_SITE = (
    select(TableSession.id)
    .join(DiningTable, DiningTable.id == TableSession.table_id)
    .where(DiningTable.site_id == bindparam("site_id"), TableSession.closed_at.is_(None))
)

_TABLES = (
    select(
        DiningTable.id,
        DiningTable.label,
        TableSession.id.label("session_id"),
        TableSession.status,
        TableSession.pin,
        TableSession.opened_at,
        select(func.count(Member.id))
        .where(Member.session_id == TableSession.id)
        .scalar_subquery()
        .label("members"),
    )
    .outerjoin(
        TableSession,
        and_(TableSession.table_id == DiningTable.id, TableSession.closed_at.is_(None)),
    )
    .where(DiningTable.site_id == bindparam("site_id"), DiningTable.archived_at.is_(None))
    .order_by(DiningTable.position, DiningTable.id)
)

_SUBMITTER, _OWNER = aliased(Member), aliased(Member)

# One row per line of a round, or one with no line for a round left without any.
_ROUND_LINES = (
    select(
        Round.session_id,
        Round.id,
        Round.number,
        Round.status,
        Round.revision,
        Round.reason,
        _SUBMITTER.name.label("submitted_by"),
        Staff.name.label("taken_by"),
        Round.submitted_at,
        OrderLine.id.label("line_id"),
        OrderLine.client_id,
        OrderLine.member_id,
        _OWNER.name.label("member"),
        OrderLine.product_id,
        Product.name.label("product"),
        OrderLine.quantity,
        OrderLine.unit_price,
        OrderLine.note,
    )
    .select_from(Round)
    .outerjoin(_SUBMITTER, _SUBMITTER.id == Round.submitted_by)
    .outerjoin(Staff, Staff.id == Round.staff_id)
    .outerjoin(OrderLine, and_(OrderLine.round_id == Round.id, OrderLine.quantity > 0))
    .outerjoin(Product, Product.id == OrderLine.product_id)
    .outerjoin(_OWNER, _OWNER.id == OrderLine.member_id)
    .where(Round.session_id.in_(_OPEN_AT_SITE))
    .order_by(Round.session_id, Round.number, OrderLine.id)
)

_PAYMENTS = (
    select(
        ProviderPayment.table_session_id,
        ProviderPayment.id,
        ProviderPayment.status,
        ProviderPayment.purpose,
        ProviderPayment.amount,
        ProviderPayment.round_id,
        ProviderPayment.checkout_url,
        ProviderPayment.created_at,
    )
    .where(
        ProviderPayment.table_session_id.in_(_OPEN_AT_SITE),
        ProviderPayment.status.in_(IN_PLAY),
    )
    .order_by(ProviderPayment.id)
)


_REWARDS = (
    select(TableReward.session_id, TableReward.reward_name, TableReward.discount)
    .where(TableReward.session_id.in_(_OPEN_AT_SITE), TableReward.given_back_at.is_(None))
    .order_by(TableReward.id)
)


def _rounds(rows: Sequence[Any]) -> dict[int, list[dict[str, Any]]]:
    """Each session's rounds with their lines, from rows ordered by session, round, line."""
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    heads: dict[int, Row[Any]] = {}
    for row in rows:
        heads.setdefault(row.id, row)
        if row.line_id is not None:
            lines[row.id].append(line_view(
                row.line_id, row.client_id, row.member_id, row.member, row.product_id,
                row.product, row.quantity, row.unit_price, row.note, row.id,
            ))
    by_session: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for round_id, row in heads.items():  # in the rows' order
        by_session[row.session_id].append(round_view(
            round_id, row.number, row.status, row.revision, row.reason, row.submitted_by,
            row.taken_by, row.submitted_at, lines[round_id],
        ))
    return by_session


async def pos_tables(session: AsyncSession, site_id: int) -> list[PosTable]:
    # Core on the session's connection, after writing out what the change left pending.
    await session.flush()
    connection = await session.connection()
    params = {"site_id": site_id}
    tables = (await connection.execute(_TABLES, params)).all()
    rounds = _rounds((await connection.execute(_ROUND_LINES, params)).all())
    payments: dict[int, list[Any]] = defaultdict(list)
    for payment in (await connection.execute(_PAYMENTS, params)).all():
        payments[payment.table_session_id].append(payment)
    rewards = {row.session_id: row for row in (await connection.execute(_REWARDS, params)).all()}
    found: list[PosTable] = []
    for table in tables:
        if table.session_id is None:
            found.append(PosTable(_free_tile(table), []))
            continue
        table_rounds = rounds.get(table.session_id, [])
        paid = payment_state(payments.get(table.session_id, []))
        reward = rewards.get(table.session_id)
        billed = bill(((r["status"], r["total"]) for r in table_rounds), paid["paid"],
                      reward.discount if reward else 0)
        state = table_state(table.status, [r["status"] for r in table_rounds])
        tile = {
            "id": table.id,
            "label": table.label,
            "state": state,
            "session_id": table.session_id,
            "pin": table.pin,
            "members": table.members,
            # Settled at the till: the bill is paid, whatever the phones paid of it.
            "due": 0 if state == "settled" else billed.due,
            "paid": billed.paid,
            "reward": None if reward is None else {
                "name": reward.reward_name, "discount": billed.discount},
            "payment": paid["payment"],
            "opened_at": table.opened_at.isoformat(),
        }
        found.append(PosTable(tile, table_rounds))
    return found


def _free_tile(table: Row[Any]) -> dict[str, Any]:
    return {
        "id": table.id,
        "label": table.label,
        "state": table_state(None, []),
        "session_id": None,
        "pin": None,
        "members": 0,
        "due": 0,
        "paid": 0,
        "reward": None,
        "payment": None,
        "opened_at": None,
    }
