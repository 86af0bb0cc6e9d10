"""Known figures for the statistics pages' tests: stat_rollup rows written directly (each
fact at the hour, the day and the month it falls in, as the rollups keep it), and members of
staff of a given role and sites."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from accounts.models import Site, Staff, StaffSite
from backoffice.models import StatRollup
from demo.seed import DemoVenue, demo_hash
from tests.conftest import Database

PASSWORD = "stats-demo-1"


@dataclass(frozen=True)
class Fact:
    """So much of a rollup measure at a local hour ("2026-03-10T09") of a site."""

    site_id: int
    hour: str
    measure: str
    count: int = 0
    amount: int = 0
    seconds: int = 0
    dim_kind: str = ""
    dim_id: int = 0


async def company_of(db: Database, venue: DemoVenue) -> int:
    async with db.sessionmaker() as session:
        site = await session.get(Site, venue.site_id)
        assert site is not None
        return site.company_id


async def roll_up(db: Database, company_id: int, *facts: Fact) -> None:
    sums: dict[tuple[str, str, int, str, str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for f in facts:
        for grain, bucket in (("hour", f.hour), ("day", f.hour[:10]), ("month", f.hour[:7])):
            key = (grain, bucket, f.site_id, f.measure, f.dim_kind, f.dim_id)
            sums[key] = [a + b for a, b in zip(sums[key], (f.count, f.amount, f.seconds),
                                               strict=True)]
    async with db.sessionmaker() as session, session.begin():
        for (grain, bucket, site, measure, kind, dim), (count, amount, seconds) in sums.items():
            session.add(StatRollup(company_id=company_id, grain=grain, bucket=bucket,
                                   site_id=site, measure=measure, dim_kind=kind, dim_id=dim,
                                   count=count, quantity=0, amount=amount, seconds=seconds))


async def second_site(db: Database, company_id: int, name: str = "Le Kiosque") -> int:
    async with db.sessionmaker() as session, session.begin():
        site = Site(company_id=company_id, name=name, address="2 rue Haute")
        session.add(site)
        await session.flush()
        return site.id


async def member(db: Database, company_id: int, role: str, email: str,
                 sites: list[int] | None = None) -> tuple[str, str]:
    """A member of staff of `role`, on every site (None) or only on `sites`."""
    async with db.sessionmaker() as session, session.begin():
        staff = Staff(company_id=company_id, email=email, name=email.split("@")[0], role=role,
                      password_hash=demo_hash(PASSWORD), all_sites=sites is None)
        session.add(staff)
        await session.flush()
        for site_id in sites or []:
            session.add(StaffSite(staff_id=staff.id, site_id=site_id))
    return email, PASSWORD


async def staff_id(db: Database, email: str) -> int:
    async with db.sessionmaker() as session:
        found = await session.scalar(select(Staff.id).where(Staff.email == email))
        assert found is not None
        return found
