"""Mail to consumers: written to the outbox in the transaction, sent after by SMTP.

Without SMTP the outbox is the delivery: the demo shows each consumer their mail on a
page. With SMTP, the sweeper sends what is unsent and stamps it.
"""

from __future__ import annotations

import asyncio
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from machines.models import OutboxMail


def queue(
    session: AsyncSession, consumer_id: int | None, to: str, subject: str, body: str
) -> OutboxMail:
    mail = OutboxMail(consumer_id=consumer_id, to=to, subject=subject[:200], body=body)
    session.add(mail)
    return mail


def _send(smtp_url: str, sender: str, mail: OutboxMail) -> None:
    """smtp://user:password@host:port, or smtps:// for TLS from the start."""
    parts = urlsplit(smtp_url)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    port = parts.port or (465 if parts.scheme == "smtps" else 587)
    smtp_type = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_type(parts.hostname or "localhost", port, timeout=20) as smtp:
        if parts.scheme == "smtp" and port != 25:
            smtp.starttls()
        if parts.username:
            smtp.login(parts.username, parts.password or "")
        smtp.send_message(message)


async def send_pending(
    sessionmaker: async_sessionmaker[AsyncSession], smtp_url: str, sender: str
) -> int:
    async with sessionmaker() as session:
        mails = (
            await session.scalars(
                select(OutboxMail).where(OutboxMail.sent_at.is_(None)).limit(20)
            )
        ).all()
    sent = 0
    for mail in mails:
        async with sessionmaker() as session, session.begin():
            # Claim it first, so two processes do not both send it.
            claimed = await session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail.id, OutboxMail.sent_at.is_(None))
                .values(sent_at=datetime.now(UTC))
            )
            if claimed.rowcount != 1:
                continue
            await asyncio.to_thread(_send, smtp_url, sender, mail)
            sent += 1
    return sent
