"""Rows written in bulk: COPY on PostgreSQL (asyncpg's binary copy through the session's
own connection, so in its transaction), executemany in chunks on SQLite.

Rows wait per table and go out in the tables' foreign-key order, so that a row's parents
are always written before it. Nothing of the ORM runs on them: every column a row leaves
out is NULL or its column's constant default, and ids are the caller's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base

CHUNK = 20_000  # rows of all tables waiting before they go out


def _default(table: Table, name: str) -> Any:
    column = table.c[name]
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        return getattr(default, "arg", None)
    return None


class Bulk:
    """Rows added per table; `flush` writes what waits, `close` the rest and moves each
    written table's id sequence past the ids given (PostgreSQL)."""

    def __init__(self, session: AsyncSession, chunk: int = CHUNK) -> None:
        self.session = session
        self.chunk = chunk
        self.postgresql = session.get_bind().dialect.name == "postgresql"
        self.waiting: dict[str, list[dict[str, Any]]] = {}
        self.pending = 0
        self.written: dict[str, int] = {}
        self._order = [t.name for t in Base.metadata.sorted_tables]

    async def next_id(self, table: str) -> int:
        """The first id free in a table (the seed numbers its own rows)."""
        found = await self.session.scalar(select(func.max(Base.metadata.tables[table].c.id)))
        return int(found or 0) + 1

    async def add(self, table: str, row: dict[str, Any]) -> None:
        self.waiting.setdefault(table, []).append(row)
        self.pending += 1
        if self.pending >= self.chunk:
            await self.flush()

    async def flush(self) -> None:
        for name in self._order:
            rows = self.waiting.pop(name, None)
            if rows:
                await self._write(Base.metadata.tables[name], rows)
                self.written[name] = self.written.get(name, 0) + len(rows)
        self.pending = 0

    async def close(self) -> None:
        await self.flush()
        if self.postgresql:
            for name in self.written:
                table = Base.metadata.tables[name]
                if "id" in table.c and table.c.id.type.python_type is int:
                    await self.session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM \"{name}\"))"
                    ))

    async def _write(self, table: Table, rows: list[dict[str, Any]]) -> None:
        names = [c.name for c in table.columns]
        defaults = {n: _default(table, n) for n in names}
        if not self.postgresql:
            await self.session.execute(insert(table), [
                {n: row.get(n, defaults[n]) for n in names} for row in rows
            ])
            return
        as_json = {c.name for c in table.columns if isinstance(c.type, JSON)}
        records: Iterable[tuple[Any, ...]] = (
            tuple(json.dumps(row.get(n, defaults[n])) if n in as_json
                  else row.get(n, defaults[n]) for n in names)
            for row in rows
        )
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.copy_records_to_table(table.name, records=list(records), columns=names)
