"""What people ask of payments: a top-up, the test provider's outcome, a company's
payment settings, typed as the requests carry them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from customers.errors import BadAmount, BadKey
from customers.ledger import MAX_AMOUNT, MAX_AMOUNT_MAJOR
from errors import NotFound
from payments.errors import BadPaymentSettings
from web.commands import ClientKey, Command, Integer, Invalid, Text
from web.redirects import safe_path

Provider = Literal["none", "test", "stripe"]


class Topup(Command):
    """One of the operator's amounts, in minor units (the page's buttons send them so)."""

    idempotency_key: Annotated[ClientKey, Invalid(BadKey)]
    amount: Annotated[
        Integer, Field(ge=1, le=MAX_AMOUNT), Invalid(BadAmount, limit=MAX_AMOUNT_MAJOR)
    ]


class TestOutcome(Command):
    """How the test provider's "bank" ends a payment."""

    outcome: Annotated[Literal["succeed", "fail", "late"], Invalid(NotFound),
                       Field(description="`late` succeeds after a delay (202).")]
    back: Annotated[str, BeforeValidator(lambda v: safe_path(v, "/account")),
                    Field(description="The page of ours the payer returns to: a path of this "
                          "site (anything else is replaced by `/account`).")] = "/account"


def _secret(*prefixes: str) -> Any:
    """A new secret as its provider shapes it; blank (or none) keeps the stored one."""

    def check(value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(prefixes) or not 16 <= len(value) <= 255 or " " in value:
            raise ValueError(value)
        return value

    return AfterValidator(check)


class PaymentSettingsChange(Command):
    invalid = Invalid(BadPaymentSettings)

    provider: Provider
    stripe_secret_key: Annotated[Text | None, _secret("sk_", "rk_"),
                                 Field(description="`sk_…` or a restricted `rk_…`; empty "
                                       "keeps the stored one.")] = None
    stripe_webhook_secret: Annotated[Text | None, _secret("whsec_"),
                                     Field(description="`whsec_…`; empty keeps the stored "
                                           "one.")] = None
