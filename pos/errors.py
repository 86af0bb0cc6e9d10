"""What the till's records refuse, each with a stable code and a message to show."""

from __future__ import annotations

from errors import N_, Conflict, DomainError, InvalidInput, Messages, NotFound
from web.ratelimit import Limited


class UnknownTill(NotFound):
    code = "unknown_till"
    message = N_("This till does not exist.")


class TillRevoked(DomainError):
    """The till was revoked: it records nothing more."""

    code = "till_revoked"
    status = 403
    message = N_("This till was revoked: it can record nothing more.")


class BadPrefix(InvalidInput):
    code = "bad_till_prefix"
    message = N_("A till's prefix is a capital letter then up to 7 capital letters or digits.")
    field = "prefix"


class PrefixTaken(Conflict):
    code = "till_prefix_taken"
    message = N_("Another till of the company already has the prefix %(prefix)s.")


class BadTicket(InvalidInput):
    """A ticket that cannot be recorded as sent (lines, payments or what it corrects);
    the message says what is wrong. Nothing was recorded."""

    code = "bad_ticket"
    message = N_("This ticket cannot be recorded: %(why)s.")

    def __init__(self, message: str | None = None, *, why: str) -> None:
        super().__init__(message, why=Messages((why,)))  # translated where it is shown


class SequenceTaken(Conflict):
    """Another record of the till already has this number (not a retry: its id differs)."""

    code = "sequence_taken"
    message = N_("Ticket number %(number)s of this till is already used by another ticket.")


class PeriodClosed(Conflict):
    """A closing covers the record's date: a closed period never changes."""

    code = "period_closed"
    message = N_("This period is closed (%(period)s): nothing can be recorded in it.")


class AlreadyClosed(Conflict):
    code = "already_closed"
    message = N_("This period was already closed.")


class SequenceGap(Conflict):
    """A till of the site is missing numbers: the day closes only with every record in.
    `params`: the till's prefix and its missing numbers (the first twenty)."""

    code = "sequence_gap"
    message = N_(
        "Till %(till)s is missing tickets %(numbers)s: the day can be closed once they have "
        "reached the server."
    )


class SalesWaiting(Conflict):
    """Tills of the site have not synchronised since the Z was asked for (they may hold
    sales made offline): `params` names them. They were asked to synchronise at once."""

    code = "sales_waiting"
    message = N_(
        "Tills not synchronised since the closing was asked for: %(till)s. They have been "
        "asked to; try again in a moment, or declare a silent till out of service for the "
        "day."
    )


class PeriodsOpen(Conflict):
    """A month closes once each of its days with records has its Z; a year, once each of
    its months with records is closed."""

    code = "periods_open"
    message = N_("Close these periods first: %(periods)s.")


class NoTill(Conflict):
    """A closing enters the chain of each till of its site: a site without one has nothing
    to close."""

    code = "no_till"
    message = N_("This site has no till: there is nothing to close.")


class PeriodNotOver(Conflict):
    code = "period_not_over"
    message = N_("This period is not over yet.")


class SigningKeyUnreadable(Conflict):
    """The company's signing key was sealed under another SECRET_KEY."""

    code = "signing_key_unreadable"
    message = N_(
        "The company's signing key cannot be read (the server's secret key changed): "
        "closings cannot be signed until it is restored."
    )


class PairingRefused(DomainError):
    """The pairing code is wrong, was used already, or is more than ten minutes old."""

    code = "pairing_refused"
    status = 403
    message = N_("This pairing code is wrong or out of date: ask an administrator for a new "
                 "one.")
    field = "code"


class TooManyPairingTries(Limited):
    code = "too_many_pairing_tries"
    message = N_("Too many wrong pairing codes. Try again in %(minutes)s min.")


class NotPaired(DomainError):
    """This device is not a paired till (or its till was revoked): pair it first."""

    code = "till_not_paired"
    status = 403
    message = N_("This device is not a till yet: pair it with a code from the back office.")


class NotAtTill(DomainError):
    """Nobody switched in on this till: type a PIN first."""

    code = "not_at_till"
    status = 403
    message = N_("Nobody is signed in on this till: tap your name and type your PIN.")


class PinRefused(DomainError):
    """Wrong PIN, or this member of staff may not do this here. Tries are limited."""

    code = "pin_refused"
    status = 403
    message = N_("Wrong PIN, or this person may not do this here.")
    field = "pin"


class TooManyPinTries(Limited):
    code = "too_many_pin_tries"
    message = N_("Too many wrong PINs. Try again in %(minutes)s min.")


class ApprovalNeeded(DomainError):
    """This action needs a supervisor: send it again with their approval (staff id and
    PIN)."""

    code = "approval_needed"
    status = 409
    message = N_("A supervisor must approve this: ask them to type their PIN.")


class BadPrinter(InvalidInput):
    code = "bad_printer"
    message = N_("Give the printer's network name or address, with its port if not 9100 "
                 "(for example 192.168.1.50 or printer.local:9100).")
    field = "printer"
class NotClockedIn(Conflict):
    """Clocking out without an open shift (and not a retry of a clock-out that went through)."""

    code = "not_clocked_in"
    message = N_("You are not clocked in.")


class UnknownShift(NotFound):
    code = "unknown_shift"
    message = N_("This shift does not exist.")


class ShiftClosed(Conflict):
    """A manager closing a forgotten shift that was closed meanwhile."""

    code = "shift_closed"
    message = N_("This shift is already closed.")


class BadClockOut(InvalidInput):
    """A corrected clock-out before its clock-in, or in the future."""

    code = "bad_clock_out"
    message = N_("The time of leaving must be after the arrival and not in the future.")
    field = "clocked_out_at"


class ReasonNeeded(InvalidInput):
    code = "reason_needed"
    message = N_("Say why (at most 200 characters).")
    field = "reason"


class BadWeek(InvalidInput):
    code = "bad_week"
    message = N_("A week is written like 2026-W49.")
    field = "week"
