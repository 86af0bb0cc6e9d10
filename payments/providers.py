"""The payment provider interface, a test provider and Stripe.

A provider creates a payment for an amount (a Checkout Session at Stripe, paid on Stripe's
own page), tells us how it ended through a signed webhook, and refunds. Comptoir never sees
card details and loads no script from a payment provider.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit

from payments.errors import BadSignature, PaymentKeysUnreadable, PaymentsUnavailable


@dataclass(frozen=True)
class Intent:
    ref: str  # the provider's id for this payment
    checkout_url: str  # where the consumer completes it


@dataclass(frozen=True)
class ProviderEvent:
    id: str  # unique per event: a replay carries the same id
    ref: str | None
    outcome: str  # succeeded | failed | other


class PaymentProvider(Protocol):
    """`return_url` is where the payer lands once done (absolute, or a path on our site)."""

    name: str

    async def create(
        self, amount: int, currency: str, idempotency_key: str, description: str,
        *, return_url: str = "",
    ) -> Intent: ...

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderEvent: ...

    async def refund(self, ref: str, idempotency_key: str) -> None: ...

    async def close(self) -> None:
        """Let go of what it holds open (HTTP connections): at shutdown, or when replaced."""
        return None


def mask(secret: str | None) -> str:
    """A secret as settings pages show it: its kind and last four characters only."""
    if not secret:
        return ""
    prefix = secret.split("_")[0] + "_" if "_" in secret[:8] else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) > 12 else "…"


class TestProvider(PaymentProvider):
    """Pays on a page of our own: succeed, fail, or succeed late (demo and tests)."""

    name = "test"

    async def create(
        self, amount: int, currency: str, idempotency_key: str, description: str,
        *, return_url: str = "",
    ) -> Intent:
        ref = f"test_{secrets.token_urlsafe(12)}"
        back = urlsplit(return_url)
        path = back.path + (f"?{back.query}" if back.query else "")
        return Intent(ref, f"/pay/test/{ref}?back={quote(path or '/account', safe='/')}")

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        raise BadSignature()  # the test provider settles through its own page

    async def refund(self, ref: str, idempotency_key: str) -> None:
        return None


class NoProvider(PaymentProvider):
    """No payment provider configured: top-ups and paid drinks are unavailable."""

    name = "none"

    async def create(
        self, amount: int, currency: str, idempotency_key: str, description: str,
        *, return_url: str = "",
    ) -> Intent:
        raise PaymentsUnavailable()

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        raise BadSignature()

    async def refund(self, ref: str, idempotency_key: str) -> None:
        raise PaymentsUnavailable()


class UnreadableKeys(PaymentProvider):
    """Stripe chosen, but its saved keys cannot be decrypted (SECRET_KEY changed): every
    payment, webhook and refund is refused with that reason until they are entered again.
    Webhooks refused so are retried by Stripe, and settle once the keys are back."""

    name = "stripe"

    async def create(
        self, amount: int, currency: str, idempotency_key: str, description: str,
        *, return_url: str = "",
    ) -> Intent:
        raise PaymentKeysUnreadable()

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        raise PaymentKeysUnreadable()

    async def refund(self, ref: str, idempotency_key: str) -> None:
        raise PaymentKeysUnreadable()


# A session completed with a card is paid; with a bank debit it is paid later, and the
# async_payment_* event tells how it ended.
STRIPE_SETTLED = {
    "checkout.session.async_payment_succeeded": "succeeded",
    "checkout.session.async_payment_failed": "failed",
    "checkout.session.expired": "failed",
}


def stripe_outcome(kind: str, session: Mapping[str, Any]) -> str:
    if kind == "checkout.session.completed":
        paid = session.get("payment_status") in ("paid", "no_payment_required")
        return "succeeded" if paid else "other"
    return STRIPE_SETTLED.get(kind, "other")


def _httpx_client(base: Any) -> Any:
    """stripe's async client hands httpx the encoded form as `data=`, which httpx deprecates
    (a DeprecationWarning on every call); `content=` sends the very same bytes."""

    class HTTPXClient(base):  # type: ignore[misc]
        def _get_request_args_kwargs(
            self, method: str, url: str, headers: Mapping[str, str], post_data: Any
        ) -> Any:
            args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
            kwargs["content"] = kwargs.pop("data", None) or None
            return args, kwargs

    return HTTPXClient()


class StripeProvider(PaymentProvider):
    """Stripe's hosted Checkout through the `stripe` package; webhooks verified on the raw
    body. `api_base` points the client at another server (stripe-mock, the tests' fake)."""

    name = "stripe"

    def __init__(
        self, api_key: str, webhook_secret: str, *, public_url: str = "http://127.0.0.1:8000",
        tolerance_s: int = 300, api_base: str = "",
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.public_url = public_url
        self.tolerance_s = tolerance_s
        self.api_base = api_base
        self._client: Any = None
        self._http: Any = None

    def __repr__(self) -> str:  # never the keys, wherever a provider ends up printed
        return f"StripeProvider(api_key={mask(self.api_key)!r})"

    def client(self) -> Any:
        if self._client is None:
            import stripe

            self._http = _httpx_client(stripe.HTTPXClient)
            self._client = stripe.StripeClient(
                self.api_key, http_client=self._http,
                base_addresses={"api": self.api_base} if self.api_base else None,
            )
        return self._client

    async def close(self) -> None:
        if self._http is not None:
            http, self._http, self._client = self._http, None, None
            await http.close_async()

    async def create(
        self, amount: int, currency: str, idempotency_key: str, description: str,
        *, return_url: str = "",
    ) -> Intent:
        back = urljoin(self.public_url + "/", return_url or "/account")
        session = await self.client().v1.checkout.sessions.create_async(
            {
                "mode": "payment",
                "line_items": [{
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": amount,
                        "product_data": {"name": description[:200]},
                    },
                }],
                "success_url": back,
                "cancel_url": back,
                "client_reference_id": idempotency_key,
                "metadata": {"comptoir_payment": idempotency_key},
                "payment_intent_data": {"metadata": {"comptoir_payment": idempotency_key}},
            },
            # The same key gives back the same session: a retry never makes a second one.
            {"idempotency_key": idempotency_key},
        )
        return Intent(session.id, session.url)

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        import stripe

        try:
            # Signature over the exact bytes received, and a timestamp within tolerance.
            event = stripe.Webhook.construct_event(
                raw, headers.get("stripe-signature"), self.webhook_secret, self.tolerance_s
            )
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise BadSignature() from error
        session = event.data.object.to_dict()
        outcome = stripe_outcome(event.type, session)
        return ProviderEvent(event.id, session.get("id") if outcome != "other" else None, outcome)

    async def refund(self, ref: str, idempotency_key: str) -> None:
        """Refund the session's PaymentIntent in full."""
        client = self.client()
        session = await client.v1.checkout.sessions.retrieve_async(ref)
        intent = session.payment_intent
        if not intent:
            raise PaymentsUnavailable()  # nothing was taken: no intent to give back
        await client.v1.refunds.create_async(
            {"payment_intent": intent if isinstance(intent, str) else intent.id},
            {"idempotency_key": idempotency_key},
        )
