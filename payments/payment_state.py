"""A provider payment's life as a transition table.

pending → succeeded, failed or canceled; a success we cannot keep (its drink or round is
gone, or it came after we gave up) → refund_due → refunded. Rows move by conditional
updates from the state the table allows, so a payment settles once however its events arrive.
"""

from __future__ import annotations

from enum import StrEnum

from domain.states import Transitions
from payments.errors import BadPaymentTransition


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"  # we stopped waiting (the brew failed, the phone left the checkout)
    REFUND_DUE = "refund_due"  # money taken for nothing: the sweeper asks the provider back
    REFUNDED = "refunded"


P = PaymentStatus

PAYMENTS = Transitions(PaymentStatus, {
    P.PENDING: frozenset({P.SUCCEEDED, P.FAILED, P.CANCELED}),
    P.SUCCEEDED: frozenset({P.REFUND_DUE}),
    P.CANCELED: frozenset({P.REFUND_DUE}),  # paid after all, once we had given up
    P.FAILED: frozenset(),
    P.REFUND_DUE: frozenset({P.REFUNDED}),
    P.REFUNDED: frozenset(),
}, BadPaymentTransition)

IN_PLAY = (P.PENDING, P.SUCCEEDED)  # on the way in, or taken and kept: what a bill counts
