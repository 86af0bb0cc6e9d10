"""The service's own routes, documented: GET /healthz and GET /api/v1/openapi.json."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.endpoint import PUBLIC, Endpoint, Reply, Tag
from api.openapi import openapi
from web.health import healthz

SERVICE = Tag("service", "Health and this document.")


class GcStats(BaseModel):
    """The garbage collector since start-up: collections per generation (young, middle, full),
    the longest young pause, the most recent full-collection pauses (up to 64), objects frozen
    out of its passes (as last counted), and how often the policy froze and thawed."""

    collections: list[int] = Field(min_length=3, max_length=3)
    young_pause_max_ms: float
    full_pauses_ms: list[float]
    frozen: int
    freezes: int
    thaws: int


class Process(BaseModel):
    """What this server process holds, for capacity checks and benchmarks."""

    sockets: int = Field(description="Open live websockets (GET /ws and /ws/device).")
    tasks: int = Field(description="asyncio tasks: about one per open socket.")
    gc: GcStats


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "down"]
    bus: Literal["ok", "down"]
    bus_backend: Literal["memory", "redis"]
    database_backend: str = Field(examples=["sqlite", "postgresql"])
    process: Process


routes = [
    Endpoint(
        "/healthz", healthz, "GET", tag=SERVICE, summary="Is the service healthy",
        description="Checks the database and the live-update bus. 200 when both are up, 503 "
                    "otherwise (changes still commit while the bus is down; screens fall back "
                    "to snapshots).",
        responses={200: Reply(Health, "Healthy."),
                   503: Reply(Health, "Degraded: the database or the bus is down.")},
        security=PUBLIC,
    ),
    Endpoint(
        "/api/v1/openapi.json", openapi, "GET", tag=SERVICE, summary="This document",
        responses={200: Reply({"type": "object"}, "The document.")}, security=PUBLIC,
    ),
]
