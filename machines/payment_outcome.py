"""What a card payment for one drink does to its brew once the provider says how it ended."""

from __future__ import annotations

from datetime import datetime

from machines import brew_service
from machines.models import Brew
from payments import service as payments
from payments.models import ProviderPayment
from realtime.events import Tx


async def settled(tx: Tx, payment: ProviderPayment, succeeded: bool, now: datetime) -> None:
    brew = await tx.session.get(Brew, payment.brew_id) if payment.brew_id else None
    if brew is None:
        return
    if not succeeded:
        await brew_service.fail(tx, brew, "payment_failed", now)
    elif not await brew_service.release(tx, brew, now):
        await payments.give_back(tx, payment.id, now)  # paid after the brew gave up waiting


async def abandoned(tx: Tx, payment: ProviderPayment, now: datetime) -> None:
    brew = await tx.session.get(Brew, payment.brew_id) if payment.brew_id else None
    if brew is not None:
        await brew_service.fail(tx, brew, "payment_unavailable", now)


def register() -> None:
    payments.on_settled("brew", settled)
    payments.on_abandoned("brew", abandoned)
