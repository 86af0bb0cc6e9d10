"""What can go wrong at a table, each with a stable code."""

from __future__ import annotations

from errors import N_, Conflict, DomainError, Forbidden, InvalidInput, NotFound


class UnknownTable(NotFound):
    code = "unknown_table"
    message = N_("This table does not exist.")


class UnknownProduct(NotFound):
    code = "unknown_product"
    message = N_("This product is not on the menu.")


class ProductUnavailable(Conflict):
    code = "product_unavailable"
    message = N_("This product is sold out.")


class BadQuantity(InvalidInput):
    code = "bad_quantity"
    message = N_("Quantity must be between %(low)s and %(high)s.")


class NoteTooLong(InvalidInput):
    code = "note_too_long"
    message = N_("The note is too long (at most %(limit)s characters).")


class BadName(InvalidInput):
    code = "bad_name"
    message = N_("Please give a name of 1 to 40 characters.")


class CartFull(InvalidInput):
    code = "cart_full"
    message = N_("The cart is full.")


class MenuOnly(Forbidden):
    code = "menu_only"
    message = N_("Ordering is not available at this table; the menu is for reading.")


class TableLocked(Forbidden):
    code = "table_locked"
    message = N_("This table has an order in progress; ask staff or the party for help.")


class PinRequired(Forbidden):
    code = "pin_required"
    message = N_("Enter the table's PIN to join the order.")


class WrongPin(Forbidden):
    code = "wrong_pin"
    message = N_("Wrong PIN.")


class PinLocked(DomainError):
    code = "pin_locked"
    status = 429
    message = N_("Too many wrong PINs; joining is blocked for a while. Staff have been told.")


class SessionEnded(Conflict):
    code = "session_ended"
    message = N_("This order is closed; scan the table again to start a new one.")


class UnknownLine(NotFound):
    code = "unknown_line"
    message = N_("This line is no longer in the cart.")


class NotYourLine(Forbidden):
    code = "not_your_line"
    message = N_("Only the diner who added a line can change it.")


class EmptyCart(Conflict):
    code = "empty_cart"
    message = N_("The cart is empty.")


class BadTransition(Conflict):
    code = "bad_transition"
    message = N_("This order cannot go from %(current)s to %(target)s.")


class StaleVersion(Conflict):
    code = "stale_version"
    message = N_("This order was changed meanwhile (revision %(current)s); reload and retry.")


class ReasonRequired(InvalidInput):
    code = "reason_required"
    message = N_("Please give a reason (1 to 200 characters).")


class NotSettleable(Conflict):
    code = "not_settleable"
    message = N_("This table cannot be settled now.")


class Underpaid(InvalidInput):
    code = "underpaid"
    message = N_("The amount tendered is less than the amount due.")


class UnknownRound(NotFound):
    code = "unknown_round"
    message = N_("This order does not exist.")


class TableSettled(Conflict):
    code = "table_settled"
    message = N_("This table's bill is settled: free the table before taking a new order.")


class EmptyOrder(InvalidInput):
    code = "empty_order"
    message = N_("Choose at least one product for the order.")


class SoldOut(ProductUnavailable):
    """A sold-out product in an order staff take: the message names it."""

    message = N_("%(product)s is sold out: take it out of the order.")
