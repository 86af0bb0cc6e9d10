"""The customer's personal QR code in the venue's mails (the campaigns to come): scanned
at the till from the phone's mail, it identifies them as their space's code does.

Customers' own mails (the sign-up confirmation) stay theirs: this is for mails loyalty
sends, which attach the code with `attach_qr`."""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.utils import make_msgid

import segno

FILENAME = "loyalty-code.png"


def qr_png(qr_token: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(qr_token, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def attach_qr(message: EmailMessage, qr_token: str) -> str:
    """The code as an inline PNG: beside the HTML part (returns its `cid:` URL for an
    `<img src>`), or, for a mail of text alone, as an inline attachment."""
    cid = make_msgid(domain="loyalty.comptoir")
    html = message.get_body(("html",))
    if html is not None:
        html.add_related(qr_png(qr_token), "image", "png", cid=cid, filename=FILENAME)
    else:
        message.add_attachment(qr_png(qr_token), "image", "png", cid=cid, filename=FILENAME,
                               disposition="inline")
    return "cid:" + cid.strip("<>")
