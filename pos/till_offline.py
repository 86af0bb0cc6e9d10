"""The till offline: its web app manifest and its service worker, both from the site's root.

The service worker (static/till-sw.js) must be served from `/` for its scope to cover the
till's pages (/till…) and its catalog (/api/v1/till/catalog); it keeps them so the till
opens and sells with no network. The sales made meanwhile wait in the page's IndexedDB
(static/till-offline.js) and go up through `POST /api/v1/till/sync`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).resolve().parents[1] / "static"
# Asked again by the browser at each page load: a new service worker reaches tills at once.
FRESH = {"Cache-Control": "no-cache"}
# How long a till may stay offline before it warns (the manager's setting, later).
OFFLINE_WARN_HOURS = 24

MANIFEST = {
    "name": "Comptoir",
    "short_name": "Comptoir",
    "start_url": "/till",
    "scope": "/",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#9a3412",
    "icons": [{"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml",
               "purpose": "any"}],
}


async def service_worker(request: Request) -> Response:
    script = (STATIC / "till-sw.js").read_bytes()
    return Response(script, media_type="text/javascript",
                    headers={**FRESH, "Service-Worker-Allowed": "/"})


async def manifest(request: Request) -> Response:
    return JSONResponse(MANIFEST, media_type="application/manifest+json", headers=FRESH)


routes = [
    Route("/till-sw.js", service_worker, methods=["GET"]),
    Route("/till.webmanifest", manifest, methods=["GET"]),
]


def indicator(till_id: int) -> dict[str, object]:
    """What the till's pages give templates/till/_sync.html."""
    return {"offline_warn_hours": OFFLINE_WARN_HOURS, "sync_topic": ""}
