"""A documented route: the Starlette route plus what the API document says of it.

    Endpoint("/tables/{token}/cart/lines", add_line, "POST", tag=DINERS,
             summary="Add a line to the shared cart", body=AddLine,
             responses={201: Reply(AddedLine, "The line as stored.")},
             errors=[UnknownTable, UnknownProduct], params=[TOKEN], security=DEVICE)

The description is the handler's docstring unless given; a body the handler reads as is
(a signed webhook) is documented by `raw_body`, a JSON Schema, instead of a model. The body
model's field errors, the body reader's errors and the CSRF refusal of unsafe methods are
added by api/openapi.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.routing import Route

from errors import DomainError

# Who may call: anyone (no cookie needed), or anyone with the session cookie (diners by
# their device id, staff once signed in).
PUBLIC: tuple[dict[str, list[str]], ...] = ({},)
SESSION: tuple[dict[str, list[str]], ...] = ({}, {"session": []})
SIGNED_IN: tuple[dict[str, list[str]], ...] = ({"session": []},)


@dataclass(frozen=True)
class Tag:
    name: str
    description: str


# What the `{…:id}` path convertor (web/convertors.py) lets through: at most 18 digits.
ID_IN_PATH: Mapping[str, Any] = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}


@dataclass(frozen=True)
class Param:
    """A path parameter, documented once as components/parameters/<name>."""

    name: str  # the component's name, e.g. "LineId"
    key: str  # the path's, e.g. "line_id"
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: dict(ID_IN_PATH))


@dataclass(frozen=True)
class Reply:
    """A success answer: its model (or a plain JSON Schema) and what it means."""

    model: type[BaseModel] | Mapping[str, Any]
    description: str


class Endpoint(Route):
    def __init__(
        self,
        path: str,
        handler: Callable[..., Any],
        method: str,
        *,
        tag: Tag,
        summary: str,
        responses: Mapping[int, Reply],
        description: str | None = None,
        body: type[BaseModel] | None = None,
        raw_body: Mapping[str, Any] | None = None,
        example: Mapping[str, Any] | None = None,
        errors: Sequence[type[DomainError]] = (),
        params: Sequence[Param] = (),
        security: Sequence[Mapping[str, list[str]]] = SESSION,
        operation_id: str | None = None,
    ) -> None:
        super().__init__(path, handler, methods=[method])
        self.method = method.lower()
        self.tag = tag
        self.summary = summary
        self.description = description or " ".join((handler.__doc__ or summary).split())
        self.body = body
        self.raw_body = raw_body
        self.example = example
        self.responses = responses
        self.errors = tuple(errors)
        self.params = tuple(params)
        self.security = [dict(s) for s in security]
        first, *rest = handler.__name__.split("_")
        self.operation_id = operation_id or first + "".join(w.title() for w in rest)
