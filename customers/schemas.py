"""What the customers API answers: its responses' shapes, for the generated API document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from customers.ledger import Kind

Money = int  # placeholder until the infrastructure's Money


class ConsumerId(BaseModel):
    id: int


class SignedIn(BaseModel):
    consumer: ConsumerId
    redirect: str | None = None


class SignUpReceived(BaseModel):
    """The same for an address new or known: see your mail, then sign in at `redirect`."""

    ok: Literal[True]
    redirect: str


class LedgerLine(BaseModel):
    id: int
    amount: Money
    balance_after: Money
    kind: Kind
    note: str | None = None
    brew_id: int | None = None
    created_at: str


class Account(BaseModel):
    id: int
    name: str
    email: str
    email_confirmed: bool
    verified: bool


class UserView(BaseModel):
    """The user topic's view: the account, its credit and ledger, and each room's part
    (the machines add the person's recent brews, loyalty their points)."""

    consumer: Account
    company_id: int
    balance: Money
    currency: str | None = None
    timezone: str | None = None
    entries: list[LedgerLine]
    brews: list[dict[str, Any]] | None = Field(
        None, description="The machines' part: the person's latest brews (as a brew's view).")
    loyalty: dict[str, Any] | None = Field(
        None, description="Loyalty's part: the person's points and latest points entries.")
    version: int | None = None


class ConsumerSignedOut(BaseModel):
    ok: Literal[True]
    refresh: Literal[True]


class ResetAsked(BaseModel):
    """The same whether or not the address has an account: see your mail."""

    ok: Literal[True]
    redirect: str


class PasswordChosen(BaseModel):
    ok: Literal[True]
    redirect: str = Field(description="Where the account signs in with its new password.")
