"""GET /metrics: the metrics of this process, or of every worker of this server, in
Prometheus's text format (telemetry/metrics.py), for whoever may read them.

With METRICS_TOKEN set, only a request bearing it (`Authorization: Bearer …`) is
answered. Without one, only a request from this host that no proxy forwarded: anything
else gets the 404 of a page that does not exist, so that a public address shows nothing.
"""

from __future__ import annotations

import hmac
import ipaddress

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from telemetry import metrics
from web.state import app_state

_FORWARDED = ("x-forwarded-for", "forwarded", "x-real-ip")


async def metrics_endpoint(request: Request) -> Response:
    token = app_state(request).settings.metrics_token
    if not (_bears(request, token) if token else _local(request)):
        raise HTTPException(status_code=404)  # as for any page that does not exist
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


def _bears(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


def _local(request: Request) -> bool:
    """From a loopback address, and not through a proxy on this host (nginx connects from
    127.0.0.1 too, and says for whom with a forwarding header)."""
    if request.client is None or any(h in request.headers for h in _FORWARDED):
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False
