"""What staff send to sign in, as a typed command."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from accounts.service import BadLogin
from web.commands import Command, Invalid, Text


class Login(Command):
    invalid = Invalid(BadLogin)  # a malformed sign-in says no more than a wrong one
    email: Annotated[Text, Field(max_length=254, json_schema_extra={"format": "email"})]
    password: Annotated[Text, Field(max_length=200)]
