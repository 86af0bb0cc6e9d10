"""What an SMS refuses, each with a stable code: the rules' refusals (a sender name, a
number, a missing STOP line) and the provider's (a refused number, no credits, down)."""

from __future__ import annotations

from errors import N_, Conflict, DomainError, InvalidInput


class BadSenderName(InvalidInput):
    """A sender name is 4 to 11 letters (A-Z, no accents) or digits with at least one
    letter; spaces only where the provider takes them."""

    code = "bad_sender_name"
    field = "sender"
    message = N_(
        "A sender name has 4 to 11 letters or digits (no accents or signs), with at least "
        "one letter."
    )


class BadPhoneNumber(InvalidInput):
    """The number is not a mobile phone number an SMS can reach."""

    code = "bad_phone_number"
    field = "phone"
    message = N_("This is not a mobile phone number an SMS can reach.")


class StopLineMissing(InvalidInput):
    """A commercial SMS must end with its opt-out mention (STOP and the provider's number)."""

    code = "stop_line_missing"
    message = N_("A commercial SMS must end with its STOP line.")


class SmsRefused(Conflict):
    """The provider refused this message; nothing was sent."""

    code = "sms_refused"
    status = 422
    message = N_("The SMS provider refused this message; nothing was sent.")


class NumberRefused(SmsRefused):
    """The provider refused the recipient's number (unknown, blocked, or unsubscribed)."""

    code = "sms_number_refused"
    message = N_("The SMS provider refused this phone number; nothing was sent.")


class NoSmsCredits(Conflict):
    """The provider's SMS credits do not cover this message; nothing was sent."""

    code = "no_sms_credits"
    status = 402
    message = N_("Not enough SMS credits: nothing was sent. Buy credits, then send again.")


class SmsProviderDown(DomainError):
    """The provider did not answer, or answered with an error of its own; try again later.
    Whether a message went out is not known: sends are not retried by themselves."""

    code = "sms_provider_down"
    status = 503
    message = N_("The SMS provider is not answering; try again later.")


class SmsKeyRefused(SmsProviderDown):
    """The provider refused our API key: the SMS settings need a valid one."""

    code = "sms_key_refused"
    message = N_("The SMS provider refused the API key: check the SMS settings.")


class BadSmsReport(DomainError):
    """The body is not one of the SMS provider's events (a JSON object with its
    `msg_status` or `event`), nor a batch of at most 500 of them."""

    code = "bad_sms_report"
    status = 400
    message = N_("This is not an SMS event: a JSON object with its “msg_status” or “event” "
                 "is expected.")
