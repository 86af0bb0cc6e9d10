"""Jinja2 with gettext: one environment per locale, shared by pages and live fragments."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from web.i18n import clock, money, translations, typed_amount, typed_decimal, when
from web.security import csrf_token

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class ViewEnvironment(Environment):
    """Templates read views: plain dicts from the bus. `line.quantity` on a dict is, for
    Jinja, a failed attribute lookup (an exception) and then an item lookup; live
    fragments do thousands of them per second, so dicts are looked up as dicts first."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@cache
def environment(locale: str) -> Environment:
    env = ViewEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code: checking each file's date on every render (Jinja's
        # default) costs a system call per fragment pushed to the phones.
        auto_reload=False,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["locale"] = locale
    env.filters["money"] = lambda amount, currency: money(amount, currency, locale)
    env.filters["typed_amount"] = lambda amount, currency: typed_amount(amount, currency, locale)
    env.filters["typed_decimal"] = lambda text: typed_decimal(str(text), locale)
    env.filters["when"] = lambda value, tz="Europe/Paris": when(value, locale, tz)
    env.filters["clock"] = lambda value, tz="Europe/Paris": clock(value, locale, tz)
    return env


def render(locale: str, name: str, **context: Any) -> str:
    return environment(locale).get_template(name).render(**context)


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A whole page, in the visitor's language, with what every page needs."""
    from web.state import locale_of

    html = render(
        locale_of(request), name, csrf=csrf_token(request), request=request,
        **context,
    )
    return HTMLResponse(html, status_code=status)
