"""Whether a site may sell yet: its POS validates no order until the blocking steps of
the onboarding checklist are done (a site with its address, a menu, a supervisor, every
member of staff with a PIN).

The checklist is the back office's (backoffice/onboarding.py), above this room: app.py
hands its check in at assembly (`use`), as it does for other inversions. Without one, every
site may sell.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from errors import N_, Conflict, Messages

# (session, site id) → the blocking steps still missing, as messages marked with N_.
Check = Callable[[AsyncSession, int], Awaitable[list[str]]]


class NotReady(Conflict):
    """The site cannot sell yet: blocking steps of the onboarding checklist are missing
    (the message names them; the back office's home links to each)."""

    code = "site_not_ready"
    message = N_("This site cannot sell yet. Still missing: %(missing)s.")


async def _everything_ready(session: AsyncSession, site_id: int) -> list[str]:
    return []


_check: Check = _everything_ready


def use(check: Check) -> None:
    """Set the check of what a site still misses before it may sell (app.py, at assembly)."""
    global _check
    _check = check


async def missing(session: AsyncSession, site_id: int) -> list[str]:
    """The blocking steps this site still misses (messages to translate); [] when ready."""
    return await _check(session, site_id)


async def refuse_unready(session: AsyncSession, site_id: int) -> None:
    """Refuse a sale at a site that is not ready, naming what is missing."""
    still = await missing(session, site_id)
    if still:
        raise NotReady(missing=Messages(still))
