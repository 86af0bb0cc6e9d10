"""What staff and operators send (sign in, name a new company), as typed commands."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated

from pydantic import AfterValidator, Field

from accounts.choices import LANGUAGES, currencies, timezones
from accounts.service import BadLogin
from errors import N_, InvalidInput
from web.commands import Collapsed, Command, Invalid, Text


class Login(Command):
    invalid = Invalid(BadLogin)  # a malformed sign-in says no more than a wrong one
    email: Annotated[Text, Field(max_length=254, json_schema_extra={"format": "email"})]
    password: Annotated[Text, Field(max_length=200)]


class BadCompanyName(InvalidInput):
    code = "bad_company_name"
    message = N_("Give the company a name of 1 to 120 characters.")


class BadStaffName(InvalidInput):
    code = "bad_staff_name"
    message = N_("Give your name, 1 to 120 characters.")


class BadCurrency(InvalidInput):
    code = "bad_currency"
    message = N_("Pick a currency from the list.")


class BadTimezone(InvalidInput):
    code = "bad_timezone"
    message = N_("Pick a time zone from the list.")


class BadLanguage(InvalidInput):
    code = "bad_language"
    message = N_("Pick French or English.")


def _one_of(allowed: Callable[[], Collection[str]]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in allowed():
            raise ValueError(value)
        return value

    return AfterValidator(check)


class NewCompany(Command):
    """The company an operator's confirmed sign-up creates, with its admin's name."""

    company: Annotated[Collapsed, Field(min_length=1, max_length=120),
                       Invalid(BadCompanyName)]
    name: Annotated[Collapsed, Field(min_length=1, max_length=120), Invalid(BadStaffName)]
    currency: Annotated[Text, _one_of(currencies), Invalid(BadCurrency),
                        Field(description="ISO 4217 code of a currency in use, e.g. EUR.")]
    timezone: Annotated[Text, _one_of(timezones), Invalid(BadTimezone),
                        Field(description="IANA time zone, e.g. Europe/Paris.")]
    language: Annotated[Text, _one_of(lambda: LANGUAGES), Invalid(BadLanguage),
                        Field(description="fr or en: the company's screens and mail.")]
