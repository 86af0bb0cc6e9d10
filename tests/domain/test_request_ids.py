"""A domain event keeps the id of the request it happened in; its deliveries, retried by the
sweeper long after that request ended, run and log on that request's behalf."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from domain.events import DomainEvent, TableSettled
from domain.outbox import HANDED_ON_WITHIN, record
from domain.outbox_sweeper import sweep_once
from domain.subscribers import subscribe, unsubscribe
from realtime.bus import Bus
from realtime.events import Tx, run
from telemetry import request_id
from telemetry.logs import RequestIdFilter
from tests.conftest import Database
from tests.domain.test_outbox import bus_url, settled  # noqa: F401  (bus_url: a fixture)


@pytest_asyncio.fixture
async def seen() -> AsyncIterator[list[str | None]]:
    """The request id each delivery attempt ran for; the first attempt fails."""
    attempts: list[str | None] = []

    async def heard(tx: Tx, event: TableSettled) -> None:
        attempts.append(request_id.current())
        if len(attempts) == 1:
            raise RuntimeError("down for now")

    subscribe(TableSettled, "test.request_ids", heard)
    yield attempts
    unsubscribe(TableSettled, "test.request_ids")


def test_an_event_takes_the_request_it_happened_in_and_keeps_it() -> None:
    assert settled().request_id is None
    with request_id.bound("req-3f"):
        event = settled()
    assert event.request_id == "req-3f"
    assert DomainEvent.parse(event.name, event.model_dump_json()) == event
    # Recorded before request ids existed: still read.
    old = event.model_dump(mode="json")
    del old["request_id"]
    assert DomainEvent.parse(event.name, TableSettled(**old).model_dump_json()).request_id is None


async def test_a_retried_delivery_runs_for_the_original_request(
    db: Database, bus: Bus, seen: list[str | None], caplog: pytest.LogCaptureFixture
) -> None:
    with request_id.bound("req-7a"):
        await run(db.sessionmaker, bus, lambda tx: record(tx, settled()))
    assert seen == ["req-7a"]

    later = datetime.now(UTC) + HANDED_ON_WITHIN + timedelta(seconds=1)
    caplog.handler.addFilter(RequestIdFilter())  # as `comptoir serve` logs
    with caplog.at_level(logging.INFO, logger="domain.outbox"):
        assert await sweep_once(db.sessionmaker, bus, later) == 1  # outside any request
    assert seen == ["req-7a", "req-7a"]
    [line] = [r for r in caplog.records if "heard table.settled" in r.getMessage()]
    assert line.request_id == "req-7a"
    assert request_id.current() is None
