"""A hand-built base for loyalty's statistics, recorded as the till records it (sales and
refunds heard as events, rewards taken through loyalty's service, coupons scanned), then
put at known instants. The company is in Europe/Paris (UTC+1 in March 2026).

The week asked: Monday 2 to Sunday 8 March 2026, at two sites, the Zinc (A) and the Kiosk
(B). Paris times; "outside" entries sit just past the week's edges.

| who  | when (Paris)          | site | what                                          |
|------|-----------------------|------|-----------------------------------------------|
| Zoé  | Fri 20 Feb 10:00      | A    | visit 20.00 (before)                          |
| Léa  | Wed 25 Feb 10:00      | B    | visit 8.00 (before)                           |
| Hugo | Sun 1 Mar 23:50       | B    | visit 5.00 (outside: 22:50 UTC, the day before)|
| Marc | Sun 1 Mar 23:55       | A    | coupon Dessert used (outside)                 |
| Zoé  | Mon 2 Mar 00:30       | A    | visit 10.00 (inside: Sunday 23:30 UTC)        |
| Léa  | Mon 2 Mar 10:00       | B    | refund 3.00 of her 25 Feb sale                |
| Marc | Tue 3 Mar 09:20       | A    | visit 12.00, his first ever                   |
| Zoé  | Wed 4 Mar 12:10       | B    | visit 25.00, her first at B                   |
| Zoé  | Wed 4 Mar 12:15       | A    | Café taken with points                        |
| Zoé  | Wed 4 Mar 12:20       | B    | Dessert taken with points                     |
| Marc | Thu 5 Mar 10:00       | A    | refund 4.00 of his 3 Mar sale                 |
| —    | Thu 5 Mar 18:00       | A    | coupon Café of nobody's used                  |
| Léa  | Fri 6 Mar 12:40       | A    | visit 30.00, her first at A                   |
| Hugo | Sat 7 Mar 12:05       | B    | visit 15.00                                   |
| Hugo | Sat 7 Mar 12:06       | B    | coupon Café used                              |
| Marc | Mon 9 Mar 00:15       | A    | visit 9.00 (outside: Sunday 23:15 UTC)        |
| Léa  | Mon 9 Mar 00:30       | A    | Café taken with points (outside)              |

Café costs the venue 1.20, Dessert 3.50.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from accounts.models import Site
from domain.events import TicketRecorded
from loyalty import ledger, service, setup
from loyalty.commands import Redeem, UseCoupon
from loyalty.models import Coupon, PointsEntry
from tests.loyalty.conftest import Loyal, key
from web.commands import parse

PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2026, 3, 2)
SUNDAY = date(2026, 3, 8)


def paris(day: int, hour: int, minute: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


@dataclass(frozen=True)
class Base:
    site_a: int
    site_b: int
    zoe: int
    marc: int
    lea: int
    hugo: int
    cafe: int
    dessert: int


async def _site(loyal: Loyal, name: str) -> int:
    async with loyal.db.sessionmaker() as session, session.begin():
        site = Site(company_id=loyal.company_id, name=name, address="2 rue Haute")
        session.add(site)
        await session.flush()
        return site.id


async def _visit(loyal: Loyal, who: int, spent: int, at: datetime, site: int
                 ) -> TicketRecorded:
    sale = loyal.sale(who, spent, sold_at=at, site_id=site)
    await loyal.record(sale)
    return sale


async def _refund(loyal: Loyal, sale: TicketRecorded, amount: int, at: datetime) -> None:
    await loyal.record(loyal.refund(sale, amount, sold_at=at, site_id=sale.site_id))


async def _redeem(loyal: Loyal, who: int, reward: int, at: datetime, site: int) -> None:
    idem = key()
    command = parse(Redeem, {"consumer_id": who, "reward_id": reward, "idempotency_key": idem})
    await loyal.run(lambda tx: service.redeem(tx, loyal.company_id, command, site_id=site))
    async with loyal.db.sessionmaker() as session, session.begin():
        await session.execute(update(PointsEntry).where(
            PointsEntry.key == ledger.redeem_key(who, idem)).values(created_at=at))


async def _coupon(loyal: Loyal, who: int | None, reward: int, at: datetime, site: int) -> None:
    coupon: Coupon = await loyal.run(lambda tx: setup.issue_coupon(
        tx, loyal.company_id, reward, datetime.now(UTC) + timedelta(days=30), consumer_id=who))
    use = parse(UseCoupon, {"token": coupon.token, "idempotency_key": key()})
    await loyal.run(lambda tx: service.use_coupon(tx, loyal.company_id, use, site_id=site))
    async with loyal.db.sessionmaker() as session, session.begin():
        await session.execute(update(Coupon).where(Coupon.id == coupon.id).values(used_at=at))


async def build(loyal: Loyal) -> Base:
    """The base of the table above, the programme on (a point per euro)."""
    await loyal.rules(points_per_unit=1)
    a, b = loyal.site_id, await _site(loyal, "Le Kiosque")
    cafe = (await loyal.reward(name="Café offert", cost_points=10, venue_cost=120,
                               effect="amount_off", amount=250)).id
    dessert = (await loyal.reward(name="Dessert", cost_points=20, venue_cost=350,
                                  effect="amount_off", amount=600)).id
    zoe, marc = await loyal.customer("Zoé"), await loyal.customer("Marc")
    lea, hugo = await loyal.customer("Léa"), await loyal.customer("Hugo")
    await _visit(loyal, zoe, 2000, paris(20, 10, 0, month=2), a)
    lea_feb = await _visit(loyal, lea, 800, paris(25, 10, 0, month=2), b)
    await _visit(loyal, hugo, 500, paris(1, 23, 50), b)
    await _coupon(loyal, marc, dessert, paris(1, 23, 55), a)
    await _visit(loyal, zoe, 1000, paris(2, 0, 30), a)
    await _refund(loyal, lea_feb, 300, paris(2, 10, 0))
    marc_tue = await _visit(loyal, marc, 1200, paris(3, 9, 20), a)
    await _visit(loyal, zoe, 2500, paris(4, 12, 10), b)
    await _redeem(loyal, zoe, cafe, paris(4, 12, 15), a)
    await _redeem(loyal, zoe, dessert, paris(4, 12, 20), b)
    await _refund(loyal, marc_tue, 400, paris(5, 10, 0))
    await _coupon(loyal, None, cafe, paris(5, 18, 0), a)
    await _visit(loyal, lea, 3000, paris(6, 12, 40), a)
    await _visit(loyal, hugo, 1500, paris(7, 12, 5), b)
    await _coupon(loyal, hugo, cafe, paris(7, 12, 6), b)
    await _visit(loyal, marc, 900, paris(9, 0, 15), a)
    await _redeem(loyal, lea, cafe, paris(9, 0, 30), a)
    return Base(a, b, zoe, marc, lea, hugo, cafe, dessert)
