"""What the sign-up API answers, for the generated API document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class SignupReceived(BaseModel):
    """The same for an address new or known: see your mail."""

    ok: Literal[True]
    redirect: str
