"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, generated from the mounted routes'
declarations (api/endpoint.py) and their pydantic models, once per app."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount

from api.endpoint import ID_IN_PATH, Endpoint, Param, Tag
from errors import DomainError
from web.body import BadBody, BodyTooLarge, UnsupportedBody
from web.commands import Command, Invalid, Named

INTRODUCTION = Path(__file__).resolve().parent / "introduction.md"
UNSAFE = {"post", "put", "patch", "delete"}
REF = "#/components/schemas/{model}"

# The refusal web/security.py answers before any route runs (it is no DomainError).
CSRF = ("csrf", 403, "An unsafe request (POST, PATCH, DELETE) that is not Content-Type: "
        "application/json and has no valid X-CSRF-Token header, or whose Origin header is not "
        "this site. Nothing was read or changed.")
CSRF_TOKEN = {
    "name": "X-CSRF-Token", "in": "header", "required": False,
    "description": "Needed only when the request is not Content-Type: application/json (e.g. "
                   "a form post): the token from `POST /api/v1/staff/login` or "
                   "`GET /api/v1/staff/me`.",
    "schema": {"type": "string"},
}
RETRY_AFTER = {
    "description": "Seconds to wait before the next try may be made (a 429's tries were "
                   "not checked: wait, then try again).",
    "schema": {"type": "integer", "minimum": 1},
}
SESSION_COOKIE = {
    "type": "apiKey", "in": "cookie", "name": "comptoir",
    "description": "An opaque session id, set by the first answer that needs a session; the "
                   "session, kept on the server, holds a device id (a diner's identity) and, "
                   "after POST /api/v1/staff/login, the staff identity. Signing in and out "
                   "give a new one.",
}
ERROR: dict[str, Any] = {
    "type": "object",
    "description": "The error envelope of every 4xx answer.",
    "properties": {"error": {
        "type": "object",
        "properties": {
            "code": {"$ref": "#/components/schemas/ErrorCode"},
            "message": {"type": "string",
                        "description": "For people, translated; do not parse."},
            "field": {"type": "string",
                      "description": "The request body's field that is wrong, when one is "
                                     "(`lines.0.quantity` inside a list)."},
        },
        "required": ["code", "message"],
    }},
    "required": ["error"],
}
BODY_ERRORS: tuple[type[DomainError], ...] = (BadBody, BodyTooLarge, UnsupportedBody)
Mode = Literal["validation", "serialization"]


