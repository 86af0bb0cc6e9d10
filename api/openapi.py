"""GET /api/v1/openapi.json: the OpenAPI 3 description of the JSON API."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

DOCUMENT = Path(__file__).resolve().parent / "openapi.json"


@cache
def document() -> dict[str, object]:
    data: dict[str, object] = json.loads(DOCUMENT.read_text())
    return data


async def openapi(request: Request) -> Response:
    return JSONResponse(document())
