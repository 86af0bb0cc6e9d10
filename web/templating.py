"""Jinja2 with gettext: one environment per locale, shared by pages and live fragments."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from web.i18n import clock, money, translations, when

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["locale"] = locale
    env.filters["money"] = lambda amount, currency: money(amount, currency, locale)
    env.filters["when"] = lambda value: when(value, locale)
    env.filters["clock"] = lambda value: clock(value, locale)
    return env


def render(locale: str, name: str, **context: Any) -> str:
    return environment(locale).get_template(name).render(**context)
