"""What the customers API answers: its responses' shapes, for the generated API document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

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
    amount: Money
    balance_after: Money
    kind: Kind


class UserView(BaseModel):
    """The user topic's view: the account, its credit and ledger, and each room's part
    (the machines add the person's recent brews)."""

    model_config = ConfigDict(extra="allow")

    consumer: dict[str, Any]
    balance: Money
    currency: str | None = None
    entries: list[LedgerLine]
    version: int | None = None


class ConsumerSignedOut(BaseModel):
    ok: Literal[True]
    refresh: Literal[True]
