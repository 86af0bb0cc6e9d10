"""Request bodies as typed commands: a pydantic model reads JSON or a form the same way, and
a field that fails raises that field's DomainError (same code and message as ever), naming it.

    class AddLine(Command):
        quantity: Annotated[Integer, Field(ge=1, le=50), Invalid(BadQuantity, low=1, high=50)]

    add = await command(request, AddLine)

JSON is read strictly (the string "2" is not a number); a form sends strings, so the
`Integer`, `Money` and `Flag` types parse them when, and only when, the body was a form
(parts of a body, e.g. the items of a list, are `Shape`s for that).

Every number a body carries is bounded to what the database holds, here, once: an `Id` fits
a BIGINT id column, `Money` a BIGINT amount with room to add; a field narrows them further
(a quantity, an amount a person may credit). Out of bounds is the field's error, a 4xx.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, ClassVar, TypeVar, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    Strict,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from starlette.requests import Request

from db.base import MAX_ID
from errors import DomainError, InvalidInput
from web.body import read_body
from web.i18n import parse_money

M = TypeVar("M", bound="Command")


class Invalid:
    """Annotated metadata: the error a field's failure raises, with its message's params;
    `above`, when a value over the field's maximum is another error (too much is not too
    little); `malformed`, when a value of the wrong shape or below the minimum is another
    error ("abc" typed as an amount is not too little money)."""

    def __init__(
        self, error: type[DomainError], message: str | None = None, *,
        above: Invalid | None = None, malformed: Invalid | None = None, **params: Any,
    ) -> None:
        self.error = error
        self.message = message
        self.above = above
        self.malformed = malformed
        self.params = params

    def __call__(self, field: str | None) -> DomainError:
        error = self.error(self.message, **self.params)
        error.field = field
        return error


class Named:
    """Annotated metadata: the type is documented once, as components/schemas/<name>, and
    referred to by every field that uses it (api/openapi.py swaps the marked copies)."""

    schemas: ClassVar[dict[str, JsonSchemaValue]] = {}
    MARK: ClassVar[str] = "x-named"

    def __init__(self, name: str, description: str | None = None) -> None:
        self.name = name
        self.description = description

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = dict(handler(core_schema))
        if self.description:
            schema["description"] = self.description
        Named.schemas[self.name] = dict(schema)
        return {**schema, Named.MARK: self.name}


def form_integer(value: str) -> Any:
    """A form's "2" is 2; anything else is left for the type to refuse."""
    stripped = value.strip()
    return int(stripped) if stripped.lstrip("-").isdigit() else value


def form_money(value: str) -> Any:
    """Minor units: "12,50" or "12.50" typed in a form is 1250; blank is no amount; what
    is not an amount is left for the type to refuse."""
    if not value.strip():
        return None
    parsed = parse_money(value)
    return value if parsed is None else parsed


def form_flag(value: str) -> bool:
    return value.lower() in ("1", "true", "on", "yes")


class FormValue:
    """Annotated metadata: how a form's string becomes this field's value (JSON is read as
    it is). Applied by `Shape` before validation, so constraints document as usual."""

    def __init__(self, parse: Callable[[str], Any]) -> None:
        self.parse = parse


def _collapsed(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


# Minor units: ten billion in a currency of cents, far above any bill or top-up and far
# below what a BIGINT column holds, so that sums of many amounts cannot overflow either.
MAX_MONEY = 10**12

Integer = Annotated[int, Strict(), FormValue(form_integer)]
Id = Annotated[
    Integer, Field(ge=1, le=MAX_ID),
    Named("Id", "A row's id, as an answer gave it (a 64-bit signed integer, at least 1)."),
]
Money = Annotated[
    int, Strict(), FormValue(form_money), Field(ge=0, le=MAX_MONEY),
    Named("Money", "An amount in minor units (cents) of the company's currency."),
]
Flag = Annotated[bool, Strict(), FormValue(form_flag)]
ClientKey = Annotated[
    str, Strict(), Field(min_length=8, max_length=64),
    Named("ClientKey", "Chosen by the client, unique per action (a UUID is fine); sending it "
                       "again makes a retry that changes nothing."),
]
Text = Annotated[str, Strict()]
# Whitespace runs count as one space, as they are stored.
Collapsed = Annotated[str, Strict(), BeforeValidator(_collapsed)]


def _form_value(annotation: Any, metadata: Iterable[Any] = ()) -> FormValue | None:
    for meta in (*metadata, *get_args(annotation)):
        if isinstance(meta, FormValue):
            return meta
        found = _form_value(meta) if get_args(meta) else None
        if found is not None:
            return found
    return None


class Shape(BaseModel):
    """A body, or a part of one: a form's strings are parsed by their fields' FormValue.
    `missing`, when set, is the error of a required field left out (rather than its own)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    missing: ClassVar[Invalid | None] = None

    @model_validator(mode="before")
    @classmethod
    def _from_form(cls, data: Any, info: ValidationInfo) -> Any:
        if not (info.context and info.context.get("form")) or not isinstance(data, dict):
            return data
        parsed = dict(data)
        for name, field in cls.model_fields.items():
            form = _form_value(field.annotation, field.metadata)
            if form is not None and isinstance(parsed.get(name), str):
                parsed[name] = form.parse(parsed[name])
        return parsed


class Command(Shape):
    """A request body. A field without its own `Invalid` fails with the model's `invalid`."""

    invalid: ClassVar[Invalid] = Invalid(InvalidInput)


FormShape = Callable[[Mapping[str, str]], Mapping[str, Any]]


async def command(request: Request, model: type[M], form: FormShape | None = None) -> M:
    """The body as `model`. `form` reshapes a page's form fields (all strings, some named
    after ids, e.g. `qty-12`) into the model's shape; they are parsed as form values."""
    body = await read_body(request)
    data: Mapping[str, Any] = body.data
    if body.is_form and form is not None:
        data = form(body.data)
    return parse(model, data, form=body.is_form)


def parse(model: type[M], data: Mapping[str, Any], *, form: bool = False) -> M:
    """`data` as `model` (`form`: its values are a form's strings), or the field's error."""
    try:
        return model.model_validate(data, context={"form": form})
    except ValidationError as failure:
        raise refusal(model, failure) from None


def refusal(model: type[Command], failure: ValidationError) -> DomainError:
    """The DomainError of the first failing field: the innermost `Invalid` on its path, or
    the `missing` of the part that lacks a required field, when it has one."""
    first = failure.errors()[0]
    loc = first["loc"]
    invalid = model.invalid
    current: Any = model
    container: Any = model
    for step in loc:
        if not isinstance(step, str):
            continue  # an index into a list: the items' model is already current
        fields = getattr(current, "model_fields", None)
        if not fields or step not in fields:
            break
        container = current
        info = fields[step]
        invalid = next((m for m in info.metadata if isinstance(m, Invalid)), invalid)
        current = _model_in(info.annotation)
    if first["type"] == "missing" and getattr(container, "missing", None) is not None:
        invalid = container.missing
    elif first["type"] == "less_than_equal" and invalid.above is not None:
        invalid = invalid.above
    elif first["type"] not in ("missing", "less_than_equal") and invalid.malformed is not None:
        invalid = invalid.malformed
    return invalid(".".join(str(step) for step in loc) or None)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly or in a list or an optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
