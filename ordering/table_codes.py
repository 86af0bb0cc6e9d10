"""What staff who may print QR codes get from the API: each table's token and the URL its
QR code holds, as on the QR sheet (/pos/{site}/qr), so that a program can print its own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from accounts.api import STAFF
from accounts.context import staff_of
from accounts.roles import Permission
from accounts.service import NotSignedIn, StaffIdentity
from accounts.tenant import site_for
from api.endpoint import SIGNED_IN, Endpoint, Reply
from errors import Forbidden, NotFound
from ordering.api_docs import SITE_ID
from ordering.models import DiningTable
from realtime.events import Tx
from web.htmx import json_reply
from web.state import app_state, run_tx

Id = Annotated[int, Field(ge=1, le=10**18 - 1)]


class TableCode(BaseModel):
    id: Id
    label: str
    token: str = Field(description="The table's token: the `{token}` of the diners' routes.")
    url: str = Field(description="What the table's QR code holds: the diners' page of the "
                                 "table, on this server's public URL.")


class TableCodes(BaseModel):
    site_id: Id
    tables: list[TableCode]


def table_url(base: str, token: str) -> str:
    return f"{base}/t/{token}"


async def table_codes(
    session: AsyncSession, site_id: int, base: str, room: str | None = None
) -> list[TableCode]:
    """The site's tables (of one room) in their order on the floor, each with its token and
    QR URL; archived tables have none."""
    query = select(DiningTable).where(
        DiningTable.site_id == site_id, DiningTable.archived_at.is_(None))
    if room is not None:
        query = query.where(DiningTable.room == room)
    tables: Sequence[DiningTable] = (await session.scalars(
        query.order_by(DiningTable.position, DiningTable.id)
    )).all()
    return [TableCode(id=t.id, label=t.label, token=t.token, url=table_url(base, t.token))
            for t in tables]


async def codes(request: Request) -> Response:
    """Every table of the site with its token and the URL of its QR code. Needs the print
    permission (manager, admin): whoever holds a token can open the table."""
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    base = app_state(request).settings.public_url

    async def op(tx: Tx) -> TableCodes:
        site = await site_for(tx.session, staff, request.path_params["site_id"])
        staff.require(Permission.PRINT)
        return TableCodes(site_id=site.id, tables=await table_codes(tx.session, site.id, base))

    return json_reply((await run_tx(request, op)).model_dump(), request)


class Printed(BaseModel):
    site_id: Id
    printed_at: datetime


async def mark_printed(tx: Tx, staff: StaffIdentity, site_id: object) -> Printed:
    """Note that the site's QR sheet was printed (a step of the onboarding checklist)."""
    site = await site_for(tx.session, staff, site_id)
    staff.require(Permission.PRINT)
    site.qr_printed_at = datetime.now(UTC)
    await tx.session.flush()
    return Printed(site_id=site.id, printed_at=site.qr_printed_at)


async def printed(request: Request) -> Response:
    """Note that the site's QR code sheet was printed: the onboarding checklist shows it.
    Sent by the sheet's Print button. Needs the print permission (manager, admin)."""
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    done = await run_tx(request, lambda tx: mark_printed(tx, staff, request.path_params["site_id"]))
    return json_reply(done.model_dump(mode="json"), request)


routes = [
    Endpoint("/staff/sites/{site_id:id}/table-codes", codes, "GET", tag=STAFF,
             operation_id="getTableCodes", summary="The tables' tokens and QR code URLs",
             responses={200: Reply(TableCodes, "The site's tables, in floor order.")},
             errors=[NotSignedIn, Forbidden, NotFound], params=[SITE_ID], security=SIGNED_IN),
    Endpoint("/staff/sites/{site_id:id}/qr-printed", printed, "POST", tag=STAFF,
             operation_id="markQrPrinted", summary="Note that the QR code sheet was printed",
             responses={200: Reply(Printed, "When it was printed.")},
             errors=[NotSignedIn, Forbidden, NotFound], params=[SITE_ID], security=SIGNED_IN),
]
