"""The day, live, on the back office's home: what a member of staff may see of it, asked of
each room (ordering's floor, the machines' fleet) and of the back office's own figures
(backoffice/stats.py, from its rollups), and the live topics
whose every change makes the page fetch it again.

Each part is for the roles that may see it: the floor for `FLOOR`, the machines for
`MACHINES`, the money for `REPORT`; and only of the sites the member may work at."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice import stats
from backoffice.stats_topic import topic_of as stats_topic
from machines.fleet import MachineState, fleet
from machines.views import machine_topic
from ordering.floor_summary import FloorSummary, floor_summary
from ordering.views import pos_topic
from realtime.websocket import MAX_TOPICS


@dataclass(frozen=True)
class SiteFloor:
    name: str
    floor: FloorSummary


@dataclass(frozen=True)
class LiveDay:
    now: datetime  # the server's clock: how long things have waited is counted from it
    currency: str
    timezone: str
    sites: list[Site]  # those the member may see, for the choice of one
    site_id: int | None  # the one chosen, or None for all of them
    company_id: int
    figures: stats.DaySummary | None  # None: not for this role (the rest likewise)
    floors: list[SiteFloor] | None
    machines: list[MachineState] | None
    machine_counts: Counter[str] = field(default_factory=Counter)  # online, brewing, alert
    site_names: dict[int, str] = field(default_factory=dict)

    def minutes_since(self, moment: str) -> int:
        """Whole minutes from an ISO time to now (never below zero)."""
        return max(0, int((self.now - datetime.fromisoformat(moment)).total_seconds() // 60))

    @property
    def empty(self) -> bool:
        """Nothing of the day is for this role."""
        return self.figures is None and self.floors is None and self.machines is None


async def visible_sites(session: AsyncSession, staff: StaffIdentity) -> list[Site]:
    """The company's open sites this member may work at, by name."""
    sites = (await session.scalars(
        select(Site).where(Site.company_id == staff.company_id, Site.archived_at.is_(None))
        .order_by(Site.name, Site.id)
    )).all()
    return [s for s in sites if staff.may_use(s.id)]


async def live_day(session: AsyncSession, staff: StaffIdentity, site_id: int | None) -> LiveDay:
    """`site_id`: one of the member's sites (the route checked it), or None for all."""
    company = await session.get(Company, staff.company_id)
    assert company is not None
    sites = await visible_sites(session, staff)
    shown = [s for s in sites if site_id is None or s.id == site_id]
    figures = None
    if staff.may(Permission.REPORT):
        scope = stats.Scope(staff.company_id, frozenset({site_id}) if site_id else staff.sites,
                            company.timezone)
        figures = await stats.today(session, scope)
    floors = None
    if staff.may(Permission.FLOOR):
        floors = [SiteFloor(s.name, await floor_summary(session, s.id)) for s in shown]
    machines = None
    counts: Counter[str] = Counter()
    if staff.may(Permission.MACHINES):
        machines = await fleet(session, [s.id for s in shown])
        for m in machines:
            counts.update(online=m.online, brewing=m.brewing, alert=bool(m.alerts))
    return LiveDay(datetime.now(UTC), company.currency, company.timezone, sites, site_id,
                   staff.company_id, figures, floors, machines, counts,
                   {s.id: s.name for s in sites})


def topics_of(day: LiveDay) -> list[str]:
    """The topics to watch, as many as one socket may (realtime/websocket.py): the
    company's figures (every sale, bill and brew counted moves them), the sites' POS
    (every round, ticket and bill of a site), then the machines. Beyond that, the page's
    timer catches up; choosing one site follows it all live."""
    watched = [stats_topic(day.company_id)] if day.figures is not None else []
    watched += [pos_topic(f.floor.site_id) for f in day.floors or []]
    watched += [machine_topic(m.id) for m in day.machines or []]
    return watched[:MAX_TOPICS]
