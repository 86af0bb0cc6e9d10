"""What the sign-in API answers, as models for the generated API document."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

Id = Annotated[int, Field(ge=1, le=10**18 - 1)]


class StaffMember(BaseModel):
    id: Id
    name: str
    role: Literal["kitchen", "cashier", "supervisor", "manager", "admin"]


class StaffSession(BaseModel):
    staff: StaffMember
    csrf_token: str = Field(
        description="Send as X-CSRF-Token on unsafe requests that are not JSON.")
    redirect: str | None = Field(None, description="For the sign-in page.")


class SignedOut(BaseModel):
    ok: Literal[True]
    redirect: str | None = Field(None, description="For the pages.")