class _Schemas(GenerateJsonSchema):
    """Pydantic's JSON Schemas without a made-up title on every field."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def endpoints(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Endpoint]]:
    """(OpenAPI path, endpoint) of every documented route: `{line_id:id}` is `{line_id}`."""
    for route in routes:
        if isinstance(route, Mount):
            yield from endpoints(route.routes, prefix + route.path)
        elif isinstance(route, Endpoint):
            yield re.sub(r"\{(\w+):\w+\}", r"{\1}", prefix + route.path), route


def documented_errors(cls: type[DomainError] = DomainError) -> Iterator[type[DomainError]]:
    """The error classes that exist (building the app imported every room's)."""
    yield cls
    for sub in cls.__subclasses__():
        yield from documented_errors(sub)


def _explained(error: type[DomainError]) -> str:
    return " ".join((error.__doc__ or error.message).split())


def _field_errors(model: type[BaseModel]) -> Iterator[type[DomainError]]:
    if issubclass(model, Command):
        yield model.invalid.error
    for info in model.model_fields.values():
        for meta in info.metadata:
            if isinstance(meta, Invalid):
                yield meta.error
                if meta.above is not None:
                    yield meta.above.error
                if meta.malformed is not None:
                    yield meta.malformed.error
        for inner in _models_in(info.annotation):
            yield from _field_errors(inner)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _models_in(arg)


def _errors_of(endpoint: Endpoint) -> dict[str, list[tuple[str, str]]]:
    """Per status, the codes this operation may answer with, each explained once."""
    found: list[tuple[str, int, str]] = []
    if endpoint.method in UNSAFE:
        found.append(CSRF)
    errors = list(endpoint.errors)
    if endpoint.body is not None:
        errors += [*_field_errors(endpoint.body), *BODY_ERRORS]
    found += [(e.code, e.status, _explained(e)) for e in errors]
    by_status: dict[str, list[tuple[str, str]]] = {}
    seen: set[str] = set()
    for code, status, text in found:
        if code not in seen:
            seen.add(code)
            by_status.setdefault(str(status), []).append((code, text))
    return dict(sorted(by_status.items()))


def _parameter(path: str, key: str, params: dict[str, Param]) -> dict[str, Any]:
    if key in params:
        return {"$ref": f"#/components/parameters/{params[key].name}"}
    integer = re.search(r"\{" + key + r":id\}", path) is not None
    schema = dict(ID_IN_PATH) if integer else {"type": "string"}
    return {"name": key, "in": "path", "required": True, "schema": schema,
            "description": f"The `{key}` of the resource."}


def _referred(node: Any) -> Any:
    """Every copy of a Named type becomes a $ref to its one schema; what a field adds to it
    (its own description, a default) stays beside the $ref."""
    if isinstance(node, list):
        return [_referred(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _referred(value) for key, value in node.items()}
    name = node.pop(Named.MARK, None)
    if name is None:
        return node
    named = Named.schemas[name]
    extra = {k: v for k, v in node.items() if k not in named or named[k] != v}
    return {"$ref": REF.format(model=name), **extra}


def _envelope(details: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The error envelope, with the `detail` some codes add (each code's own shape)."""
    envelope = copy.deepcopy(ERROR)
    if details:
        envelope["properties"]["error"]["properties"]["detail"] = {
            "description": "More for a program, with these codes only: " + ", ".join(
                f"`{code}`" for code in details) + ".",
            "anyOf": list(details.values()),
        }
    return envelope


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def build(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    found = list(endpoints(routes))
    wanted: set[tuple[type[BaseModel], Mode]] = set()
    for _, e in found:
        if e.body is not None:
            wanted.add((e.body, "validation"))
        wanted |= {(r.model, "serialization") for r in e.responses.values()
                   if isinstance(r.model, type)}
    details = {e.code: e.detail_model for e in documented_errors() if e.detail_model}
    wanted |= {(model, "serialization") for model in details.values()}
    ordered = sorted(wanted, key=lambda m: (m[0].__module__, m[0].__qualname__, m[1]))
    refs, top = models_json_schema(ordered, ref_template=REF, schema_generator=_Schemas)
    schemas: dict[str, Any] = _referred(top.get("$defs", {}))
    schemas.update(Named.schemas)

    tags: dict[str, Tag] = {}
    parameters: dict[str, Any] = {"CsrfToken": CSRF_TOKEN}
    paths: dict[str, dict[str, Any]] = {}
    for path, e in found:
        tags.setdefault(e.tag.name, e.tag)
        params = {p.key: p for p in e.params}
        for p in e.params:
            parameters[p.name] = {"name": p.key, "in": "path", "required": True,
                                  "description": p.description, "schema": dict(p.schema)}
        operation: dict[str, Any] = {
            "operationId": e.operation_id, "tags": [e.tag.name], "summary": e.summary,
            "description": e.description,
        }
        used = [_parameter(e.path, key, params) for key in re.findall(r"\{(\w+)\}", path)]
        if e.method in UNSAFE:
            used.append({"$ref": "#/components/parameters/CsrfToken"})
        if used:
            operation["parameters"] = used
        if e.body is not None:
            name = refs[(e.body, "validation")]["$ref"].rsplit("/", 1)[1]
            content: dict[str, Any] = {"schema": schemas[name]}
            if e.example is not None:
                content["example"] = dict(e.example)
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": content}}
        elif e.raw_body is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": dict(e.raw_body)}}}
        responses: dict[str, Any] = {}
        for status, reply in sorted(e.responses.items()):
            schema = (refs[(reply.model, "serialization")] if isinstance(reply.model, type)
                      else dict(reply.model))
            responses[str(status)] = _json(schema, reply.description)
        for refused, listed in _errors_of(e).items():
            text = "\n".join(f"- `{code}`: {explained}" for code, explained in listed)
            responses[refused] = _json({"$ref": "#/components/schemas/Error"}, text)
            if refused == "429":
                responses[refused]["headers"] = {"Retry-After": RETRY_AFTER}
        operation["responses"] = responses
        operation["security"] = e.security
        paths.setdefault(path, {})[e.method] = operation

    codes: list[dict[str, Any]] = [
        {"const": CSRF[0], "description": f"HTTP {CSRF[1]}. {CSRF[2]}"},
        {"type": "string", "pattern": "^http_[0-9]{3}$",
         "description": "http_<status>, raised by routing: `http_404`: No route for this path "
                        "(also: an id in the path longer than 18 digits); `http_405`: The path "
                        "exists but not with this method; `http_400`: The framework could not "
                        "parse the request (e.g. multipart without a boundary)."},
    ]
    seen = {CSRF[0]}
    for error in documented_errors():
        if error.code not in seen:
            seen.add(error.code)
            codes.append({"const": error.code,
                          "description": f"HTTP {error.status}. {_explained(error)}"})
    schemas["Error"] = _envelope({
        code: refs[(model, "serialization")] for code, model in sorted(details.items())
    })
    schemas["ErrorCode"] = {
        "description": "Stable error codes. Act on these; they do not change with the language.",
        "anyOf": codes,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Comptoir API", "version": "1",
            "summary": "Shared table carts, rounds, POS validation, production and payment.",
            "description": INTRODUCTION.read_text(),
        },
        "tags": [{"name": t.name, "description": t.description} for t in tags.values()],
        "security": [{}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "parameters": parameters,
            "securitySchemes": {"session": SESSION_COOKIE},
        },
    }


async def openapi(request: Request) -> Response:
    """The OpenAPI 3.1 description of this API."""
    state = request.app.state
    if getattr(state, "openapi", None) is None:  # built once, from what the app mounts
        state.openapi = build(request.app.routes)
    return JSONResponse(state.openapi)
