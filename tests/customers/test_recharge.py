"""Regular recharges: on schedule, in the company's time zone, once per period even when
several processes run them at the same moment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import update

from customers import recharge
from customers.models import GroupMember, UserGroup
from db.engine import make_engine, make_sessionmaker
from machines import admin_service
from machines.commands import GroupSettings
from realtime.events import transaction
from tests.machines.conftest import Coffee, given


async def _recharge_group(coffee: Coffee, members: int) -> tuple[int, list[int]]:
    async with coffee.db.sessionmaker() as session, session.begin():
        # Only this test's group recharges (the demo's open space has one too).
        await session.execute(update(UserGroup).values(recharge_every=None))
    group = await coffee.run(
        lambda tx: admin_service.create_group(
            tx, coffee.admin, given(GroupSettings, name="Open space", recharge_amount=300,
                                    recharge_every="day", recharge_at="07:00"),
        )
    )
    people = [await coffee.consumer(f"P{n}") for n in range(members)]
    async with coffee.db.sessionmaker() as session, session.begin():
        session.add_all(GroupMember(group_id=group.id, consumer_id=p) for p in people)
    return group.id, people


async def test_two_processes_recharge_once_per_period(coffee: Coffee) -> None:
    _, people = await _recharge_group(coffee, 3)
    # Paris is UTC+1 in winter: 07:00 there is 06:00 UTC.
    before = datetime(2026, 1, 15, 5, 59, tzinfo=UTC)
    after = datetime(2026, 1, 15, 6, 1, tzinfo=UTC)
    next_day = datetime(2026, 1, 16, 6, 0, tzinfo=UTC)

    # Two "processes": separate engines and connections on the same database.
    engines = [make_engine(coffee.db.url) for _ in range(2)]
    makers = [make_sessionmaker(e) for e in engines]

    async def process(index: int, moment: datetime) -> int:
        async with transaction(makers[index], coffee.bus) as tx:
            return await recharge.run_due(tx, moment)

    try:
        # Before 07:00 on the 15th, the current period is the 14th's: it runs once.
        first = await asyncio.gather(process(0, before), process(1, before))
        assert sorted(first) == [0, 3]
        assert [await coffee.balance(p) for p in people] == [300, 300, 300]

        # At 07:01 the 15th's period is due: six runs at once, across both, credit once.
        due = await asyncio.gather(*(process(i % 2, after) for i in range(6)))
        assert sorted(due) == [0, 0, 0, 0, 0, 3]
        assert await process(0, after) == 0  # and later in the day, nothing more

        tomorrow = await asyncio.gather(process(0, next_day), process(1, next_day))
        assert sorted(tomorrow) == [0, 3]
    finally:
        for engine in engines:
            await engine.dispose()
    for person in people:
        assert await coffee.balance(person) == 900 == await coffee.ledger_sum(person)
        assert [k for k, _ in await coffee.entries(person)] == ["recharge"] * 3
