"""The one error base: a stable code, an HTTP status hint and a message to show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel


def N_(message: str) -> str:
    """Marks a message for translation; it is translated where it is shown."""
    return message


class Messages(tuple[str, ...]):
    """An error's parameter made of messages (each marked with N_): translated one by one
    where the error is shown, then joined with commas."""


class DomainError(Exception):
    """Raised as such: a generic error (not expected; report it). Its subclasses say what
    is wrong; their docstrings document their codes in the API document."""

    code = "error"
    status = 400
    message = N_("Something is wrong with this request.")
    field: str | None = None  # the request body's field that is wrong, when one is
    # More for a program, shaped as `detail_model` says (the API document lists it).
    detail: Mapping[str, Any] | None = None
    detail_model: ClassVar[type[BaseModel] | None] = None

    def __init__(self, message: str | None = None, **params: Any) -> None:
        self.message = message or type(self).message
        self.params = params
        super().__init__(self.message % params if params else self.message)

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides its body (a 429's `Retry-After`)."""
        return {}


class NotFound(DomainError):
    """No such resource for you. Resources of another company answer exactly like missing
    ones."""

    code = "not_found"
    status = 404
    message = N_("Not found.")


class Forbidden(DomainError):
    """Your staff role does not have the permission this action needs."""

    code = "forbidden"
    status = 403
    message = N_("You are not allowed to do this.")


class Conflict(DomainError):
    """A concurrent change won the race; reload the state and retry."""

    code = "conflict"
    status = 409
    message = N_("This changed meanwhile; reload and try again.")


class InvalidInput(DomainError):
    """A field is missing or malformed (e.g. an idempotency key not a string of 8 to 64
    characters); `field` names it and the message says what is expected."""

    code = "invalid_input"
    status = 422
    message = N_("Invalid input.")
