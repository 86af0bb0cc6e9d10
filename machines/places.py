"""Where a consumer signs up or in: the machine whose QR code they scanned."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from errors import DomainError
from machines import brew_service, views
from machines.errors import UnknownMachine


class MachinePlaces:
    """The machines as customers/api.py's places: a machine's token names its company."""

    unknown: type[DomainError] = UnknownMachine

    async def company_of(self, session: AsyncSession, token: str) -> int:
        machine = await brew_service.machine_by_token(session, token)
        return (await views.company_of_machine(session, machine)).id

    def page(self, token: str) -> str:
        return f"/m/{token}"

    def sign_in(self, token: str) -> str:
        return f"/m/{token}/login"
