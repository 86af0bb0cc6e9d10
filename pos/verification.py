"""Checking the live records: every till's chain and the journal recomputed, every closing's
signature checked with its company's public key; the first record that does not match."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company
from pos import chain, signing
from pos.legal import number
from pos.loading import Chained, journal_chain, till_chain
from pos.models import ChainLink, Closing, SigningKey, Ticket, Till


@dataclass(frozen=True)
class Mismatch:
    company_id: int
    chain: str  # "till T2", "journal"
    position: int
    record: str  # "T2-000123", "closing day 2026-03-10", "journal entry 12"
    reason: str

    def __str__(self) -> str:
        return (f"company {self.company_id}, {self.chain}, position {self.position} "
                f"({self.record}): {chain.REASONS.get(self.reason, self.reason)}")


async def verify_company(session: AsyncSession, company_id: int) -> list[Mismatch]:
    """The first mismatch of each of the company's chains (empty: all intact)."""
    found: list[Mismatch] = []
    pem = await session.scalar(
        select(SigningKey.public_pem).where(SigningKey.company_id == company_id))
    tills = (await session.scalars(
        select(Till).where(Till.company_id == company_id).order_by(Till.id))).all()
    for till in tills:
        chained = await till_chain(session, till.id)
        mismatch = _first_in_till(company_id, till, chained, pem)
        if mismatch:
            found.append(mismatch)
    found.extend(await _sealed_heads(session, company_id, {t.id: t for t in tills}))
    unchained = await session.scalar(
        select(Ticket).outerjoin(ChainLink, ChainLink.ticket_id == Ticket.id)
        .where(Ticket.company_id == company_id, ChainLink.id.is_(None))
        .order_by(Ticket.id).limit(1))
    if unchained is not None:
        till = next(t for t in tills if t.id == unchained.till_id)
        found.append(Mismatch(company_id, f"till {till.prefix}", 0,
                              number(till.prefix, unchained.sequence), "unchained"))
    entries = await journal_chain(session, company_id)
    broken = chain.first_break(entries)
    if broken:
        found.append(Mismatch(company_id, "journal", broken.position,
                              f"journal entry {broken.position}", broken.reason))
    return found


async def _sealed_heads(
    session: AsyncSession, company_id: int, tills: dict[int, Till]
) -> list[Mismatch]:
    """Each closing names the head of each till's chain it closed and follows it there: a
    chain cut short after a record (even its last) that a closing sealed is found."""
    links = {(link.till_id, link.position): link for link in (await session.scalars(
        select(ChainLink).where(ChainLink.company_id == company_id))).all()}
    found: list[Mismatch] = []
    closings = (await session.scalars(select(Closing).where(
        Closing.company_id == company_id).order_by(Closing.id))).all()
    reported: set[int] = set()
    for closing in closings:
        for head in json.loads(closing.body).get("chains", []):
            till = tills.get(head["till_id"])
            if till is None or till.id in reported:
                continue
            before = links.get((till.id, head["position"]))
            after = links.get((till.id, head["position"] + 1))
            held = before.hash if before else chain.GENESIS if head["position"] == 0 else None
            if held != head["hash"] or after is None or after.closing_id != closing.id:
                reported.add(till.id)
                found.append(Mismatch(
                    company_id, f"till {till.prefix}", head["position"] + 1,
                    f"closing {closing.kind} {closing.period_start.isoformat()}", "sealed"))
    return found


async def verify_all(session: AsyncSession) -> list[Mismatch]:
    found: list[Mismatch] = []
    for company_id in (await session.scalars(select(Company.id).order_by(Company.id))).all():
        found.extend(await verify_company(session, company_id))
    return found


def _first_in_till(
    company_id: int, till: Till, chained: list[Chained], pem: str | None
) -> Mismatch | None:
    broken = chain.first_break(item.entry for item in chained)
    for item in chained[:broken.index if broken else len(chained)]:
        closing = item.closing
        if closing and not (pem and signing.verify(pem, closing.body.encode("utf-8"),
                                                   closing.signature)):
            return Mismatch(company_id, f"till {till.prefix}", item.entry.position,
                            _name(till, item), "signature")
    if broken is None:
        return None
    return Mismatch(company_id, f"till {till.prefix}", broken.position,
                    _name(till, chained[broken.index]), broken.reason)


def _name(till: Till, item: Chained) -> str:
    if item.ticket is not None:
        return number(till.prefix, item.ticket.sequence)
    if item.closing is not None:
        return f"closing {item.closing.kind} {item.closing.period_start.isoformat()}"
    return "a record that is gone"
