"""`comptoir serve --workers 2`: GET /metrics answers for both workers, whichever of them
takes the scrape; a socket opened on one counts once, and leaves the count when it closes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from demo.seed import DemoVenue
from tests.conftest import REDIS_URL, Database, Server
from tests.deploy.test_workers import wait_for, workers_of
from tests.realtime.phones import Phone, receive, subscribe
from tests.telemetry.test_multiprocess import sample


def scrape(server: Server) -> str:
    """One scrape on a connection of its own: either worker may take it."""
    response = httpx.get(server.url + "/metrics", timeout=10)
    assert response.status_code == 200
    return response.text


def table_reads(text: str) -> float:
    return sample(text, "comptoir_http_request_duration_seconds_count",
                  {"method": "GET", "route": "/api/v1/tables/{token}", "status": "2xx"})


async def test_any_worker_answers_for_both(
    shared: tuple[Database, DemoVenue], server_factory: type[Server], tmp_path: Path
) -> None:
    db, venue = shared
    env = {"DATABASE_URL": db.url, "REDIS_URL": REDIS_URL,
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    server = server_factory(env, workers=2)
    await wait_for(lambda: len(workers_of(server)) == 2)
    token = venue.table_tokens[0][1]

    # Requests on connections of their own, spread over both workers by the kernel.
    for _ in range(20):
        assert httpx.get(f"{server.url}/api/v1/tables/{token}", timeout=10).status_code == 200
    pids = {p.name.rsplit("_", 1)[1] for p in tmp_path.glob("histogram_*.db")}
    assert pids <= {f"{pid}.db" for pid in workers_of(server)}
    assert all(table_reads(scrape(server)) == 20 for _ in range(6))

    async with Phone(server.url) as lea:
        topic = (await lea.scan(token))["topics"][0]
        await lea.start(token, "Léa")
        espresso = (await lea.scan(token))["menu"]["categories"][0]["products"][0]["id"]
        async with lea.socket() as ws:
            await subscribe(ws, topic)
            for _ in range(6):
                text = scrape(server)
                assert sample(text, "comptoir_sockets_open", {"kind": "diner"}) == 1
                assert sample(text, "comptoir_snapshots_sent_total", {"reason": "subscribe"}) >= 1
            published = sample(text, "comptoir_events_published_total", {"kind": "table"})
            delivered = sample(text, "comptoir_events_delivered_total")
            await lea.add(token, espresso)
            assert (await receive(ws))["event"] == "cart.added"
            text = scrape(server)
            assert sample(text, "comptoir_events_published_total", {"kind": "table"}) > published
            assert sample(text, "comptoir_events_delivered_total") > delivered
            assert sample(text, "comptoir_db_query_duration_seconds_count",
                          {"statement": "update"}) >= 1

    deadline = time.monotonic() + 10
    while sample(scrape(server), "comptoir_sockets_open", {"kind": "diner"}) != 0:
        assert time.monotonic() < deadline, "the closed socket is still counted"
        await asyncio.sleep(0.1)
