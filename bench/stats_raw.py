"""The statistics computed the naive way, for bench/stats.py to compare with the rollups:
SQL over the rooms' raw rows (the till's tickets and lines, the tables' sessions, rounds,
lines and payments, the brews, the top-ups), filtered by the range's instants and grouped
by local time on each view. PostgreSQL only. The same figures as backoffice/stats.py, by
the same definitions (docs/statistics.md), so that the bench also checks the two agree."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backoffice.facts import PTYPES
from backoffice.stats import MEASURES, Measure, Query, Row

LOCAL = "(f.at AT TIME ZONE :tz)"
# One row per fact of each channel: site, instant, count, quantity, amount, seconds.
SOURCES = {
    "sales": """
        SELECT t.site_id, t.created_at AS at,
               CASE t.kind WHEN 'sale' THEN 1 WHEN 'void' THEN -1 ELSE 0 END AS n,
               (SELECT coalesce(sum(l.quantity), 0) FROM pos_ticket_line l
                 WHERE l.ticket_id = t.id) AS qty,
               t.total_incl AS amount, 0 AS secs
          FROM pos_ticket t
         WHERE t.company_id = :company AND NOT t.training
           AND t.kind IN ('sale', 'refund', 'void')""",
    "tables": """
        SELECT d.site_id, s.settled_at AS at, 1 AS n,
               (SELECT coalesce(sum(o.quantity), 0) FROM order_line o
                 WHERE o.session_id = s.id AND o.round_id IS NOT NULL) AS qty,
               (SELECT coalesce(sum(p.amount), 0) FROM payment p
                 WHERE p.session_id = s.id) AS amount, 0 AS secs
          FROM table_session s JOIN dining_table d ON d.id = s.table_id
          JOIN site ON site.id = d.site_id
         WHERE site.company_id = :company AND s.settled_at IS NOT NULL""",
    "brews": """
        SELECT m.site_id, b.finished_at AS at, 1 AS n, 1 AS qty,
               CASE WHEN b.charge = 'none' OR b.refunded THEN 0 ELSE b.price END AS amount,
               0 AS secs
          FROM brew b JOIN machine m ON m.id = b.machine_id
          JOIN site ON site.id = m.site_id
         WHERE site.company_id = :company AND b.status = 'done'""",
    "rounds": """
        SELECT d.site_id, r.submitted_at AS at, 1 AS n, 0 AS qty,
               (SELECT coalesce(sum(o.quantity * o.unit_price), 0) FROM order_line o
                 WHERE o.round_id = r.id) AS amount, 0 AS secs
          FROM round r JOIN table_session s ON s.id = r.session_id
          JOIN dining_table d ON d.id = s.table_id JOIN site ON site.id = d.site_id
         WHERE site.company_id = :company""",
    "turns": """
        SELECT d.site_id, s.closed_at AS at, 1 AS n, 0 AS qty, 0 AS amount,
               extract(epoch FROM s.closed_at - s.opened_at)::bigint AS secs
          FROM table_session s JOIN dining_table d ON d.id = s.table_id
          JOIN site ON site.id = d.site_id
         WHERE site.company_id = :company AND s.settled_at IS NOT NULL
           AND s.closed_at IS NOT NULL""",
    "topups": """
        SELECT 0 AS site_id, p.updated_at AS at,
               CASE p.status WHEN 'refunded' THEN 0 ELSE 1 END AS n, 0 AS qty,
               CASE p.status WHEN 'refunded' THEN 0 ELSE p.amount END AS amount, 0 AS secs
          FROM provider_payment p
         WHERE p.company_id = :company AND p.purpose = 'topup'
           AND p.status IN ('succeeded', 'refunded')""",
}
# A dimension's rows, per channel: site, instant, dimension id, count, quantity, amount.
DIMENSIONS: dict[tuple[str, str], str] = {
    ("sales", "method"): """
        SELECT t.site_id, t.created_at AS at,
               CASE p.method WHEN 'cash' THEN 1 ELSE 2 END AS dim,
               CASE t.kind WHEN 'sale' THEN 1 WHEN 'void' THEN -1 ELSE 0 END AS n,
               0 AS qty, p.amount AS amount
          FROM pos_ticket t JOIN pos_ticket_payment p ON p.ticket_id = t.id
         WHERE t.company_id = :company AND NOT t.training
           AND t.kind IN ('sale', 'refund', 'void')""",
    ("tables", "method"): """
        SELECT d.site_id, s.settled_at AS at,
               CASE p.method WHEN 'cash' THEN 1 ELSE 2 END AS dim, 1 AS n, 0 AS qty,
               p.amount AS amount
          FROM payment p JOIN table_session s ON s.id = p.session_id
          JOIN dining_table d ON d.id = s.table_id JOIN site ON site.id = d.site_id
         WHERE site.company_id = :company AND s.settled_at IS NOT NULL""",
    ("brews", "method"): """
        SELECT m.site_id, b.finished_at AS at,
               CASE b.charge WHEN 'credit' THEN 4 ELSE 3 END AS dim, 1 AS n, 1 AS qty,
               b.price AS amount
          FROM brew b JOIN machine m ON m.id = b.machine_id JOIN site ON site.id = m.site_id
         WHERE site.company_id = :company AND b.status = 'done'
           AND b.charge <> 'none' AND NOT b.refunded AND b.price > 0""",
    ("sales", "product"): """
        SELECT t.site_id, t.created_at AS at, pr.id AS dim,
               CASE t.kind WHEN 'sale' THEN 1 WHEN 'void' THEN -1 ELSE 0 END AS n,
               l.quantity AS qty, l.total_incl AS amount
          FROM pos_ticket t JOIN pos_ticket_line l ON l.ticket_id = t.id
          JOIN product pr ON pr.site_id = t.site_id AND pr.name = l.label
         WHERE t.company_id = :company AND NOT t.training
           AND t.kind IN ('sale', 'refund', 'void')""",
    ("tables", "product"): """
        SELECT d.site_id, s.settled_at AS at, o.product_id AS dim, 1 AS n,
               o.quantity AS qty, o.quantity * o.unit_price AS amount
          FROM order_line o JOIN table_session s ON s.id = o.session_id
          JOIN dining_table d ON d.id = s.table_id JOIN site ON site.id = d.site_id
         WHERE site.company_id = :company AND s.settled_at IS NOT NULL
           AND o.round_id IS NOT NULL""",
}
for _channel in ("sales", "tables"):
    DIMENSIONS[_channel, "category"] = (
        DIMENSIONS[_channel, "product"]
        .replace("pr.id AS dim", "pr.category_id AS dim")
        .replace("o.product_id AS dim", "(SELECT category_id FROM product WHERE id = "
                 "o.product_id) AS dim"))
for _dim, _column in (("machine", "b.machine_id"), ("product", "b.product_id"),
                      ("consumer", "b.consumer_id"), ("group", "b.group_id"),
                      ("selection", "m.selection_id")):
    DIMENSIONS["brews", _dim] = f"""
        SELECT m.site_id, b.finished_at AS at, {_column} AS dim, 1 AS n, 1 AS qty,
               CASE WHEN b.charge = 'none' OR b.refunded THEN 0 ELSE b.price END AS amount
          FROM brew b JOIN machine m ON m.id = b.machine_id JOIN site ON site.id = m.site_id
         WHERE site.company_id = :company AND b.status = 'done' AND {_column} IS NOT NULL"""

DIMENSIONS["brews", "ptype"] = DIMENSIONS["brews", "machine"].replace(
    "b.machine_id AS dim", "CASE b.product_type " + " ".join(
        f"WHEN '{name}' THEN {n}" for n, name in enumerate(PTYPES, start=1)) + " ELSE 0 END AS dim")

BUCKETS = {
    "hour": f"to_char({LOCAL}, 'YYYY-MM-DD\"T\"HH24')",
    "day": f"to_char({LOCAL}, 'YYYY-MM-DD')",
    "week": f"to_char(date_trunc('week', {LOCAL}), 'YYYY-MM-DD')",
    "month": f"to_char({LOCAL}, 'YYYY-MM')",
}
CHANNEL_NAMES = {"sales": "counter", "tables": "tables", "brews": "machines",
                 "rounds": "tables", "turns": "tables", "topups": "topups"}
METHOD_NAMES = {1: "cash", 2: "card", 3: "online", 4: "credit"}


async def _sums(session: AsyncSession, source: str, group: str, params: dict[str, Any],
                sites: frozenset[int]) -> list[Any]:
    where = "f.at >= :lo AND f.at < :hi"
    if sites:
        where += f" AND f.site_id IN ({', '.join(str(int(s)) for s in sorted(sites))})"
    key = f"{group} AS key, " if group else ""
    group_by = "GROUP BY 1" if group else ""
    sql = (f"SELECT {key}sum(f.n), sum(f.qty), sum(f.amount), "
           f"{'sum(f.secs)' if 'secs' in source else '0'} "
           f"FROM ({source}) AS f WHERE {where} {group_by}")
    return list((await session.execute(text(sql), params)).all())


async def read(session: AsyncSession, company_id: int, tz: str, query: Query,
               group: str = "") -> dict[str, int]:
    """The measure's value by key: "" (one total), a bucket, a site, a channel, or a
    dimension's id (`group` "dim", with `query.by`)."""
    names, value = MEASURES[query.measure]
    zone = ZoneInfo(tz)
    params = {"company": company_id, "tz": tz,
              "lo": datetime.combine(query.start, time(), zone).astimezone(UTC),
              "hi": datetime.combine(query.end + timedelta(days=1), time(), zone).astimezone(UTC)}
    sums: dict[str, tuple[int, int, int, int]] = defaultdict(lambda: (0, 0, 0, 0))
    for name in names:
        if query.machines and name != "brews" or query.categories:
            continue  # only a machines filter on brews is measured raw
        if group == "dim":
            source = DIMENSIONS.get((name, query.by or ""))
            if source is None:
                continue
            column = "f.dim"
        else:
            source = SOURCES[name]
            column = {"": "", "site": "f.site_id", "channel": f"'{CHANNEL_NAMES[name]}'"}.get(
                group, BUCKETS.get(group, group))
        if query.machines:
            source += f" AND b.machine_id IN ({', '.join(str(m) for m in query.machines)})"
        for row in await _sums(session, source, column, params, query.sites):
            *key, c, q, a, s = row
            k = str(key[0]) if key else ""
            old = sums[k]
            sums[k] = (old[0] + int(c or 0), old[1] + int(q or 0), old[2] + int(a or 0),
                       old[3] + int(s or 0))
    return {k: value(v) for k, v in sums.items()}


