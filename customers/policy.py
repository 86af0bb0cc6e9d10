"""A company's rules for its customers: approval, and the top-up amounts it offers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import ConsumerPolicy


async def policy(session: AsyncSession, company_id: int) -> ConsumerPolicy:
    found = await session.get(ConsumerPolicy, company_id)
    return found or ConsumerPolicy(
        company_id=company_id, require_approval=False, topup_amounts=[500, 1000, 2000]
    )
