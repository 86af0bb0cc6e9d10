"""Segments against a hand-built customer base, on SQLite and PostgreSQL.

Today is Sunday 20 December 2026, noon UTC. Le Zinc has two sites, A and B.

| who  | birthday   | consent | what (days ago)                                            |
|------|------------|---------|------------------------------------------------------------|
| Ann  | 28 Dec     | e-mail  | visits at A 5, 15, 25 (10.00 each); a Café with points 10  |
| Ben  | 5 Jan      | SMS     | a visit at B 200 (50.00), refunded 20.00 at 190            |
| Cléo | 15 Jun     | e-mail  | never visited                                              |
| Dan  | —          | —       | 5 visits at A 40 (20.00 each), a visit by hand 3 (no site),|
|      |            |         | a Dessert coupon used 20                                   |
| Eve  | 25 Dec     | both    | another company's: 9 visits 2 days ago; never in a segment |
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from accounts.models import Site
from errors import InvalidInput
from loyalty import segment_query
from loyalty.ledger import Kind
from loyalty.models import Coupon, LoyaltyProfile, PointsEntry
from loyalty.segments import parse
from tests.loyalty.conftest import Loyal

NOW = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


@dataclass(frozen=True)
class Base:
    site_a: int
    site_b: int
    ann: int
    ben: int
    cleo: int
    dan: int
    eve: int
    cafe: int
    dessert: int

    def names(self, ids: set[int]) -> set[str]:
        named = {self.ann: "ann", self.ben: "ben", self.cleo: "cleo", self.dan: "dan",
                 self.eve: "eve"}
        return {named[i] for i in ids}


async def _profile(loyal: Loyal, name: str, company_id: int, birthday: date | None,
                   email: bool = False, sms: bool = False) -> int:
    who = await loyal.customer(name, company_id=company_id)
    async with loyal.db.sessionmaker() as session, session.begin():
        session.add(LoyaltyProfile(
            consumer_id=who, company_id=company_id, qr_token=uuid.uuid4().hex,
            phone=f"+336{who:08d}", birthday=birthday,
            email_consent_at=ago(100) if email else None,
            sms_consent_at=ago(100) if sms else None))
    return who


async def _entry(loyal: Loyal, who: int, kind: Kind, days: int, *, spent: int = 0,
                 site: int | None = None, reward: int | None = None,
                 company_id: int | None = None, visit: bool = True) -> None:
    async with loyal.db.sessionmaker() as session, session.begin():
        session.add(PointsEntry(
            company_id=company_id or loyal.company_id, consumer_id=who, points=1,
            balance_after=1, kind=kind.value, key=uuid.uuid4().hex, spent=spent,
            visit_at=ago(days) if visit else None, site_id=site, reward_id=reward,
            created_at=ago(days)))


@pytest.fixture
async def base(loyal: Loyal) -> Base:
    async with loyal.db.sessionmaker() as session, session.begin():
        site_b = Site(company_id=loyal.company_id, name="Le Kiosque")
        session.add(site_b)
        await session.flush()
        site_b_id = site_b.id
    a = loyal.site_id
    cafe = (await loyal.reward(name="Café", effect="amount_off", amount=200)).id
    dessert = (await loyal.reward(name="Dessert", effect="amount_off", amount=500)).id
    other = await loyal.other_company()
    ann = await _profile(loyal, "Ann", loyal.company_id, date(1990, 12, 28), email=True)
    ben = await _profile(loyal, "Ben", loyal.company_id, date(1985, 1, 5), sms=True)
    cleo = await _profile(loyal, "Cléo", loyal.company_id, date(1992, 6, 15), email=True)
    dan = await _profile(loyal, "Dan", loyal.company_id, None)
    eve = await _profile(loyal, "Eve", other, date(1991, 12, 25), email=True, sms=True)
    for days in (5, 15, 25):
        await _entry(loyal, ann, Kind.EARN, days, spent=1000, site=a)
    await _entry(loyal, ann, Kind.REDEEM, 10, reward=cafe, site=a, visit=False)
    await _entry(loyal, ben, Kind.EARN, 200, spent=5000, site=site_b_id)
    await _entry(loyal, ben, Kind.TAKE_BACK, 190, spent=-2000, site=site_b_id)
    for _ in range(5):
        await _entry(loyal, dan, Kind.EARN, 40, spent=2000, site=a)
    await _entry(loyal, dan, Kind.BY_HAND, 3)
    async with loyal.db.sessionmaker() as session, session.begin():
        session.add(Coupon(company_id=loyal.company_id, consumer_id=dan, reward_id=dessert,
                           token=uuid.uuid4().hex, trigger="visits", expires_at=ago(-10),
                           used_at=ago(20), used_site_id=a))
    for _ in range(9):
        await _entry(loyal, eve, Kind.EARN, 2, spent=9000, site=a, company_id=other)
    return Base(a, site_b_id, ann, ben, cleo, dan, eve, cafe, dessert)


async def members(loyal: Loyal, base: Base, definition: dict[str, Any]) -> set[str]:
    parsed = parse(definition)
    async with loyal.db.sessionmaker() as session:
        listed = await segment_query.members(session, loyal.company_id, parsed, NOW, 100)
        counted = await segment_query.count(session, loyal.company_id, parsed, NOW)
    assert counted == len(listed)
    return base.names({m.consumer_id for m in listed})


def one(rule: dict[str, Any]) -> dict[str, Any]:
    return {"match": "all", "criteria": [rule]}


async def test_no_criteria_is_every_customer_of_the_company(loyal: Loyal, base: Base) -> None:
    assert await members(loyal, base, {}) == {"ann", "ben", "cleo", "dan"}
    assert await members(loyal, base, {"match": "any"}) == {"ann", "ben", "cleo", "dan"}


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("12-20", "01-10", {"ann", "ben"}),  # across the new year
    ("12-29", "01-04", set()),
    ("06-01", "06-30", {"cleo"}),
    ("01-05", "12-28", {"ann", "ben", "cleo"}),
])
async def test_birthday_between(loyal: Loyal, base: Base, start: str, end: str,
                                expected: set[str]) -> None:
    rule = {"kind": "birthday_between", "start": start, "end": end}
    assert await members(loyal, base, one(rule)) == expected


@pytest.mark.parametrize(("days", "expected"), [
    (7, set()), (8, {"ann"}), (16, {"ann", "ben"}), (366, {"ann", "ben", "cleo"}),
])
async def test_birthday_soon_wraps_the_year(loyal: Loyal, base: Base, days: int,
                                            expected: set[str]) -> None:
    assert await members(loyal, base, one({"kind": "birthday_soon", "days": days})) == expected


@pytest.mark.parametrize(("amount", "months", "expected"), [
    (2500, 3, {"ann", "dan"}),
    (2500, 12, {"ann", "ben", "dan"}),  # Ben's 50.00 less the 20.00 refunded
    (3000, 12, {"dan"}),  # more than: 30.00 is not more than 30.00
])
async def test_spent_more_than(loyal: Loyal, base: Base, amount: int, months: int,
                               expected: set[str]) -> None:
    rule = {"kind": "spent", "amount": amount, "months": months}
    assert await members(loyal, base, one(rule)) == expected


@pytest.mark.parametrize(("rule", "expected"), [
    ({"at_least": 3, "months": 3}, {"ann", "dan"}),  # Dan's visit by hand counts
    ({"at_most": 0, "months": 3}, {"ben", "cleo"}),
    ({"at_least": 1, "at_most": 3, "months": 3}, {"ann"}),
    ({"at_least": 1, "months": 1}, {"ann", "dan"}),
    ({"at_least": 1, "months": 12}, {"ann", "ben", "dan"}),
])
async def test_visits(loyal: Loyal, base: Base, rule: dict[str, Any],
                      expected: set[str]) -> None:
    assert await members(loyal, base, one({"kind": "visits", **rule})) == expected


@pytest.mark.parametrize(("rule", "expected"), [
    ({"when": "after", "days": 7}, {"ann", "dan"}),
    ({"when": "after", "days": 4}, {"dan"}),
    ({"when": "before", "days": 30}, {"ben"}),
    ({"when": "before", "days": 4}, {"ann", "ben"}),
    ({"when": "never"}, {"cleo"}),
])
async def test_last_visit(loyal: Loyal, base: Base, rule: dict[str, Any],
                          expected: set[str]) -> None:
    assert await members(loyal, base, one({"kind": "last_visit", **rule})) == expected


async def test_site(loyal: Loyal, base: Base) -> None:
    def site(site_id: int, months: int) -> dict[str, Any]:
        return one({"kind": "site", "site_id": site_id, "months": months})

    assert await members(loyal, base, site(base.site_b, 0)) == {"ben"}
    assert await members(loyal, base, site(base.site_b, 6)) == set()
    assert await members(loyal, base, site(base.site_a, 1)) == {"ann"}
    assert await members(loyal, base, site(base.site_a, 2)) == {"ann", "dan"}


async def test_reward_taken_with_points_or_a_coupon(loyal: Loyal, base: Base) -> None:
    def taken(reward: int | None, months: int) -> dict[str, Any]:
        rule: dict[str, Any] = {"kind": "reward_taken", "months": months}
        return one(rule if reward is None else {**rule, "reward_id": reward})

    assert await members(loyal, base, taken(None, 1)) == {"ann", "dan"}
    assert await members(loyal, base, taken(base.cafe, 1)) == {"ann"}
    assert await members(loyal, base, taken(base.dessert, 1)) == {"dan"}
    assert await members(loyal, base, taken(base.cafe, 120)) == {"ann"}


def test_calendar_months() -> None:
    assert segment_query.months_ago(NOW, 1) == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert segment_query.months_ago(NOW, 12) == datetime(2025, 12, 20, 12, 0, tzinfo=UTC)
    march = datetime(2026, 3, 31, tzinfo=UTC)
    assert segment_query.months_ago(march, 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert segment_query.months_ago(march, 15) == datetime(2024, 12, 31, tzinfo=UTC)


async def test_consent(loyal: Loyal, base: Base) -> None:
    assert await members(loyal, base, one({"kind": "consent", "channel": "email"})) \
        == {"ann", "cleo"}
    assert await members(loyal, base, one({"kind": "consent", "channel": "sms"})) == {"ben"}


async def test_all_or_any(loyal: Loyal, base: Base) -> None:
    rules = [{"kind": "consent", "channel": "email"},
             {"kind": "visits", "at_least": 1, "months": 3}]
    assert await members(loyal, base, {"match": "all", "criteria": rules}) == {"ann"}
    assert await members(loyal, base, {"match": "any", "criteria": rules}) \
        == {"ann", "cleo", "dan"}
    ledger = [{"kind": "last_visit", "when": "never"},
              {"kind": "spent", "amount": 2500, "months": 3},
              {"kind": "reward_taken", "reward_id": base.dessert, "months": 1}]
    assert await members(loyal, base, {"match": "any", "criteria": ledger}) \
        == {"ann", "cleo", "dan"}
    assert await members(loyal, base, {"match": "all", "criteria": ledger[1:]}) == {"dan"}
    assert await members(loyal, base, {"match": "all", "criteria": ledger}) == set()


async def test_best_n_by_visits_and_by_spend(loyal: Loyal, base: Base) -> None:
    by_visits = {"best": {"n": 1, "by": "visits", "months": 3}}
    assert await members(loyal, base, by_visits) == {"dan"}
    # Ann and Ben spent 30.00 each over a year: a tie goes to the oldest customer (Ann).
    by_spend = {"best": {"n": 2, "by": "spend", "months": 12}}
    assert await members(loyal, base, by_spend) == {"dan", "ann"}
    # The best among those matching: e-mail consent, then the best one by spend.
    among = {"criteria": [{"kind": "consent", "channel": "email"}],
             "best": {"n": 1, "by": "spend", "months": 12}}
    assert await members(loyal, base, among) == {"ann"}
    async with loyal.db.sessionmaker() as session:
        listed = await segment_query.members(
            session, loyal.company_id, parse({"best": {"n": 3, "by": "spend", "months": 12}}),
            NOW)
    assert [m.name for m in listed] == ["Dan", "Ann", "Ben"]
    assert [(m.visits, m.spent) for m in listed] == [(6, 10000), (3, 3000), (1, 3000)]
    assert listed[1].last_visit == ago(5)


async def test_members_page_by_name_with_their_figures(loyal: Loyal, base: Base) -> None:
    async with loyal.db.sessionmaker() as session:
        first = await segment_query.members(session, loyal.company_id, parse({}), NOW, 2)
        rest = await segment_query.members(session, loyal.company_id, parse({}), NOW, 2, 2)
    assert [m.name for m in first + rest] == ["Ann", "Ben", "Cléo", "Dan"]
    assert (rest[0].visits, rest[0].spent, rest[0].last_visit) == (0, 0, None)
    assert rest[0].phone == f"+336{base.cleo:08d}"


@pytest.mark.parametrize(("data", "field"), [
    ({"match": "some"}, "match"),
    (one({"kind": "weather"}), "criteria.0.kind"),
    (one({"kind": "birthday_between", "start": "02-30", "end": "03-01"}), "criteria.0.start"),
    (one({"kind": "birthday_between", "start": "13-01", "end": "03-01"}), "criteria.0.start"),
    (one({"kind": "visits", "months": 3}), "criteria.0.at_least"),
    (one({"kind": "visits", "at_least": 4, "at_most": 2, "months": 3}), "criteria.0.at_most"),
    (one({"kind": "spent", "amount": -1, "months": 3}), "criteria.0.amount"),
    (one({"kind": "spent", "amount": 10, "months": 0}), "criteria.0.months"),
    (one({"kind": "last_visit", "when": "before"}), "criteria.0.days"),
    ({"best": {"n": 0, "by": "visits", "months": 3}}, "best.n"),
])
def test_bad_definitions_are_refused_with_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(data)
    assert refused.value.field == field
    assert refused.value.message != InvalidInput.message
