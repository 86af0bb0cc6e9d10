"""Opening the cash drawer outside a sale (change for the float, a check): a supervisor's
action, asked of the till's printer (the drawer hangs on it), journalled and audited with
who acted, who approved and why."""

from __future__ import annotations

from collections.abc import Callable

from escpos.printer import Dummy

from accounts.roles import Permission
from domain import audit
from pos.approval import Approval, approver
from pos.device import AtTill
from pos.journal import JournalKind, write
from pos.printing import (
    TIMEOUT_S,
    NoPrinter,
    Printer,
    PrinterUnavailable,
    network_printer,
    off_loop,
)
from realtime.events import Tx, run
from web.state import AppState


def pulse() -> bytes:
    """ESC/POS's drawer kick on pin 2, the usual drawer connector."""
    job = Dummy()
    job.cashdraw(2)
    return bytes(job.output)


async def open_drawer(state: AppState, at: AtTill, reason: str, approval: Approval | None,
                      *, connect: Callable[[str], Printer] = network_printer) -> int:
    """Kicks the drawer of this till's printer; the approver's id. Nothing is recorded when
    the printer does not answer (the drawer stayed shut)."""
    approved_by = await approver(state, till=at.till, acting=at.staff,
                                 permission=Permission.DRAWER, approval=approval)
    if not at.till.printer:
        raise NoPrinter()
    printer = connect(at.till.printer)
    try:
        await off_loop(printer.open, TIMEOUT_S)
        await off_loop(lambda: printer.send(pulse()), TIMEOUT_S)
    except Exception as error:  # refused, unreachable, silent: the drawer did not open
        raise PrinterUnavailable(printer=at.till.printer) from error
    finally:
        try:
            await off_loop(printer.close, TIMEOUT_S)
        except Exception:  # noqa: S110  (a socket that will not close is dropped)
            pass

    async def record(tx: Tx) -> None:
        await write(tx, at.till.company_id, JournalKind.DRAWER_OPENED,
                    {"reason": reason, "approved_by": approved_by},
                    site_id=at.till.site_id, till_id=at.till.id, staff_id=at.staff.id)
        await audit.record(tx, at.staff.id, at.till.company_id, "till.drawer",
                           f"till:{at.till.id}", {"reason": reason, "approved_by": approved_by})

    await run(state.sessionmaker, state.bus, record)
    return approved_by
