"""A campaign's e-mail through a real SMTP server (aiosmtpd on 127.0.0.1): it arrives as
text and HTML, with the List-Unsubscribe headers of RFC 8058, and the recipient's coupon
with its QR code as an image the HTML shows by its Content-ID."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from customers.mail import send_pending
from loyalty import campaign_send
from tests.conftest import free_port
from tests.customers.test_mail import SENDER, Inbox
from tests.loyalty.conftest import Loyal
from tests.loyalty.test_campaigns import _campaign, _manager, _only, _people, _sweep


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    port, handler = free_port(), Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler
    controller.stop()


async def test_the_campaign_mail_arrives_by_smtp_with_its_coupon_and_unsubscribe(
    loyal: Loyal, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    staff = await _manager(loyal)
    [zoe] = await _people(loyal, 1)
    campaign = await _campaign(loyal, staff)
    await loyal.run(lambda tx: campaign_send.send_now(tx, staff, campaign.id, _only([zoe])))
    await _sweep(loyal, datetime.now(UTC), [zoe])
    sent = await send_pending(loyal.db.sessionmaker, f"smtp://127.0.0.1:{port}?starttls=off",
                              SENDER, datetime.now(UTC))
    assert sent == 1
    [(to, message)] = inbox.mails
    assert message["From"] == SENDER and message["Subject"] == "Happy hour"
    assert message["List-Unsubscribe"].strip().startswith("<https://zinc.example/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = images[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    assert "Un café offert" in text.get_content()
