"""What a person asks of their customer account: sign up and sign in, typed.

A person signs up or in where they scanned a code (a machine's, today): `place` is its
token, which the room owning it resolves (an unknown or malformed one: not found).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from customers.errors import BadConsumerLogin, BadSignup
from web.commands import Command, Invalid, Text


def _token(value: Any) -> Any:
    """Anything but a string names no place: the place's owner answers it as unknown."""
    return value if isinstance(value, str) else ""


def _email(value: str) -> str:
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value:
        raise ValueError(value)
    return value


def _normalised(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Place = Annotated[str, BeforeValidator(_token),
                  Field(description="The token of the machine whose QR code was scanned.")]
Email = Annotated[Text, BeforeValidator(_normalised), Field(max_length=254),
                  AfterValidator(_email)]


class SignUp(Command):
    invalid = Invalid(BadSignup)

    machine: Place
    email: Email
    name: Annotated[Text, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v),
                    Field(min_length=1, max_length=120)]
    password: Annotated[Text, Field(min_length=8, max_length=200)]


class LogIn(Command):
    invalid = Invalid(BadConsumerLogin)

    machine: Place
    email: Annotated[Text, BeforeValidator(_normalised)]
    password: Annotated[Text, Field(max_length=200)]
