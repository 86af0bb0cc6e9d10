"""Paying at the table from a phone: which modes take payments, what is due, what may be paid.

Plain Python: the service (ordering/payment_service.py) reads the rows and calls these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from errors import N_, Conflict, InvalidInput, NotFound
from ordering.round_state import RoundStatus

ORDER_AND_PAY = "order_and_pay"  # a round is paid when sent, then goes to staff
PAY_ONLY = "pay_only"  # the phone shows the bill and pays it; staff take the orders
PAYING_MODES = frozenset({ORDER_AND_PAY, PAY_ONLY})

AWAITING_PAYMENT = RoundStatus.AWAITING_PAYMENT  # a round whose payment is in progress
UNBILLED = frozenset({RoundStatus.REFUSED, AWAITING_PAYMENT})  # rounds that are not on the bill

# A payment left pending this long (the phone closed at the checkout) no longer blocks
# the table: the next attempt cancels it, and a late success is refunded.
ABANDONED_AFTER = timedelta(minutes=15)


class PaymentPending(Conflict):
    """A payment is already in progress at this table (someone else pressed pay). Wait for the
    table topic to show how it ended, or cancel it (POST .../payments/{payment_id}/cancel). A
    payment left pending for 15 minutes no longer blocks: the next attempt cancels it."""

    code = "payment_pending"
    message = N_(
        "Someone at the table is already paying. Wait for that payment to finish, or cancel it."
    )


class NothingToPay(Conflict):
    """Nothing is left to pay at this table."""

    code = "nothing_to_pay"
    message = N_("There is nothing left to pay at this table.")


class BadPaymentAmount(InvalidInput):
    """`amount` is not a whole number of minor units above zero and at most what is still due.
    `amount` is not a whole number of minor units above zero and at most what is still due."""

    code = "bad_payment_amount"
    message = N_("The amount must be more than zero and at most the amount still due.")


class NoPhonePayments(Conflict):
    """This table's mode takes no payments from phones (only `order_and_pay` and `pay_only` do).
    This table's mode takes no payments from phones (only `order_and_pay` and `pay_only` do)."""

    code = "no_phone_payments"
    message = N_("This table does not take payments from phones.")


class PayToSend(Conflict):
    """The table is in `order_and_pay` mode: a round is sent by paying for it, POST .../checkout.
    The table is in `order_and_pay` mode: a round is sent by paying for it, POST .../checkout."""

    code = "pay_to_send"
    message = N_("At this table, an order is paid when it is sent: use « Pay and send ».")


class NoPhoneOrders(Conflict):
    """The table is in `pay_only` mode: staff take the orders; phones show and pay the bill."""

    code = "no_phone_orders"
    message = N_("At this table, staff take the orders; your phone shows the bill and pays it.")


class PaidRound(Conflict):
    """This round was paid online: refuse it (the payment is refunded) rather than edit it."""

    code = "paid_round"
    message = N_(
        "This order was paid online: refuse it (it will be refunded) instead of editing it."
    )


class UnknownTablePayment(NotFound):
    """No payment with this id at this table session."""

    code = "unknown_table_payment"
    message = N_("This payment does not exist.")


@dataclass(frozen=True)
class Bill:
    ordered: int  # rounds on the bill, in minor units
    paid: int  # paid online and not refunded
    reward: int = 0  # a loyalty reward's discount, as applied (ordering/table_rewards.py)

    @property
    def discount(self) -> int:
        """What the reward takes off: at most what is left to pay, so the bill never goes
        below zero, however it shrank since (a round refused, a payment made)."""
        return min(self.reward, max(self.ordered - self.paid, 0))

    @property
    def due(self) -> int:
        return max(self.ordered - self.paid, 0) - self.discount

    @property
    def charged(self) -> int:
        """What the whole bill costs the diners once settled: ordered, less the reward."""
        return self.ordered - self.discount


def bill(round_totals: Iterable[tuple[str, int]], paid: int, reward: int = 0) -> Bill:
    """The bill from each round's (status, total), what was paid online and the reward's
    discount."""
    return Bill(sum(total for status, total in round_totals if status not in UNBILLED), paid,
                reward)


def payable(amount: int | None, due: int) -> int:
    """What a diner may pay now: the rest by default, or a part of it; never more."""
    if due <= 0:
        raise NothingToPay()
    if amount is None:
        return due
    if not 0 < amount <= due:
        raise BadPaymentAmount()
    return amount


def abandoned(created_at: datetime, now: datetime) -> bool:
    return now - created_at >= ABANDONED_AFTER
