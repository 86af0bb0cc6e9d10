"""What the machines capability holds while the app runs: its provider and its timers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from machines import device_service, payment_service, recharge
from machines.device_service import Timeouts
from machines.mail import send_pending
from machines.payment_settings import ProviderConfig, config_for, from_env
from machines.payments import (
    NoProvider,
    PaymentProvider,
    StripeProvider,
    TestProvider,
    UnreadableKeys,
)
from realtime.bus import Bus
from realtime.events import Tx, transaction
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
class MachinesRuntime:
    settings: Settings
    provider: PaymentProvider  # the environment's: for companies without their own settings
    timeouts: Timeouts
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
    def from_settings(cls, settings: Settings) -> MachinesRuntime:
        return cls(
            settings,
            make_provider(settings),
            Timeouts(
                offline_after_s=settings.machine_offline_after_s,
                accept_s=settings.brew_accept_timeout_s,
                stall_s=settings.brew_stall_timeout_s,
                payment_s=settings.brew_payment_timeout_s,
            ),
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


def runtime_of(conn: HTTPConnection) -> MachinesRuntime:
    runtime: MachinesRuntime = conn.app.state.machines
    return runtime


async def run(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, op: Callable[[Tx], Awaitable[T]]
) -> T:
    """One unit of work outside a request, retried once a unique constraint settled a race."""
    for attempt in range(3):
        try:
            async with transaction(sessionmaker, bus) as tx:
                return await op(tx)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def sweep_once(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, runtime: MachinesRuntime,
    now: datetime | None = None,
) -> None:
    moment = now or datetime.now(UTC)
    await run(sessionmaker, bus, lambda tx: device_service.sweep(tx, runtime.timeouts, moment))
    await run(sessionmaker, bus, lambda tx: recharge.run_due(tx, moment))
    await refund_due(sessionmaker, bus, runtime)
    if runtime.settings.smtp_url:
        await send_pending(
            sessionmaker, runtime.settings.smtp_url, runtime.settings.mail_from, moment
        )


async def refund_due(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, runtime: MachinesRuntime
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
        await run(
            sessionmaker, bus,
            lambda tx, pid=payment.id: payment_service.refunded(tx, pid, datetime.now(UTC)),
        )


async def sweep_forever(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, runtime: MachinesRuntime
) -> None:
    """Safe in every process at once: each step is a conditional write or a unique claim."""
    while True:
        await asyncio.sleep(runtime.settings.machine_sweep_s)
        try:
            await sweep_once(sessionmaker, bus, runtime)
        except Exception:
            log.exception("machines sweep failed")
