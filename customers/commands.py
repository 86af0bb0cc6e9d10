"""What a person asks of their customer account: sign up and sign in, typed.

A person signs up or in where they scanned a code (a machine's, today): `place` is its
token, which the room owning it resolves (an unknown or malformed one: not found).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from customers.errors import BadConsumerLogin, BadEmail, BadName, BadPassword, BadSignup
from web.commands import Command, Invalid, Text


def _token(value: Any) -> Any:
    """Anything but a string names no place: the place's owner answers it as unknown."""
    return value if isinstance(value, str) else ""


def _email(value: str) -> str:
    local, _, domain = value.partition("@")
    # No space or control character: the address becomes a mail header.
    if not local or "." not in domain or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(value)
    return value


def _normalised(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


NAME_LIMIT = 60
_NAME_MARKS = frozenset(" '’-.")


def _person_name(value: str) -> str:
    """Letters (any script), spaces, apostrophes, hyphens and the dots of initials: a mail
    client that makes addresses clickable finds none in it (a dot followed by two letters
    would start a domain name; no digits, no `:` or `/`)."""
    for index, char in enumerate(value):
        if char in _NAME_MARKS:
            following = value[index + 1 : index + 3]
            if char == "." and len(following) == 2 and following.isalpha():
                raise ValueError(value)
        elif unicodedata.category(char)[0] not in "LM":
            raise ValueError(value)
    return value


def _collapsed(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


Place = Annotated[str, BeforeValidator(_token),
                  Field(description="The token of the place whose QR code was scanned: a "
                                    "machine's, or a table's as `t:{token}`.")]
Email = Annotated[Text, BeforeValidator(_normalised), Field(max_length=254),
                  AfterValidator(_email)]


class SignUp(Command):
    invalid = Invalid(BadSignup)

    machine: Place
    email: Email
    name: Annotated[Text, BeforeValidator(_collapsed), Field(min_length=1, max_length=NAME_LIMIT),
                    AfterValidator(_person_name), Invalid(BadName, limit=NAME_LIMIT)]
    password: Annotated[Text, Field(min_length=8, max_length=200)]


class LogIn(Command):
    invalid = Invalid(BadConsumerLogin)

    machine: Place
    email: Annotated[Text, BeforeValidator(_normalised)]
    password: Annotated[Text, Field(max_length=200)]


Password = Annotated[Text, Field(min_length=8, max_length=200), Invalid(BadPassword)]


class ForgotPassword(Command):
    """A member of staff asks for a link to choose a new password."""

    email: Annotated[Email, Invalid(BadEmail)]


class ConsumerForgotPassword(Command):
    """A consumer asks, where they sign in (the machine whose code they scanned)."""

    machine: Place
    email: Annotated[Email, Invalid(BadEmail)]


class NewPassword(Command):
    token: Annotated[Text, Field(max_length=64)]
    password: Password
