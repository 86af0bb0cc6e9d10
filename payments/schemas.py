"""What the payments API answers: its responses' shapes, for the generated API document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Money = int  # placeholder until the infrastructure's Money


class Checkout(BaseModel):
    id: int
    status: str
    amount: Money
    checkout_url: str = Field(
        description="Where the consumer pays: Stripe's hosted Checkout page "
        "(https://checkout.stripe.com/…), or /pay/test/… with the test provider. The same "
        "idempotency key gives the same URL."
    )


class TopupStarted(BaseModel):
    payment: Checkout
    redirect: str | None = None


class PaymentOutcome(BaseModel):
    status: str
    redirect: str | None = None


class WebhookReceived(BaseModel):
    received: Literal[True]
    outcome: Literal["handled", "duplicate", "ignored"]


class PaymentSettings(BaseModel):
    provider: Literal["none", "test", "stripe"]
    source: Literal["company", "environment"] = Field(
        description="`environment`: nothing saved yet, the server's PAYMENT_PROVIDER and "
        "STRIPE_* apply."
    )
    stripe_secret_key: str = Field(
        description="Masked, e.g. `sk_…Wx4z`; empty when none is set."
    )
    stripe_webhook_secret: str = Field(
        description="Masked, e.g. `whsec_…9aBc`; empty when none is set."
    )
    webhook_url: str = Field(description="Where Stripe should send this company's events.")
    unreadable: bool = Field(
        description="The saved keys were encrypted under another SECRET_KEY and cannot be "
        "read: they must be entered again; payments through Stripe are refused until then."
    )
    refresh: bool | None = None
