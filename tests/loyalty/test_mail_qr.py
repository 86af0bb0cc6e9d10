"""The customer's QR code in the venue's mails: an inline PNG beside the HTML part (its
`cid:` URL for the `<img>`), or an inline attachment of a mail of text alone; each
customer's own. Pure: no database."""

from __future__ import annotations

from email.message import EmailMessage

from loyalty.mail_qr import attach_qr, qr_png


def test_the_code_goes_beside_the_html_part_with_its_cid() -> None:
    mail = EmailMessage()
    mail.set_content("Bonjour")
    mail.add_alternative("<p>Bonjour</p>", subtype="html")
    url = attach_qr(mail, "zoe-code")
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    assert url == "cid:" + str(images[0]["Content-ID"]).strip("<>")
    assert images[0].get_content() == qr_png("zoe-code")
    assert [p.get_content_type() for p in mail.walk()][:4] == [
        "multipart/alternative", "text/plain", "multipart/related", "text/html"]


def test_a_mail_of_text_alone_gets_it_inline() -> None:
    mail = EmailMessage()
    mail.set_content("Bonjour")
    attach_qr(mail, "zoe-code")
    image = next(p for p in mail.walk() if p.get_content_type() == "image/png")
    assert image.get_content_disposition() == "inline"
    assert image.get_content().startswith(b"\x89PNG")
    assert qr_png("zoe-code") != qr_png("max-code")
