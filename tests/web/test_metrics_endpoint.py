"""GET /metrics: for this host only without a token, for its bearer with one; and what it
shows moves with what the process does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from prometheus_client import REGISTRY
from starlette.applications import Starlette

from demo.seed import DemoVenue
from tests.conftest import Database, client_for
from tests.conftest import test_settings as settings_for


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def remote(application: Starlette) -> httpx.AsyncClient:
    """A client from another host."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application, client=("203.0.113.7", 40000)),
        base_url="http://testserver",
    )


@pytest_asyncio.fixture
async def with_token(db: Database, venue: DemoVenue) -> AsyncIterator[Starlette]:
    from app import create_app

    application = create_app(settings_for(db.url, metrics_token="scrape-me-please"))
    async with application.router.lifespan_context(application):
        yield application


async def test_without_a_token_only_this_host_that_no_proxy_forwarded_gets_them(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    local = await client.get("/metrics")
    assert local.status_code == 200
    assert local.headers["content-type"].startswith("text/plain; version=")
    assert "comptoir_http_request_duration_seconds" in local.text

    async with remote(app) as stranger:
        refused = await stranger.get("/metrics")
    assert refused.status_code == 404 and "comptoir_" not in refused.text
    # A proxy on this host connects from 127.0.0.1 too: what it forwards is refused.
    forwarded = await client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"})
    assert forwarded.status_code == 404


async def test_with_a_token_only_its_bearer_gets_them(with_token: Starlette) -> None:
    async with client_for(with_token) as local, remote(with_token) as scraper:
        assert (await local.get("/metrics")).status_code == 404  # this host needs it too
        wrong = await scraper.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert wrong.status_code == 404
        right = await scraper.get(
            "/metrics", headers={"Authorization": "Bearer scrape-me-please"}
        )
        assert right.status_code == 200 and "comptoir_sockets_open" in right.text


async def test_a_request_counts_under_its_route_template_not_its_path(
    client: httpx.AsyncClient, venue: DemoVenue
) -> None:
    token = venue.table_tokens[0][1]
    route = {"method": "GET", "route": "/api/v1/tables/{token}", "status": "2xx"}
    missing = {"method": "GET", "route": "/api/v1/tables/{token}", "status": "4xx"}
    before = value("comptoir_http_request_duration_seconds_count", **route)
    before_missing = value("comptoir_http_request_duration_seconds_count", **missing)
    queries = value("comptoir_db_query_duration_seconds_count", statement="select")

    assert (await client.get(f"/api/v1/tables/{token}")).status_code == 200
    assert (await client.get("/api/v1/tables/no-such-table")).status_code == 404
    assert (await client.get("/no/such/page")).status_code == 404

    assert value("comptoir_http_request_duration_seconds_count", **route) == before + 1
    assert value("comptoir_http_request_duration_seconds_count", **missing) == before_missing + 1
    assert value("comptoir_db_query_duration_seconds_count", statement="select") > queries
    assert value("comptoir_db_connections_in_use") == 0  # every one given back
    text = (await client.get("/metrics")).text
    assert 'route="<unmatched>"' in text
    assert token not in text and "no-such-table" not in text


async def test_the_request_id_is_kept_or_made_and_answered(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert kept.headers["x-request-id"] == "lb-7f3a.42"
    made = await client.get("/healthz", headers={"X-Request-ID": "not a sane id"})
    assert len(made.headers["x-request-id"]) == 32
    other = await client.get("/healthz")
    assert other.headers["x-request-id"] not in ("", made.headers["x-request-id"])
    # Refusals answer it too (a request's id is for finding its log lines).
    refused = await client.post("/api/v1/staff/login", json={"email": "x"})
    assert refused.status_code // 100 == 4 and len(refused.headers["x-request-id"]) == 32
