"""A failed statement's parameters (a PIN, a token, a hash) stay out of the error, and so out
of any log line that shows it."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from realtime.models import TopicVersion
from tests.conftest import Database


@pytest.fixture
def bus_url() -> None:
    return None


async def test_a_failed_statement_does_not_show_its_parameters(db: Database) -> None:
    row = {"topic": "table:1", "version": 424242}
    async with db.sessionmaker() as session, session.begin():
        await session.execute(insert(TopicVersion).values(row))
    with pytest.raises(IntegrityError) as failed:
        async with db.sessionmaker() as session, session.begin():
            await session.execute(insert(TopicVersion).values(row))
    assert "424242" not in str(failed.value)
    assert "parameters hidden" in str(failed.value)
