"""What the sign-in API answers, as models for the generated API document."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from accounts.roles import Permission

Id = Annotated[int, Field(ge=1, le=10**18 - 1)]


class StaffMember(BaseModel):
    id: Id
    name: str
    role: Literal["kitchen", "cashier", "supervisor", "manager", "admin"]


class StaffSession(BaseModel):
    staff: StaffMember
    csrf_token: str = Field(
        description="Send as X-CSRF-Token on unsafe requests that are not JSON. A new one at "
                    "every sign-in: the one from before is refused.")
    redirect: str | None = Field(None, description="For the sign-in page.")


class CompanyRef(BaseModel):
    id: Id
    name: str
    currency: str = Field(description="ISO 4217: the currency of every amount (minor units).")
    timezone: str = Field(description="IANA time zone of the company's screens.")


class SiteRef(BaseModel):
    id: Id
    name: str


class StaffMe(StaffSession):
    company: CompanyRef
    sites: list[SiteRef] = Field(description="The company's sites, each usable by its staff "
                                             "(the `{site_id}` of the staff routes).")
    permissions: list[Permission] = Field(
        description="What this staff member may do: their role's permissions, less those of "
        "the back office's sections they are not given.")


class SignedOut(BaseModel):
    ok: Literal[True]
    redirect: str | None = Field(None, description="For the pages.")


class SignupEmail(BaseModel):
    email: str


class SignupToFinish(BaseModel):
    signup: SignupEmail
    redirect: str = Field(description="The page where the company is named.")
