"""The five access modes: who may brew at a machine, from which selection, paying how."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from customers.errors import SignInRequired
from machines.errors import AccountNotReady, NotAuthorised


class Mode(StrEnum):
    OPEN = "open"  # anyone, free, no account
    PREPAID = "prepaid"  # the machine's users, paying from their credit
    AUTHORISED = "authorised"  # the machine's users, free; anyone else is refused
    PAYMENT = "payment"  # anyone, each drink paid through the payment provider
    CUSTOM = "custom"  # a default selection, and per-group selections and prices


class Charge(StrEnum):
    NONE = "none"
    CREDIT = "credit"
    PAYMENT = "payment"


# Modes whose consumers must belong to one of the machine's groups.
NEEDS_GROUP = frozenset({Mode.PREPAID, Mode.AUTHORISED})


@dataclass(frozen=True)
class Brewer:
    """Who asks for a drink, as the access rules need to know them."""

    consumer_id: int | None  # None: nobody signed in
    ready: bool = False  # email confirmed and, where required, approved
    # The machine's groups this consumer belongs to, each with its selection (custom mode).
    groups: tuple[tuple[int, int | None], ...] = ()


@dataclass(frozen=True)
class Grant:
    """What the rules allow: which selection's drinks and prices, who pays and how."""

    selection_id: int | None
    group_id: int | None
    charge: Charge

    def charge_for(self, price: int) -> Charge:
        return self.charge if price > 0 else Charge.NONE


def members_terms(mode: Mode, default_selection: int | None) -> Grant:
    """What a visitor `decide` refused would get once allowed (signed in, approved, in a
    group): the default selection, paid as the mode says. Shown, never granted."""
    charge = Charge.CREDIT if mode is Mode.PREPAID else Charge.NONE
    return Grant(default_selection, None, charge)


def decide(mode: Mode, brewer: Brewer, default_selection: int | None) -> Grant:
    """May this brewer use the machine, and on what terms? Raises when not."""
    signed_in = brewer.consumer_id is not None
    group = brewer.groups[0][0] if brewer.groups else None
    if mode in NEEDS_GROUP:
        if not signed_in:
            raise SignInRequired()
        if not brewer.ready:
            raise AccountNotReady()
        if group is None:
            raise NotAuthorised()
        charge = Charge.CREDIT if mode is Mode.PREPAID else Charge.NONE
        return Grant(default_selection, group, charge)
    if mode is Mode.OPEN:
        return Grant(default_selection, group, Charge.NONE)
    if mode is Mode.PAYMENT:
        return Grant(default_selection, group, Charge.PAYMENT)
    # Custom: a member of a group with its own selection gets it and pays from credit;
    # everyone else gets the default selection and pays its priced drinks by card.
    if signed_in and brewer.ready:
        for group_id, selection_id in brewer.groups:
            if selection_id is not None:
                return Grant(selection_id, group_id, Charge.CREDIT)
        return Grant(default_selection, group, Charge.CREDIT)
    return Grant(default_selection, None, Charge.PAYMENT)
