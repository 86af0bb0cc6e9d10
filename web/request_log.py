"""Each HTTP request: its id (X-Request-ID, kept from the client or proxy if sane, else
made), answered in the response's header, bound for everything the request causes; one
log line and one latency observation per request, by route template (never the path,
which holds tables' tokens, and whose variety would have no bound)."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from telemetry import metrics, request_id

log = logging.getLogger(__name__)

UNMATCHED = "<unmatched>"  # no route: one label for every unknown path


class RequestLog:
    """Pure ASGI (no extra task per request); websockets pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id.adopt(Headers(scope=scope).get(request_id.HEADER))
        root_path = scope.get("root_path", "")
        status = 500  # if the app ends without answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[request_id.HEADER] = rid
            await send(message)

        with request_id.bound(rid):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = route_template(scope, root_path)
                method = scope["method"]
                metrics.REQUEST_DURATION.labels(method, route, f"{status // 100}xx").observe(
                    elapsed
                )
                log.info(
                    "%s %s %d", method, route, status,
                    extra={"method": method, "route": route, "status": status,
                           "duration_ms": round(elapsed * 1000, 2)},
                )


def route_template(scope: Scope, root_path: str = "") -> str:
    """The matched route's path as written (`/api/v1/tables/{token}`), mounts included.

    Starlette's router leaves the route it matched in the scope, and each mount adds the
    part of the path it matched to `root_path`."""
    route: BaseRoute | None = scope.get("route")
    path = getattr(route, "path_format", None)
    if not isinstance(path, str):
        return UNMATCHED
    prefix = str(scope.get("root_path", ""))[len(root_path):]
    if isinstance(route, Mount):
        return prefix.removesuffix(path) + path + "/{path}"  # static files: one label
    return prefix + path
