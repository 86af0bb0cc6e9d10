"""What each ordering topic shows, read from the database in one go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company, Site
from ordering import cart
from ordering.models import (
    Category,
    DiningTable,
    Member,
    OrderLine,
    PinFailure,
    Product,
    Round,
    TableSession,
    Ticket,
)
from ordering.round_state import IN_KITCHEN
from ordering.table_lock import table_state


def table_topic(table_id: int) -> str:
    return f"table:{table_id}"


def pos_topic(site_id: int) -> str:
    return f"site:{site_id}:pos"


def station_topic(site_id: int, station: str) -> str:
    return f"site:{site_id}:station:{station}"


def menu_topic(site_id: int) -> str:
    return f"menu:{site_id}"


async def active_session(session: AsyncSession, table_id: int) -> TableSession | None:
    return await session.scalar(
        select(TableSession).where(
            TableSession.table_id == table_id, TableSession.closed_at.is_(None)
        )
    )


async def company_of_site(session: AsyncSession, site_id: int) -> Company:
    company = await session.scalar(
        select(Company).join(Site, Site.company_id == Company.id).where(Site.id == site_id)
    )
    assert company is not None
    return company


def _line(line: OrderLine, product: Product, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": line.id,
        "client_id": line.client_id,
        "member_id": line.member_id,
        "member": names.get(line.member_id) if line.member_id else None,
        "product_id": line.product_id,
        "name": product.name,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "amount": line.quantity * line.unit_price,
        "note": line.note,
        "round_id": line.round_id,
    }


def _amounts(lines: list[dict[str, Any]]) -> list[cart.LineAmount]:
    return [cart.LineAmount(ln["member_id"], ln["quantity"], ln["unit_price"]) for ln in lines]


async def session_detail(session: AsyncSession, ts: TableSession) -> dict[str, Any]:
    members = (
        await session.scalars(select(Member).where(Member.session_id == ts.id).order_by(Member.id))
    ).all()
    names = {m.id: m.name for m in members}
    rows = (
        await session.execute(
            select(OrderLine, Product)
            .join(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.session_id == ts.id)
            .order_by(OrderLine.id)
        )
    ).all()
    lines = [_line(line, product, names) for line, product in rows]
    rounds = (
        await session.scalars(select(Round).where(Round.session_id == ts.id).order_by(Round.number))
    ).all()
    cart_lines = [ln for ln in lines if ln["round_id"] is None]
    round_views = []
    for rnd in rounds:
        rlines = [ln for ln in lines if ln["round_id"] == rnd.id and ln["quantity"] > 0]
        round_views.append(
            {
                "id": rnd.id,
                "number": rnd.number,
                "status": rnd.status,
                "revision": rnd.revision,
                "reason": rnd.reason,
                "submitted_by": names.get(rnd.submitted_by) if rnd.submitted_by else None,
                "submitted_at": rnd.submitted_at.isoformat(),
                "lines": rlines,
                "total": cart.total(_amounts(rlines)),
            }
        )
    due = sum(r["total"] for r in round_views if r["status"] != "refused")
    return {
        "id": ts.id,
        "status": ts.status,
        "pin": ts.pin,
        "opened_at": ts.opened_at.isoformat(),
        "members": [{"id": m.id, "name": m.name, "key": m.device_key} for m in members],
        "cart": cart_lines,
        "cart_total": cart.total(_amounts(cart_lines)),
        "subtotals": {
            str(k): v for k, v in cart.subtotals(_amounts(cart_lines)).items() if k is not None
        },
        "rounds": round_views,
        "due": due,
    }


async def table_view(session: AsyncSession, table_id: int) -> dict[str, Any]:
    table = await session.get(DiningTable, table_id)
    assert table is not None
    site = await session.get(Site, table.site_id)
    assert site is not None
    company = await company_of_site(session, site.id)
    ts = await active_session(session, table_id)
    detail = await session_detail(session, ts) if ts else None
    statuses = [r["status"] for r in detail["rounds"]] if detail else []
    return {
        "table": {
            "id": table.id,
            "label": table.label,
            "site_id": site.id,
            "company_id": site.company_id,
            "mode": table.mode or site.table_mode,
            "state": table_state(ts.status if ts else None, statuses),
        },
        "currency": company.currency,
        "timezone": company.timezone,
        "session": detail,
    }


async def menu_view(session: AsyncSession, site_id: int) -> dict[str, Any]:
    company = await company_of_site(session, site_id)
    categories = (
        await session.scalars(
            select(Category).where(Category.site_id == site_id).order_by(Category.position)
        )
    ).all()
    products = (
        await session.scalars(
            select(Product).where(Product.site_id == site_id).order_by(Product.position)
        )
    ).all()
    return {
        "site_id": site_id,
        "currency": company.currency,
        "categories": [
            {
                "id": c.id,
                "name": c.name,
                "station": c.station,
                "products": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "description": p.description,
                        "price": p.price,
                        "available": p.available,
                    }
                    for p in products
                    if p.category_id == c.id
                ],
            }
            for c in categories
        ],
    }


async def pin_blocked_tables(
    session: AsyncSession, site_id: int, limit: int, window_s: int
) -> list[dict[str, Any]]:
    since = datetime.now(UTC) - timedelta(seconds=window_s)
    rows = (
        await session.execute(
            select(PinFailure.table_id, func.count(), func.max(PinFailure.at))
            .join(DiningTable, DiningTable.id == PinFailure.table_id)
            .where(DiningTable.site_id == site_id, PinFailure.at >= since)
            .group_by(PinFailure.table_id)
            .having(func.count() >= limit)
        )
    ).all()
    return [{"table_id": t, "kind": "pin_blocked", "failures": n, "at": at} for t, n, at in rows]


async def pos_view(
    session: AsyncSession, site_id: int, pin_limit: int = 5, pin_window_s: int = 600
) -> dict[str, Any]:
    company = await company_of_site(session, site_id)
    tables = (
        await session.scalars(
            select(DiningTable)
            .where(DiningTable.site_id == site_id)
            .order_by(DiningTable.position, DiningTable.id)
        )
    ).all()
    open_sessions = {
        ts.table_id: ts
        for ts in (
            await session.scalars(
                select(TableSession)
                .join(DiningTable, DiningTable.id == TableSession.table_id)
                .where(DiningTable.site_id == site_id, TableSession.closed_at.is_(None))
            )
        ).all()
    }
    table_views = []
    queue = []
    kitchen = []
    labels = {t.id: t.label for t in tables}
    for table in tables:
        ts = open_sessions.get(table.id)
        detail = await session_detail(session, ts) if ts else None
        statuses = [r["status"] for r in detail["rounds"]] if detail else []
        table_views.append(
            {
                "id": table.id,
                "label": table.label,
                "state": table_state(ts.status if ts else None, statuses),
                "session_id": ts.id if ts else None,
                "pin": ts.pin if ts else None,
                "members": len(detail["members"]) if detail else 0,
                "due": detail["due"] if detail else 0,
                "opened_at": ts.opened_at.isoformat() if ts else None,
            }
        )
        for rnd in detail["rounds"] if detail else []:
            entry = {**rnd, "table_id": table.id, "table": labels[table.id]}
            if rnd["status"] == "to_validate":
                queue.append(entry)
            elif rnd["status"] in IN_KITCHEN:
                kitchen.append(entry)
    queue.sort(key=lambda r: r["submitted_at"])
    kitchen.sort(key=lambda r: r["submitted_at"])
    alerts = await pin_blocked_tables(session, site_id, pin_limit, pin_window_s)
    for alert in alerts:
        alert["table"] = labels.get(alert["table_id"])
        alert["at"] = alert["at"].isoformat() if alert["at"] else None
    products = (
        await session.execute(
            select(Product.id, Product.name)
            .where(Product.site_id == site_id, Product.available.is_(True))
            .order_by(Product.category_id, Product.position)
        )
    ).all()
    return {
        "site_id": site_id,
        "currency": company.currency,
        "timezone": company.timezone,
        "now": datetime.now(UTC).isoformat(),
        "products": [{"id": pid, "name": name} for pid, name in products],
        "tables": table_views,
        "queue": queue,
        "in_production": kitchen,
        "alerts": alerts,
    }


async def station_view(session: AsyncSession, site_id: int, station: str) -> dict[str, Any]:
    rows = (
        await session.execute(
            select(Ticket, Round, DiningTable)
            .join(Round, Round.id == Ticket.round_id)
            .join(TableSession, TableSession.id == Round.session_id)
            .join(DiningTable, DiningTable.id == TableSession.table_id)
            .where(
                Ticket.site_id == site_id,
                Ticket.station == station,
                Ticket.status != "served",
            )
            .order_by(Round.submitted_at)
        )
    ).all()
    tickets = []
    for ticket, rnd, table in rows:
        lines = (
            await session.execute(
                select(OrderLine, Product)
                .join(Product, Product.id == OrderLine.product_id)
                .join(Category, Category.id == Product.category_id)
                .where(
                    OrderLine.round_id == rnd.id,
                    Category.station == station,
                    OrderLine.quantity > 0,
                )
                .order_by(OrderLine.id)
            )
        ).all()
        tickets.append(
            {
                "id": ticket.id,
                "round_id": rnd.id,
                "round": rnd.number,
                "table": table.label,
                "status": ticket.status,
                "submitted_at": rnd.submitted_at.isoformat(),
                "lines": [
                    {"name": p.name, "quantity": ln.quantity, "note": ln.note} for ln, p in lines
                ],
            }
        )
    company = await company_of_site(session, site_id)
    return {
        "site_id": site_id,
        "station": station,
        "timezone": company.timezone,
        "tickets": tickets,
    }
