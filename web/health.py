"""GET /healthz: is the database reachable, is the bus connected; and what the process
holds (open sockets, tasks, garbage-collector pauses)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from web.state import app_state


async def healthz(request: Request) -> Response:
    state = app_state(request)
    try:
        async with state.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        database = "down"
    bus = "ok" if await state.bus.ping() and state.bus.healthy else "down"
    backend = "redis" if state.settings.redis_url else "memory"
    ok = database == "ok" and bus == "ok"
    process = {"sockets": len(state.hub.connections), "tasks": len(asyncio.all_tasks()),
               "gc": request.app.state.gc_policy.stats()}
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "database": database, "bus": bus,
         "bus_backend": backend, "database_backend": state.engine.dialect.name,
         "process": process},
        status_code=200 if ok else 503,
    )
