"""What a top-up paid through the provider does: credit once it is paid, a word if not.

Heard as domain events from payments, each once, in a transaction of its own; the ledger's
key per payment keeps the credit once even so.
"""

from __future__ import annotations

from customers import credit
from customers.ledger import Kind, topup_key
from customers.publishing import user_changed
from domain.events import PaymentFailed, PaymentSettled
from domain.subscribers import subscribe
from realtime.events import Tx

SUBSCRIBER = "customers.topups"


async def paid(tx: Tx, payment: PaymentSettled) -> None:
    if payment.purpose == "topup" and payment.consumer_id is not None:
        await credit.post(
            tx, payment.consumer_id, payment.amount, Kind.TOPUP, topup_key(payment.payment_id),
        )


async def failed(tx: Tx, payment: PaymentFailed) -> None:
    if payment.purpose == "topup" and payment.consumer_id is not None:
        await user_changed(
            tx, payment.consumer_id, "payment.failed", {"payment_id": payment.payment_id}
        )


def register() -> None:
    subscribe(PaymentSettled, SUBSCRIBER, paid)
    subscribe(PaymentFailed, SUBSCRIBER, failed)
