"""The tables' QR codes as a PDF to print: A4, three cards across, a label under each code.

fpdf2 lays the pages out (pure Python, small, kept up; segno alone writes one code per
PDF, not a sheet); segno draws each code as a PNG that fpdf2 places.
"""

from __future__ import annotations

import io

import segno
from fpdf import FPDF

_COLUMNS, _ROWS = 3, 4
_CARD_W, _CARD_H = 60.0, 66.0  # millimetres
_CODE = 44.0
_LEFT, _TOP = 15.0, 20.0


def _png(url: str) -> io.BytesIO:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=8, border=2)
    out.seek(0)
    return out


def _latin(text: str) -> str:
    """The core PDF fonts know Latin-1: other characters become "?" rather than an error."""
    return text.encode("latin-1", "replace").decode("latin-1")


def sheet(title: str, cards: list[tuple[str, str]]) -> bytes:
    """A PDF with one card per (label, url), in their order."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(_latin(title))
    per_page = _COLUMNS * _ROWS
    for index, (label, url) in enumerate(cards or [("", "")]):
        if index % per_page == 0:
            pdf.add_page()
            pdf.set_font("Helvetica", size=10)
            pdf.set_xy(_LEFT, 8)
            pdf.cell(0, 6, _latin(title))
        if not url:
            break
        spot = index % per_page
        x = _LEFT + (spot % _COLUMNS) * _CARD_W
        y = _TOP + (spot // _COLUMNS) * _CARD_H
        pdf.image(_png(url), x=x + (_CARD_W - _CODE) / 2, y=y, w=_CODE, h=_CODE)
        pdf.set_font("Helvetica", style="B", size=14)
        pdf.set_xy(x, y + _CODE + 2)
        pdf.cell(_CARD_W, 7, _latin(label), align="C")
    return bytes(pdf.output())
