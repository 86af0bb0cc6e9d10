"""The payment provider interface, a test provider and Stripe.

A provider creates a payment for an amount (a PaymentIntent at Stripe), tells us how it
ended through a signed webhook, and refunds. Comptoir never sees card details.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from machines.errors import BadSignature, PaymentsUnavailable


@dataclass(frozen=True)
class Intent:
    ref: str  # the provider's id for this payment
    checkout_url: str  # where the consumer completes it
    client_secret: str | None = None


@dataclass(frozen=True)
class ProviderEvent:
    id: str  # unique per event: a replay carries the same id
    ref: str | None
    outcome: str  # succeeded | failed | other


class PaymentProvider(Protocol):
    name: str

    async def create(
        self, amount: int, currency: str, idempotency_key: str, description: str
    ) -> Intent: ...

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderEvent: ...

    async def refund(self, ref: str, idempotency_key: str) -> None: ...


def mask(secret: str | None) -> str:
    """A secret as settings pages show it: its kind and last four characters only."""
    if not secret:
        return ""
    prefix = secret.split("_")[0] + "_" if "_" in secret[:8] else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) > 12 else "…"


class TestProvider:
    """Pays on a page of our own: succeed, fail, or succeed late (demo and tests)."""

    name = "test"

    async def create(
        self, amount: int, currency: str, idempotency_key: str, description: str
    ) -> Intent:
        ref = f"test_{secrets.token_urlsafe(12)}"
        return Intent(ref, f"/pay/test/{ref}")

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        raise BadSignature()  # the test provider settles through its own page

    async def refund(self, ref: str, idempotency_key: str) -> None:
        return None


class NoProvider:
    """No payment provider configured: top-ups and paid drinks are unavailable."""

    name = "none"

    async def create(
        self, amount: int, currency: str, idempotency_key: str, description: str
    ) -> Intent:
        raise PaymentsUnavailable()

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        raise BadSignature()

    async def refund(self, ref: str, idempotency_key: str) -> None:
        raise PaymentsUnavailable()


STRIPE_OUTCOMES = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "failed",
}


class StripeProvider:
    """PaymentIntents through the `stripe` package; webhooks verified on the raw body."""

    name = "stripe"

    def __init__(
        self, api_key: str, webhook_secret: str, publishable_key: str = "", tolerance_s: int = 300
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.publishable_key = publishable_key
        self.tolerance_s = tolerance_s
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import stripe

            self._client = stripe.StripeClient(self.api_key, http_client=stripe.HTTPXClient())
        return self._client

    async def create(
        self, amount: int, currency: str, idempotency_key: str, description: str
    ) -> Intent:
        intent = await self.client().v1.payment_intents.create_async(
            {
                "amount": amount,
                "currency": currency.lower(),
                "description": description[:200],
                "automatic_payment_methods": {"enabled": True},
            },
            {"idempotency_key": idempotency_key},
        )
        return Intent(intent.id, f"/pay/stripe/{intent.id}", intent.client_secret)

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        import stripe

        try:
            # Signature over the exact bytes received, and a timestamp within tolerance.
            event = stripe.Webhook.construct_event(
                raw, headers.get("stripe-signature"), self.webhook_secret, self.tolerance_s
            )
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise BadSignature() from error
        outcome = STRIPE_OUTCOMES.get(event.type, "other")
        obj = event.data.object if outcome != "other" else None
        return ProviderEvent(event.id, obj.id if obj is not None else None, outcome)

    async def refund(self, ref: str, idempotency_key: str) -> None:
        await self.client().v1.refunds.create_async(
            {"payment_intent": ref}, {"idempotency_key": idempotency_key}
        )
