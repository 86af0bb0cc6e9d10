"""A campaign's e-mail, made from its blocks: HTML and plain text by Jinja2's templates
(templates/loyalty/campaign_mail.html and .txt; whatever the manager typed is escaped),
in the venue's language.

Each mail carries its recipient's unsubscribe link (in its text and in the
List-Unsubscribe headers, loyalty/unsubscribe.py); a coupon block shows the recipient's
own coupon: its reward, its code, and its QR code as an inline image beside the HTML.
The whole message goes to the customers' outbox (customers/mail.py), sent by SMTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from loyalty.campaigns import blocks_of
from loyalty.mail_qr import FILENAME, qr_png
from web.i18n import when
from web.templating import render


@dataclass(frozen=True)
class CouponShown:
    reward: str
    code: str
    until: str  # in the venue's words
    qr_src: str = ""  # "cid:…" in a mail; empty in the preview


@dataclass(frozen=True)
class Mail:
    subject: str
    html: str
    text: str


def coupon_shown(reward: str, code: str, expires_at: datetime, locale: str, tz: str,
                 qr_src: str = "") -> CouponShown:
    return CouponShown(reward, code, when(expires_at, locale, tz), qr_src)


def render_mail(*, subject: str, blocks: list[dict[str, Any]], venue: str, locale: str,
                unsubscribe_url: str, coupon: CouponShown | None) -> Mail:
    """The mail as its recipient reads it (the preview shows the same)."""
    context = {"subject": subject, "blocks": [b.model_dump() for b in blocks_of(blocks)],
               "venue": venue, "coupon": coupon, "unsubscribe_url": unsubscribe_url}
    return Mail(subject, render(locale, "loyalty/campaign_mail.html", **context),
                render(locale, "loyalty/campaign_mail.txt", **context).strip() + "\n")


def qr_cid() -> tuple[str, str]:
    """A Content-ID for the coupon's QR image, and the `cid:` URL the HTML shows it by."""
    cid = make_msgid(domain="loyalty.comptoir")
    return cid, "cid:" + cid.strip("<>")


def message(mail: Mail, headers: dict[str, str], qr: tuple[str, str] | None = None
            ) -> EmailMessage:
    """The MIME message: text, then HTML (with the QR code related to it), and the
    unsubscribe headers. `qr`: (the code's text, its Content-ID)."""
    built = EmailMessage()
    for name, value in headers.items():
        built[name] = value
    built.set_content(mail.text)
    built.add_alternative(mail.html, subtype="html")
    if qr is not None:
        code, cid = qr
        html = built.get_body(("html",))
        assert html is not None
        html.add_related(qr_png(code), "image", "png", cid=cid, filename=FILENAME)
    return built
