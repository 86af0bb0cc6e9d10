"""Who is behind a request or a socket: the signed-in staff member, consumer and browser."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from accounts.service import StaffIdentity, identity
from realtime.topics import Viewer
from web.recent_ids import SCANNED_MACHINES, SCANNED_TABLES, recent_ids
from web.sessions import CONSUMER_ID, STAFF_ID
from web.state import app_state, device_of, locale_of


async def staff_of(conn: HTTPConnection) -> StaffIdentity | None:
    staff_id = conn.session.get(STAFF_ID)
    if staff_id is None:
        return None
    async with app_state(conn).sessionmaker() as session:
        return await identity(session, staff_id)


def consumer_id_of(conn: HTTPConnection) -> int | None:
    """The customer signed in on this browser, if any (customers/)."""
    value = conn.session.get(CONSUMER_ID)
    return value if isinstance(value, int) else None


async def viewer_of(conn: HTTPConnection) -> Viewer:
    """Everything the live channel and the pages need to know of who is there, read once."""
    staff = await staff_of(conn)
    return Viewer(
        device_key=device_of(conn),
        staff_id=staff.id if staff else None,
        company_id=staff.company_id if staff else None,
        role=staff.role if staff else None,
        sites=staff.sites if staff else None,
        sections=staff.sections if staff else None,
        locale=locale_of(conn),
        consumer_id=consumer_id_of(conn),
        scanned_tables=recent_ids(conn, SCANNED_TABLES),
        scanned_machines=recent_ids(conn, SCANNED_MACHINES),
    )
