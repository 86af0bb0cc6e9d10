"""What can go wrong with a customer account or its credit, each with a stable code."""

from __future__ import annotations

from errors import N_, Conflict, DomainError, Forbidden, InvalidInput, NotFound


class BadAmount(InvalidInput):
    code = "bad_amount"
    # Forms take amounts as people write them ("2,50"); the JSON API takes minor units.
    message = N_("Enter an amount such as 2.50, of at most %(limit)s.")


class BadSignup(InvalidInput):
    code = "bad_signup"
    message = N_("Please give a valid email, a name and a password of at least 8 characters.")


class BadName(InvalidInput):
    """A name goes into mail and onto staff screens: a person's name only, no address."""

    code = "bad_name"
    message = N_(
        "A name holds at most %(limit)s letters, spaces, apostrophes, hyphens and dots, "
        "and no web address."
    )


class BadConsumerLogin(DomainError):
    code = "bad_login"
    status = 401
    message = N_("Wrong email or password.")


class UnknownToken(NotFound):
    code = "unknown_token"
    message = N_("This link is not valid any more.")


class InsufficientCredit(Conflict):
    code = "insufficient_credit"
    status = 402
    message = N_("Not enough credit for this drink. Top up and try again; nothing was charged.")


class SignInRequired(Forbidden):
    code = "sign_in_required"
    status = 401
    message = N_("Please sign in to use this machine.")


class BadKey(InvalidInput):
    """The `idempotency_key` is missing or not a string of 8 to 64 characters: the key a
    client chooses so that a retried brew, credit or top-up happens once."""

    code = "bad_idempotency_key"
    message = N_("Each request needs an idempotency key of 8 to 64 characters.")


class BadEmail(InvalidInput):
    code = "bad_email"
    message = N_("Give a valid email address.")


class BadPassword(InvalidInput):
    code = "bad_password"
    message = N_("Choose a password of 8 to 200 characters.")
