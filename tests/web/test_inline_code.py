"""No template carries code or style of its own: the policy (web/headers.py) refuses inline
scripts and styles, and a live fragment, rendered once for every socket, could not carry a
per-page nonce anyway. Scripts and styles live in static/."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from web.templating import TEMPLATES

# Jinja's own syntax, blanked so that the HTML parser sees the markup around it.
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)


class InlineCode(HTMLParser):
    """Collects what a strict Content-Security-Policy would refuse."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        for name, value in attrs:
            if name == "style":
                self.found.append(f"<{tag} style=…> at line {self.getpos()[0]}")
            elif name.startswith("on") or name.startswith(("hx-on", "data-hx-on")):
                self.found.append(f"<{tag} {name}=…> at line {self.getpos()[0]}")
            elif name in ("href", "src", "action", "formaction", "hx-get", "hx-post") and (
                (value or "").strip().lower().startswith("javascript:")
            ):
                self.found.append(f"<{tag} {name}=javascript:…> at line {self.getpos()[0]}")
            elif name in ("hx-vals", "hx-vars") and (value or "").strip().startswith(
                ("js:", "javascript:")
            ):
                self.found.append(f"<{tag} {name}=js:…> at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        if tag == "script":
            if "src" not in names:
                self.found.append(f"<script> without src at line {self.getpos()[0]}")
            self.inside = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self.inside:
            self.inside = None

    def handle_data(self, data: str) -> None:
        if self.inside == "script" and data.strip():
            self.found.append(f"code inside <script> at line {self.getpos()[0]}")


def inline_code(source: str) -> list[str]:
    parser = InlineCode()
    parser.feed(JINJA.sub(lambda m: " " * len(m.group()) if "\n" not in m.group()
                          else "\n" * m.group().count("\n"), source))
    parser.close()
    return parser.found


TEMPLATE_FILES = sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".svg"))


# E-mails: mail clients want their styles inline. On the web they are shown only in the
# campaign editor's sandboxed preview, whose own policy allows inline styles and nothing
# else (backoffice/campaign_pages.py PREVIEW_POLICY, tests/web/test_headers.py); no script.
MAILS = {"loyalty/campaign_mail.html"}


def _styles_only(found: list[str]) -> list[str]:
    return [f for f in found if not (" style=…> " in f or f.startswith("<style> "))]


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_holds_inline_script_or_style(path: Path) -> None:
    found = inline_code(path.read_text())
    if str(path.relative_to(TEMPLATES)) in MAILS:
        assert found, "a mail's styles are inline: is it still a mail?"
        found = _styles_only(found)
    assert found == []


def test_a_mail_may_hold_styles_but_never_scripts() -> None:
    assert _styles_only(inline_code('<p style="color:red">x</p><style>p{}</style>')) == []
    assert _styles_only(inline_code('<p onclick="go()">x</p><script>go()</script>')) != []


def test_the_scan_sees_what_it_looks_for() -> None:
    bad = """<p style="color:red">x</p><button onclick="go()">y</button>
    <div hx-on:click="x()"></div><style>p{}</style><script>alert(1)</script>
    <a href=" javascript:alert(1)">z</a><b hx-vals='js:{a: 1}'></b>
    <script src="/static/x.js" defer></script><span data-style="ok" class="{{ 'x' }}"></span>"""
    assert len(inline_code(bad)) == 8
