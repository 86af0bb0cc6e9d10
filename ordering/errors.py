"""What can go wrong at a table, each with a stable code."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from web.ratelimit import Limited


class UnknownTable(NotFound):
    """No table has this token (the token is the one in the table's QR code)."""

    code = "unknown_table"
    message = N_("This table does not exist.")


class UnknownProduct(NotFound):
    """No such product on this table's site (a product id of another site counts as unknown)."""

    code = "unknown_product"
    message = N_("This product is not on the menu.")


class ProductUnavailable(Conflict):
    """The product is marked sold out. The menu topic tells when it is back. For an order staff
    take, the message names the product."""

    code = "product_unavailable"
    message = N_("This product is sold out.")


class BadQuantity(InvalidInput):
    """Quantity must be an integer from 1 to 50 when adding (0 to 50 when changing a line, where 0
    removes it). Strings, booleans and decimals are refused."""

    code = "bad_quantity"
    message = N_("Quantity must be between %(low)s and %(high)s.")


class NoteTooLong(InvalidInput):
    """The note is not a string of at most 200 characters (after collapsing whitespace)."""

    code = "note_too_long"
    message = N_("The note is too long (at most %(limit)s characters).")


class BadName(InvalidInput):
    """The display name must be a string of 1 to 40 characters (after collapsing whitespace)."""

    code = "bad_name"
    message = N_("Please give a name of 1 to 40 characters.")


class CartFull(InvalidInput):
    """The shared cart already holds 100 lines: send it first."""

    code = "cart_full"
    message = N_("The cart is full.")


class MenuOnly(Forbidden):
    """This table (or its site) is set to menu only: no ordering."""

    code = "menu_only"
    message = N_("Ordering is not available at this table; the menu is for reading.")


class TableLocked(Forbidden):
    """The party at this table is paying or has paid; wait until staff free the table."""

    code = "table_locked"
    message = N_("This table has an order in progress; ask staff or the party for help.")


class PinRequired(Forbidden):
    """A party is ordering at this table and you are not a member: POST .../join with their PIN
    first."""

    code = "pin_required"
    message = N_("Enter the table's PIN to join the order.")


class WrongPin(Forbidden):
    """The PIN does not match. The failure is counted."""

    code = "wrong_pin"
    message = N_("Wrong PIN.")


class PinLocked(Limited):
    """Too many wrong PINs from this device, at any table (default 5 in 10 minutes): this try
    was not checked, even if the PIN is right. `Retry-After` says in how many seconds the
    device may try again."""

    code = "pin_locked"
    message = N_("Too many wrong PINs from this phone. Try again in %(minutes)s min.")


class PinSlowed(Limited):
    """Too many wrong PINs at this table, from any devices (default 10 in 10 minutes): the table
    takes one try every 30 seconds (configurable) from anyone until the window ends or staff
    lift it from the POS. This try was not checked; `Retry-After` says in how many seconds the
    next one may be made."""

    code = "pin_slowed"
    message = N_(
        "Too many wrong PINs at this table: one try every %(pace)s seconds for now. Try again "
        "in %(seconds)s s, or ask staff."
    )


class SessionEnded(Conflict):
    """The table session this device belonged to has ended (expired when idle, settled or freed).
    GET the table again: access will be start."""

    code = "session_ended"
    message = N_("This order is closed; scan the table again to start a new one.")


class SessionClosed(Conflict):
    """The round's table was freed since it was sent: its party has gone, so it can no longer
    be validated or edited (refusing it still works)."""

    code = "session_closed"
    message = N_("This table was freed: its orders can no longer be validated or changed.")


class UnknownLine(NotFound):
    """The line is not (or no longer) in the cart: gone, already sent, or not in this round (staff
    edit)."""

    code = "unknown_line"
    message = N_("This line is no longer in the cart.")


class NotYourLine(Forbidden):
    """Only the diner who added a cart line can change or remove it."""

    code = "not_your_line"
    message = N_("Only the diner who added a line can change it.")


class SentRound(BaseModel):
    id: Annotated[int, Field(ge=1, le=10**18 - 1)]
    number: int = Field(description="From 1 in each session.")
    status: str = Field(description="As the round's `status` elsewhere.")


class CartTaken(BaseModel):
    """`empty_cart`: the round that took the cart, when a phone sent it (e.g. a moment
    before this request, as when several phones press "send" together)."""

    round: SentRound


class GoneLine(BaseModel):
    id: Annotated[int, Field(ge=1, le=10**18 - 1)]
    name: str


class GoneLines(BaseModel):
    """`cart_unavailable`: the cart's lines whose product can no longer be ordered."""

    lines: list[GoneLine]


class CartUnavailable(Conflict):
    """Some lines of the cart are sold out or off the menu since they were added: nothing
    is sent until they are removed. `detail.lines` names them; the table topic marks them."""

    code = "cart_unavailable"
    message = N_("No longer available: %(products)s. Remove them from the cart to send the "
                 "order.")
    detail_model = GoneLines

    @classmethod
    def naming(cls, lines: list[tuple[int, str]]) -> CartUnavailable:
        error = cls(products=", ".join(sorted({name for _, name in lines})))
        error.detail = {"lines": [{"id": id, "name": name} for id, name in lines]}
        return error


class EmptyCart(Conflict):
    """Nothing in the cart to send. When several phones send together, one makes the round
    and the others get this, with `detail.round`: the round that took the cart (the
    session's latest round sent from a phone), also shown to all by the table topic."""

    code = "empty_cart"
    message = N_("The cart is empty.")
    detail_model = CartTaken

    @classmethod
    def taken_by(cls, number: int, round_id: int, status: str) -> EmptyCart:
        error = cls()
        error.detail = {"round": {"id": round_id, "number": number, "status": status}}
        return error


class BadTransition(Conflict):
    """This status change is not allowed from the current status (the message names both): e.g.
    editing or refusing a validated round, moving a ticket from queued to served, an unknown
    status."""

    code = "bad_transition"
    message = N_("This order cannot go from %(current)s to %(target)s.")


class StaleVersion(Conflict):
    """expected_revision is not the round's current revision (someone edited it meanwhile, or it is
    missing); reload the round and retry."""

    code = "stale_version"
    message = N_("This order was changed meanwhile (revision %(current)s); reload and retry.")


class ReasonRequired(InvalidInput):
    """A refusal or an edit needs a reason of 1 to 200 characters; the diners see it."""

    code = "reason_required"
    message = N_("Please give a reason (1 to 200 characters).")


class NotSettleable(Conflict):
    """The table cannot be settled now: no open session, already settled, or rounds still wait for
    validation."""

    code = "not_settleable"
    message = N_("This table cannot be settled now.")


class Underpaid(InvalidInput):
    """The amount tendered is missing or less than the amount due."""

    code = "underpaid"
    message = N_("The amount tendered is less than the amount due.")
    field = "tendered"


class BadAmount(InvalidInput):
    """The amount tendered is not an amount: letters, a negative, several separators."""

    code = "bad_amount"
    message = N_("Invalid amount: type the amount received, for example 50 or 50.00.")


class UnknownRound(NotFound):
    """No such round (or ticket's round) for your company."""

    code = "unknown_round"
    message = N_("This order does not exist.")


class TableSettled(Conflict):
    """The table's bill is settled: free the table before taking a new order for it."""

    code = "table_settled"
    message = N_("This table's bill is settled: free the table before taking a new order.")


class EmptyOrder(InvalidInput):
    """An order taken by staff has no line: choose at least one product."""

    code = "empty_order"
    message = N_("Choose at least one product for the order.")


class SoldOut(ProductUnavailable):
    """A sold-out product in an order staff take: the message names it."""

    message = N_("%(product)s is sold out: take it out of the order.")


class CustomerSignInNeeded(Forbidden):
    """Collecting points at a table needs the diner signed in to their customer account."""

    code = "customer_sign_in_needed"
    status = 401
    message = N_("Sign in to your customer account to collect your points.")


class CustomerAlreadyLinked(Conflict):
    """Another customer's account already collects this table's points."""

    code = "customer_already_linked"
    message = N_("Another customer already collects this table's points.")


class RewardNeedsLink(Forbidden):
    """A reward comes off the bill of a table whose points the diner collects: link the
    session to your customer account first (POST .../customer)."""

    code = "reward_needs_link"
    message = N_("Collect this table's points with your customer account to use your "
                 "rewards here.")


class RewardAlreadyApplied(Conflict):
    """A table's bill takes one loyalty reward: another one is applied (perhaps from another
    phone a moment ago). Remove it to apply another."""

    code = "reward_already_applied"
    message = N_("A reward is already applied to this table's bill; remove it to apply "
                 "another.")


class RewardProductMissing(Conflict):
    """The reward gives a product that is not on the bill: order it first (the reward never
    adds lines to the bill)."""

    code = "reward_product_missing"
    message = N_("Add the %(product)s to your order first.")


class NothingToReward(Conflict):
    """Nothing on the bill is left to pay, so a reward would take nothing off."""

    code = "nothing_to_reward"
    message = N_("Nothing is due yet: apply a reward once your order is sent.")


class BadRewardChoice(InvalidInput):
    """Give exactly one of `reward_id` (a reward taken with your points) or `coupon` (one of
    your coupons' code)."""

    code = "bad_reward_choice"
    message = N_("Choose a reward or one of your coupons.")
