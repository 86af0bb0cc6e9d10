"""Mail to consumers: written to the outbox in the transaction, sent after by SMTP.

With SMTP, the sweeper sends what is unsent and stamps it. A mail that could not be
sent (server down, refused) stays in the outbox and is tried again later, never lost.
Without SMTP the server's log is the delivery, as development servers do: each mail is
written there once (and stamped sent), and the company's administrators also read it on
the outbox page (machines/pages.py). Nobody else does: it holds confirmation links.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from customers.models import OutboxMail
from db.base import changed

log = logging.getLogger(__name__)
CLAIM = timedelta(minutes=2)  # longer than one send (its timeout is 20 s)


def queue(
    session: AsyncSession, consumer_id: int | None, to: str, subject: str, body: str,
    mime: EmailMessage | None = None,
) -> OutboxMail:
    """`mime`: a whole message to send (its parts and headers, e.g. HTML and
    List-Unsubscribe), `body` being its text; From, To and Subject are set at sending."""
    mail = OutboxMail(consumer_id=consumer_id, to=to, subject=subject[:200], body=body,
                      mime=mime.as_string() if mime is not None else None)
    session.add(mail)
    return mail


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failure: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _message(sender: str, mail: OutboxMail) -> EmailMessage:
    if mail.mime:
        message = message_from_string(mail.mime, _class=EmailMessage, policy=default)
    else:
        message = EmailMessage()
        message.set_content(mail.body)
    for name, value in (("From", sender), ("To", mail.to), ("Subject", mail.subject)):
        del message[name]
        message[name] = value
    return message


def _send(smtp_url: str, sender: str, mail: OutboxMail) -> None:
    """smtp://user:password@host:port (STARTTLS), smtps:// for TLS from the start,
    smtp://host:port?starttls=off for a relay on the same host."""
    parts = urlsplit(smtp_url)
    message = _message(sender, mail)
    port = parts.port or (465 if parts.scheme == "smtps" else 587)
    plain = parse_qs(parts.query).get("starttls") == ["off"] or port == 25
    context = ssl.create_default_context()  # the server's certificate is checked
    host = parts.hostname or "localhost"
    smtp: smtplib.SMTP = (
        smtplib.SMTP_SSL(host, port, timeout=20, context=context)
        if parts.scheme == "smtps"
        else smtplib.SMTP(host, port, timeout=20)
    )
    with smtp:
        if parts.scheme == "smtp" and not plain:
            smtp.starttls(context=context)
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


async def send_pending(
    sessionmaker: async_sessionmaker[AsyncSession], smtp_url: str, sender: str, now: datetime
) -> int:
    due = or_(OutboxMail.retry_at.is_(None), OutboxMail.retry_at <= now)
    async with sessionmaker() as session:
        mails = (
            await session.scalars(
                select(OutboxMail).where(OutboxMail.sent_at.is_(None), due)
                .order_by(OutboxMail.id).limit(20)
            )
        ).all()
    sent = 0
    for mail in mails:
        # Claim it for a while (committed), so two processes do not both send it, and no
        # database transaction stays open during the SMTP conversation.
        async with sessionmaker() as session, session.begin():
            claimed = await session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail.id, OutboxMail.sent_at.is_(None), due)
                .values(retry_at=now + CLAIM)
            )
        if changed(claimed) != 1:
            continue
        try:
            await asyncio.to_thread(_send, smtp_url, sender, mail)
        except (OSError, smtplib.SMTPException) as error:
            attempts = mail.attempts + 1
            async with sessionmaker() as session, session.begin():
                await session.execute(
                    update(OutboxMail).where(OutboxMail.id == mail.id)
                    .values(attempts=attempts, retry_at=now + retry_delay(attempts))
                )
            # The error's type, not its text: the URL's password must not reach the logs.
            log.warning("mail %s not sent (%s), kept to retry", mail.id, type(error).__name__)
            break  # the server is likely down for the others too: the next sweep tries
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(OutboxMail).where(OutboxMail.id == mail.id).values(sent_at=now)
            )
        sent += 1
    return sent


async def log_pending(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Without a mail server: write each unsent mail to the log, once (a conditional
    stamp, so that two processes do not both write it)."""
    async with sessionmaker() as session:
        mails = (
            await session.scalars(
                select(OutboxMail).where(OutboxMail.sent_at.is_(None))
                .order_by(OutboxMail.id).limit(20)
            )
        ).all()
    written = 0
    for mail in mails:
        async with sessionmaker() as session, session.begin():
            stamped = await session.execute(
                update(OutboxMail).where(OutboxMail.id == mail.id, OutboxMail.sent_at.is_(None))
                .values(sent_at=now)
            )
        if changed(stamped) != 1:
            continue
        # A warning, so that it shows with the server's default logging: no mail left.
        log.warning("no mail server (SMTP_URL): mail %s written here instead\nTo: %s\n"
                    "Subject: %s\n\n%s", mail.id, mail.to, mail.subject, mail.body)
        written += 1
    return written
