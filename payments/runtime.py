"""What the payments room holds while the app runs: its providers, delayed work, refunds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from payments import service as payment_service
from payments.provider_settings import ProviderConfig, config_for, from_env
from payments.providers import (
    NoProvider,
    PaymentProvider,
    StripeProvider,
    TestProvider,
    UnreadableKeys,
)
from realtime.bus import Bus
from realtime.events import Tx, run
from settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_provider(settings: Settings, config: ProviderConfig | None = None) -> PaymentProvider:
    chosen = config or from_env(settings)
    if chosen.provider == "stripe" and chosen.unreadable:
        return UnreadableKeys()
    if chosen.provider == "stripe":
        return StripeProvider(
            chosen.stripe_secret_key, chosen.stripe_webhook_secret,
            public_url=settings.public_url, tolerance_s=settings.webhook_tolerance_s,
            api_base=settings.stripe_api_base,
        )
    if chosen.provider == "test":
        return TestProvider()
    return NoProvider()


@dataclass
class PaymentsRuntime:
    settings: Settings
    provider: PaymentProvider  # the environment's: for companies without their own settings
    background: set[asyncio.Task[None]] = field(default_factory=set)
    # One provider (one Stripe HTTP client) per configuration, not one per request.
    providers: dict[ProviderConfig, PaymentProvider] = field(default_factory=dict)

    async def provider_for(self, session: AsyncSession, company_id: int) -> PaymentProvider:
        """The company's own provider when its operator set one, else the environment's.

        Read on every payment, so a change made in one process applies in all of them.
        """
        config = await config_for(session, company_id, self.settings)
        if not config.own:
            return self.provider
        if config not in self.providers:
            if len(self.providers) > 500:  # rotated keys leave stale entries behind
                stale = list(self.providers.values())
                self.providers.clear()

                async def close_stale() -> None:  # once requests using them are done
                    for provider in stale:
                        await provider.close()

                self.later(60.0, close_stale)
            self.providers[config] = make_provider(self.settings, config)
        return self.providers[config]

    async def close(self) -> None:
        """At shutdown: every provider lets go of its HTTP connections."""
        providers = [self.provider, *self.providers.values()]
        self.providers.clear()
        for provider in providers:
            await provider.close()

    @classmethod
    def from_settings(cls, settings: Settings) -> PaymentsRuntime:
        return cls(
            settings,
            make_provider(settings),
        )

    def later(self, delay_s: float, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` after a delay, keeping the task referenced until it ends."""

        async def run() -> None:
            await asyncio.sleep(delay_s)
            try:
                await work()
            except Exception:
                log.exception("delayed work failed")

        task = asyncio.create_task(run())
        self.background.add(task)
        task.add_done_callback(self.background.discard)


def runtime_of(conn: HTTPConnection) -> PaymentsRuntime:
    runtime: PaymentsRuntime = conn.app.state.payments
    return runtime


async def refund_due(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, runtime: PaymentsRuntime
) -> None:
    """Give back card payments for drinks that were not made.

    The refund's idempotency key is the payment's: a refund that reached the provider but
    was not recorded here (a crash, two processes) is not made twice on the next sweep.
    """
    async with sessionmaker() as session:
        due = await payment_service.refunds_due(session)
        providers = {p.id: await runtime.provider_for(session, p.company_id) for p in due}
    for payment in due:
        provider = providers[payment.id]
        if payment.provider != provider.name or payment.provider_ref is None:
            continue
        try:
            await provider.refund(payment.provider_ref, f"refund:{payment.id}")
        except Exception as error:
            # Kept as refund_due for the next sweep; the error's type only (no keys logged).
            log.warning("refund of payment %s failed: %s", payment.id, type(error).__name__)
            continue
        await run(sessionmaker, bus, partial(_refunded, payment.id))


async def _refunded(payment_id: int, tx: Tx) -> None:
    await payment_service.refunded(tx, payment_id, datetime.now(UTC))
