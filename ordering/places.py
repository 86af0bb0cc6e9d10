"""Where a diner signs up or in: the table whose QR code they scanned (customers/api.py's
places, under the prefix `t:`, beside the machines'); signed in, they go back to the table."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site
from errors import DomainError
from ordering.errors import UnknownTable
from ordering.models import DiningTable

PREFIX = "t:"


@dataclass(frozen=True)
class TablePlace:
    company_id: int
    venue: str  # the site's name, as the pages say where the account is for


async def table_place(session: AsyncSession, token: object) -> TablePlace:
    """The company and site of a table in service; an archived table's token opens nothing."""
    if not isinstance(token, str) or not 0 < len(token) <= 64:
        raise UnknownTable()
    row = (await session.execute(
        select(Site.company_id, Site.name).join(DiningTable, DiningTable.site_id == Site.id)
        .where(DiningTable.token == token, DiningTable.archived_at.is_(None))
    )).first()
    if row is None:
        raise UnknownTable()
    return TablePlace(row.company_id, row.name)


class TablePlaces:
    """The tables as customers/api.py's places: a table's token names its company."""

    unknown: type[DomainError] = UnknownTable

    async def company_of(self, session: AsyncSession, token: str) -> int:
        return (await table_place(session, token)).company_id

    def page(self, token: str) -> str:
        return f"/t/{token}"

    def sign_in(self, token: str) -> str:
        return f"/t/{token}/login"
