"""Loyalty's statistics in a browser: the page and the home's loyalty block fit a phone and
a desk (nothing wider than the screen, touch targets of 44 px), tables and heat map all."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from accounts.models import Site
from customers.models import Consumer
from loyalty.models import Coupon, LoyaltyProfile, LoyaltyRules, PointsEntry, Reward
from tests.browser.conftest import ADMIN, Venue
from tests.browser.test_backoffice import overflow, shot
from tests.browser.test_dashboard import WIDTHS, small_targets

pytestmark = pytest.mark.browser


def _loyalty(db_path: Path, site_id: int) -> None:
    """The programme on, 25 customers with long names who came this week, rewards taken
    with points and by coupon, written into the served database."""
    engine = create_engine(f"sqlite:///{db_path}")
    now = datetime.now(UTC)
    with closing(engine.connect()), Session(engine) as session, session.begin():
        company = session.scalar(select(Site.company_id).where(Site.id == site_id))
        assert company is not None
        session.add(LoyaltyRules(company_id=company, enabled=True))
        reward = Reward(company_id=company, name="Un grand café crème offert", cost_points=10,
                        venue_cost=180, effect="amount_off", amount=350)
        session.add(reward)
        session.flush()
        for n in range(25):
            who = Consumer(company_id=company, email=f"fidele{n}@exemple.fr",
                           name=f"Marie-Amélie de la Fontaine-Dubois {n}", password_hash="x")
            session.add(who)
            session.flush()
            session.add(LoyaltyProfile(consumer_id=who.id, company_id=company,
                                       qr_token=f"qr-browser-{n:02d}", balance=0))
            at = now - timedelta(hours=n * 3)
            session.add(PointsEntry(company_id=company, consumer_id=who.id, points=12,
                                    balance_after=12, kind="earn", key=f"ticket:b{n}",
                                    spent=1234 * (n + 1), visit_at=at, site_id=site_id))
            if n % 3 == 0:
                session.add(PointsEntry(company_id=company, consumer_id=who.id, points=-10,
                                        balance_after=2, kind="redeem", key=f"redeem:b{n}",
                                        reward_id=reward.id, site_id=site_id, created_at=at))
            if n % 5 == 0:
                session.add(Coupon(company_id=company, consumer_id=who.id, reward_id=reward.id,
                                   token=f"coupon-browser-{n:02d}", expires_at=now,
                                   used_at=at, used_site_id=site_id))
    engine.dispose()


def test_the_loyalty_statistics_fit_a_phone_and_a_desk(
    venue_server: Venue, staff: Callable[[tuple[str, str]], Page], tmp_path: Path
) -> None:
    _loyalty(tmp_path / "browser.db", venue_server.site_id)
    admin = staff(ADMIN)
    url = venue_server.url
    start = (datetime.now(UTC) - timedelta(days=6)).date()
    for name, width in WIDTHS.items():
        admin.set_viewport_size({"width": width, "height": 900})
        for path in (f"/backoffice/loyalty?start={start}", "/backoffice"):
            admin.goto(f"{url}{path}")
            assert overflow(admin) == 0, (path, name)
            assert small_targets(admin) == [], (path, name)
            slug = path.split("?")[0].strip("/").replace("/", "-")
            admin.screenshot(path=shot(f"{slug}-loyalty-{name}.png"), full_page=True)
    admin.goto(f"{url}/backoffice")
    expect(admin.locator("#home-loyalty")).to_be_visible()
    admin.locator("#home-loyalty a.button").click()
    admin.wait_for_url(f"{url}/backoffice/loyalty?*")
    expect(admin.locator("#loyalty-kpis")).to_be_visible()
    expect(admin.locator("#loyalty-heat svg.chart-heat")).to_be_visible()
