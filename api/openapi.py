"""GET /api/v1/openapi.json: the OpenAPI 3 description of the JSON API."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

DOCUMENT = Path(__file__).resolve().parent / "openapi.json"


# Capabilities that document their own routes beside their code.
FRAGMENTS = [Path(__file__).resolve().parent.parent / "machines" / "openapi.json"]


@cache
def document() -> dict[str, object]:
    data: dict[str, Any] = json.loads(DOCUMENT.read_text())
    for path in FRAGMENTS:
        _merge(data, json.loads(path.read_text()))
    return data


def _merge(data: dict[str, Any], fragment: dict[str, Any]) -> None:
    data["tags"] += fragment.get("tags", [])
    data["paths"].update(fragment.get("paths", {}))
    for section, items in fragment.get("components", {}).items():
        data["components"].setdefault(section, {}).update(items)
    codes = data["components"]["schemas"]["ErrorCode"]["anyOf"]
    known = {c.get("const") for c in codes}
    codes += [c for c in fragment.get("x-error-codes", []) if c["const"] not in known]


async def openapi(request: Request) -> Response:
    return JSONResponse(document())