async def figure(session: AsyncSession, company_id: int, tz: str, query: Query) -> int:
    return (await read(session, company_id, tz, query)).get("", 0)


async def series(session: AsyncSession, company_id: int, tz: str, query: Query) -> list[Row]:
    if query.granularity is not None:
        values = await read(session, company_id, tz, query, str(query.granularity))
        return [Row(k, None, v) for k, v in sorted(values.items())]
    group = {"site": "site", "channel": "channel"}.get(query.by or "", "dim")
    values = await read(session, company_id, tz, query, group)
    if query.by == "method":
        values = {METHOD_NAMES.get(int(k), k): v for k, v in values.items()}
    if query.top is not None:  # the largest first, ties by id: as the database ranks them
        ranked = sorted(values.items(), key=lambda kv: (-kv[1], int(kv[0])))[:query.top]
        values = dict(ranked)
    return sorted((Row(k, None, v) for k, v in values.items()), key=lambda r: (-r.value, r.key))


async def heat_map(session: AsyncSession, company_id: int, tz: str, measure: Measure,
                   start: date, end: date) -> dict[tuple[int, int], int]:
    values = await read(session, company_id, tz, Query(measure, start, end),
                        f"extract(isodow FROM {LOCAL})::int * 100 + "
                        f"extract(hour FROM {LOCAL})::int")
    grid = {(d, h): 0 for d in range(1, 8) for h in range(24)}
    for key, value in values.items():
        grid[int(key) // 100, int(key) % 100] = value
    return grid
