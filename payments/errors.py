"""What can go wrong with a payment, each with a stable code and a message to show."""

from __future__ import annotations

from errors import N_, Conflict, DomainError, Forbidden, InvalidInput, NotFound


class PaymentsUnavailable(Conflict):
    code = "payments_unavailable"
    message = N_("Payments are not available right now. Nothing was charged.")


class PaymentKeysUnreadable(PaymentsUnavailable):
    """The company's saved Stripe keys were encrypted under another SECRET_KEY."""

    code = "payment_keys_unreadable"
    message = N_(
        "The saved Stripe keys cannot be read any more (the server's secret key changed): "
        "an administrator must enter both keys again in the payment settings. Nothing was "
        "charged."
    )


class UnknownPayment(NotFound):
    code = "unknown_payment"
    message = N_("This payment does not exist.")


class NotYourPayment(Forbidden):
    """A test payment is completed only from the browser that started it: its reference,
    in a URL, could have been seen by others."""

    code = "not_your_payment"
    message = N_(
        "This payment was started on another device: only that device can complete it. "
        "Nothing was charged."
    )


class BadSignature(DomainError):
    code = "bad_signature"
    status = 400
    message = N_("The webhook signature is missing, wrong or too old.")


class PaymentProviderError(DomainError):
    code = "payment_provider_error"
    status = 502
    message = N_(
        "The payment provider could not start this payment. Nothing was charged; "
        "try again later."
    )


class BadPaymentSettings(InvalidInput):
    code = "bad_payment_settings"
    message = N_(
        "Choose no provider, the test provider or Stripe; a Stripe secret key starts with "
        "sk_ or rk_, a webhook signing secret with whsec_."
    )


class StripeKeysMissing(InvalidInput):
    code = "stripe_keys_missing"
    message = N_("Stripe needs its secret key and its webhook signing secret.")


class BadPaymentTransition(Conflict):
    code = "bad_payment_transition"
    message = N_("This payment cannot go from %(current)s to %(target)s.")
