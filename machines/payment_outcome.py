"""What a card payment for one drink does to its brew once the provider says how it ended.

Heard as domain events from payments, each once, in a transaction of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.events import PaymentAbandoned, PaymentEvent, PaymentFailed, PaymentSettled
from domain.subscribers import subscribe
from machines import brew_service
from machines.models import Brew
from payments import service as payments
from realtime.events import Tx

SUBSCRIBER = "machines.brew_payments"


async def _brew(tx: Tx, payment: PaymentEvent) -> Brew | None:
    if payment.purpose != "brew" or payment.brew_id is None:
        return None
    return await tx.session.get(Brew, payment.brew_id)


async def paid(tx: Tx, payment: PaymentSettled) -> None:
    brew = await _brew(tx, payment)
    now = datetime.now(UTC)
    if brew is not None and not await brew_service.release(tx, brew, now):
        await payments.give_back(tx, payment.payment_id, now)  # the brew gave up waiting


async def failed(tx: Tx, payment: PaymentFailed) -> None:
    brew = await _brew(tx, payment)
    if brew is not None:
        await brew_service.fail(tx, brew, "payment_failed", datetime.now(UTC))


async def abandoned(tx: Tx, payment: PaymentAbandoned) -> None:
    brew = await _brew(tx, payment)
    if brew is not None:
        await brew_service.fail(tx, brew, "payment_unavailable", datetime.now(UTC))


def register() -> None:
    subscribe(PaymentSettled, SUBSCRIBER, paid)
    subscribe(PaymentFailed, SUBSCRIBER, failed)
    subscribe(PaymentAbandoned, SUBSCRIBER, abandoned)
