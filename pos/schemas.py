"""What the till's API answers, as models for the generated API document."""

from __future__ import annotations

from pydantic import BaseModel, Field

from web.commands import Id


class TillRef(BaseModel):
    id: Id
    prefix: str = Field(description="Opens the till's ticket numbers: T2-000123.")
    name: str
    site_id: Id


class TillPaired(BaseModel):
    till: TillRef
    redirect: str | None = Field(None, description="For the pairing page.")


class TillMember(BaseModel):
    id: Id
    name: str


class TillState(BaseModel):
    till: TillRef
    staff: TillMember | None = Field(description="Who switched in; none when locked.")
    members: list[TillMember] = Field(description="Who may switch in on it (with a PIN).")


class TillSwitched(BaseModel):
    staff: TillMember
    redirect: str | None = Field(None, description="For the till's page.")


class TillLocked(BaseModel):
    ok: bool
    redirect: str | None = None


class DrawerOpened(BaseModel):
    approved_by: Id = Field(description="Who approved: the member switched in, or the "
                                        "supervisor whose PIN was typed.")
    redirect: str | None = None


class TrainingState(BaseModel):
    training: bool
    supervisor_id: Id | None = Field(description="Who supervises the training.")
    redirect: str | None = None
