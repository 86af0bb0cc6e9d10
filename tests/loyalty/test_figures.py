"""Loyalty's statistics against the hand-computed base of tests/loyalty/figures_base.py:
every figure of the week, of each site alone and of the day after, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from loyalty import figures
from loyalty.figures import LastCustomer, LastReward, RewardCount
from tests.loyalty.conftest import Loyal
from tests.loyalty.figures_base import MONDAY, SUNDAY, Base, build, paris


async def _figures(loyal: Loyal, sites: frozenset[int] | None, first: date = MONDAY,
                   last: date = SUNDAY) -> figures.Figures:
    window = figures.window(loyal.company_id, first, last, sites, "Europe/Paris")
    async with loyal.db.sessionmaker() as session:
        return await figures.figures(session, window)


@pytest.fixture
async def base(loyal: Loyal) -> Base:
    return await build(loyal)


def test_a_window_is_whole_local_days_in_utc() -> None:
    window = figures.window(1, MONDAY, SUNDAY, None, "Europe/Paris")
    assert window.start == paris(2, 0, 0) and window.start.hour == 23  # Sunday 23:00 UTC
    assert window.end == paris(9, 0, 0)


async def test_the_weeks_figures_over_every_site(loyal: Loyal, base: Base) -> None:
    found = await _figures(loyal, None)
    t = found.totals
    # Zoé twice (Monday 00:30 Paris is Sunday in UTC: inside), Marc, Léa, Hugo once each;
    # Hugo's Sunday 23:50 and Marc's Monday-after 00:15 are outside.
    assert (t.visits, t.customers) == (5, 4)
    # Only Marc's first visit ever falls in the week; Hugo's was Sunday night.
    assert (t.new_customers, t.returning) == (1, 3)
    # 10 + 12 + 25 + 30 + 15 spent, less 4 (Marc) and 3 (Léa's February sale) refunded.
    assert t.revenue == 9200 - 400 - 300 == 8500
    assert t.basket == 1700
    # Café by Zoé's points, the coupon of nobody's and Hugo's coupon; Dessert by Zoé.
    assert (t.rewards_taken, t.cost) == (4, 3 * 120 + 350)
    assert t.cost_share == pytest.approx(710 / 8500)
    assert found.rewards == [RewardCount(base.cafe, "Café offert", 3, 360),
                             RewardCount(base.dessert, "Dessert", 1, 350)]
    assert found.last_customers == [
        LastCustomer(base.hugo, "Hugo", paris(7, 12, 5), "Le Kiosque", 1500, 1),
        LastCustomer(base.lea, "Léa", paris(6, 12, 40), "Le Zinc", 3000, 1),
        LastCustomer(base.zoe, "Zoé", paris(4, 12, 10), "Le Kiosque", 2500, 2),
        LastCustomer(base.marc, "Marc", paris(3, 9, 20), "Le Zinc", 1200, 1)]
    assert found.last_rewards == [
        LastReward(paris(7, 12, 6), base.hugo, "Hugo", "Café offert", "Le Kiosque", True),
        LastReward(paris(5, 18, 0), None, "", "Café offert", "Le Zinc", True),
        LastReward(paris(4, 12, 20), base.zoe, "Zoé", "Dessert", "Le Kiosque", False),
        LastReward(paris(4, 12, 15), base.zoe, "Zoé", "Café offert", "Le Zinc", False)]
    # Paris weekdays and hours: Monday 0h, Tuesday 9h, Wednesday, Friday and Saturday noon.
    assert {cell: n for cell, n in found.heat.items() if n} == {
        (1, 0): 1, (2, 9): 1, (3, 12): 1, (5, 12): 1, (6, 12): 1}
    assert len(found.heat) == 7 * 24


async def test_one_sites_figures_count_that_site_only(loyal: Loyal, base: Base) -> None:
    zinc = await _figures(loyal, frozenset({base.site_a}))
    t = zinc.totals
    assert (t.visits, t.customers) == (3, 3)  # Zoé Monday, Marc, Léa
    # New at the Zinc: Marc, and Léa (who came to the Kiosk only before); Zoé came in Feb.
    assert (t.new_customers, t.returning) == (2, 1)
    assert (t.revenue, t.basket) == (1000 + 1200 + 3000 - 400, 1600)
    assert zinc.rewards == [RewardCount(base.cafe, "Café offert", 2, 240)]
    assert [r.at for r in zinc.last_rewards] == [paris(5, 18, 0), paris(4, 12, 15)]
    # Zoé's last visit at the Zinc is Monday's: after Marc's Tuesday one.
    assert [c.consumer_id for c in zinc.last_customers] == [base.lea, base.marc, base.zoe]
    assert zinc.last_customers[2] == LastCustomer(base.zoe, "Zoé", paris(2, 0, 30), "Le Zinc",
                                                  1000, 1)

    kiosk = await _figures(loyal, frozenset({base.site_b}))
    t = kiosk.totals
    # Zoé's first visit at the Kiosk; Hugo had come on Sunday night.
    assert (t.visits, t.customers, t.new_customers) == (2, 2, 1)
    assert (t.revenue, t.basket) == (2500 + 1500 - 300, 1850)
    assert (t.rewards_taken, t.cost) == (2, 350 + 120)
    assert {(r.name, r.count) for r in kiosk.rewards} == {("Dessert", 1), ("Café offert", 1)}
    assert {cell: n for cell, n in kiosk.heat.items() if n} == {(3, 12): 1, (6, 12): 1}

    both = await _figures(loyal, frozenset({base.site_a, base.site_b}))
    assert both.totals == (await _figures(loyal, None)).totals
    nowhere = await _figures(loyal, frozenset())
    assert nowhere.empty and nowhere.last_customers == [] and nowhere.rewards == []


async def test_the_next_day_and_the_week_before(loyal: Loyal, base: Base) -> None:
    monday = await _figures(loyal, None, date(2026, 3, 9), date(2026, 3, 9))
    t = monday.totals
    assert (t.visits, t.customers, t.new_customers, t.revenue) == (1, 1, 0, 900)
    assert (t.rewards_taken, t.cost) == (1, 120)  # Léa's Café, 00:30
    assert monday.heat[1, 0] == 1
    before = await _figures(loyal, None, date(2026, 2, 23), date(2026, 3, 1))
    t = before.totals
    # Léa's 25 Feb and Hugo's Sunday 23:50, both their first: new; Marc's coupon.
    assert (t.visits, t.customers, t.new_customers, t.revenue) == (2, 2, 2, 1300)
    assert (t.rewards_taken, t.cost) == (1, 350)
    assert before.heat[7, 23] == 1 and before.heat[3, 10] == 1


async def test_the_day_the_clocks_go_forward_has_23_hours(loyal: Loyal) -> None:
    """Sunday 29 March 2026 in Paris: 01:59 CET is followed by 03:00 CEST."""
    await loyal.rules(points_per_unit=1)
    zoe = await loyal.customer("Zoé")
    for utc in ("2026-03-28T22:59", "2026-03-28T23:00", "2026-03-29T00:30",
                "2026-03-29T01:30", "2026-03-29T21:59", "2026-03-29T22:00"):
        at = datetime.fromisoformat(utc).replace(tzinfo=UTC)
        await loyal.record(loyal.sale(zoe, 500, sold_at=at))
    day = await _figures(loyal, None, date(2026, 3, 29), date(2026, 3, 29))
    # Saturday 23:59 CET and Monday 00:00 CEST are outside; 00:00, 01:30, 03:30, 23:59 in.
    assert (day.totals.visits, day.totals.revenue, day.totals.new_customers) == (4, 2000, 0)
    assert {cell: n for cell, n in day.heat.items() if n} == {
        (7, 0): 1, (7, 1): 1, (7, 3): 1, (7, 23): 1}


async def test_nothing_happened_is_empty(loyal: Loyal) -> None:
    found = await _figures(loyal, None)
    assert found.empty and found.totals.basket == 0 and found.totals.cost_share is None
    assert sum(found.heat.values()) == 0
