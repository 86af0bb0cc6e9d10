"""French first, English too: every message in the code reaches the screen translated.

Pure tests: no database. The messages are extracted from the sources at test time (with
babel.cfg, as `pybabel extract` does), so a new untranslated string fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from web import i18n
from web.templating import environment, render

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)")
# English is the source language; every other locale must translate everything.
TRANSLATED = [locale for locale in i18n.LOCALES if locale != "en"]
UPDATE_HINT = "run the commands in docs/i18n.md, then fill in the empty msgstr"


@pytest.fixture(scope="module")
def extracted() -> dict[str, str]:
    """Each message of the current sources → where it was first seen."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords={**DEFAULT_KEYWORDS, "N_": None}
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, f"{filename}:{lineno}")
    return found


# A number placeholder followed by a word it counts ("%(count)s brews"): such a message needs
# a singular and a plural (ngettext, or {% pluralize %} in a template).
COUNTED_WORD = re.compile(r"%\((count|total|n|quantity|done|left)\)s [^\W\d_×]")


@pytest.fixture(scope="module")
def singular_only() -> list[tuple[str, str]]:
    """(where, msgid) of each message extracted without a plural form."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    return [
        (f"{filename}:{lineno}", message)
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords={**DEFAULT_KEYWORDS, "N_": None}
        )
        if isinstance(message, str)
    ]


@pytest.fixture(scope="module", params=TRANSLATED)
def catalog(request: pytest.FixtureRequest) -> Catalog:
    locale = request.param
    with (i18n.CATALOGS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def translated(catalog: Catalog) -> Iterator[tuple[str, str]]:
    """Each translation and the msgid it translates (each plural form on its own, beside
    the plural msgid for the forms past the first)."""
    for message in catalog:
        if not (message.id and message.string):
            continue
        if isinstance(message.id, str):
            yield message.id, str(message.string)
            continue
        for number, text in enumerate(message.string):
            yield message.id[min(number, 1)], text


def test_extraction_sees_python_and_template_messages(extracted: dict[str, str]) -> None:
    # Guards the next test: a broken babel.cfg would extract nothing and pass vacuously.
    assert extracted["Wrong PIN."].startswith("ordering/errors.py")
    assert extracted["Wrong email or password."].startswith("accounts/service.py")
    assert extracted["Shared cart"].startswith("templates/_table_live.html")
    assert extracted["%(member)s joined the table"].startswith("templates/_notify.txt")
    assert not any(where.startswith(("tests/", ".venv/")) for where in extracted.values())


def test_every_message_is_translated(extracted: dict[str, str], catalog: Catalog) -> None:
    missing = []
    for msgid, where in sorted(extracted.items(), key=lambda item: item[1]):
        entry = catalog.get(msgid)
        # A fuzzy entry is not served (write_mo drops it), so the diner would see English.
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(f"{where}: {msgid!r}")
    listing = "\n".join(missing)
    assert not missing, f"untranslated in {catalog.locale} ({UPDATE_HINT}):\n{listing}"


def test_a_counted_word_has_a_plural(singular_only: list[tuple[str, str]]) -> None:
    counted = [f"{where}: {msgid!r}" for where, msgid in singular_only
               if COUNTED_WORD.search(msgid)]
    assert not counted, "use ngettext or {% pluralize %}:\n" + "\n".join(counted)


def test_the_plural_check_sees_a_counted_word() -> None:
    assert COUNTED_WORD.search("This deletes the machine and its usage data (%(count)s brews).")
    assert not COUNTED_WORD.search("%(member)s added %(quantity)s × %(product)s")
    assert not COUNTED_WORD.search("Waiting for approval (%(count)s)")


def test_translations_keep_the_placeholders(catalog: Catalog) -> None:
    for msgid, msgstr in translated(catalog):
        names = set(PLACEHOLDER.findall(msgid))
        assert set(PLACEHOLDER.findall(msgstr)) == names, msgid
        # Newstyle gettext formats every template string, with or without parameters:
        # a stray "%" would make the page fail to render.
        try:
            msgstr % {name: "x" for name in names}
        except (ValueError, TypeError) as error:
            pytest.fail(f"{msgid!r} → {msgstr!r}: {error}")


def test_translations_are_safe_inside_html_attributes(catalog: Catalog) -> None:
    # Templates put translations in attributes (placeholder="…", aria-label="…") and
    # gettext output is trusted markup, so a quote or a tag would break the page.
    for msgid, msgstr in translated(catalog):
        assert not set(msgstr) & set('"<>&'), msgid


def test_the_running_app_serves_french_and_falls_back_to_english() -> None:
    assert i18n.gettext("fr", "Shared cart") == "Panier partagé"
    assert i18n.gettext("fr", "Free the table") == "Libérer la table"
    assert i18n.gettext("en", "Shared cart") == "Shared cart"
    quantity = i18n.gettext("fr", "Quantity must be between %(low)s and %(high)s.")
    assert quantity % {"low": 1, "high": 50} == "La quantité doit être comprise entre 1 et 50."


def test_a_fuzzy_guess_is_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    po = tmp_path / "fr" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#, fuzzy\nmsgid "Shared cart"\nmsgstr "Panier de la table voisine"\n\n'
        'msgid "Wrong PIN."\nmsgstr "PIN incorrect."\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "CATALOGS", tmp_path)
    i18n.translations.cache_clear()
    try:
        assert i18n.gettext("fr", "Shared cart") == "Shared cart"
        assert i18n.gettext("fr", "Wrong PIN.") == "PIN incorrect."
    finally:
        i18n.translations.cache_clear()


def test_money_is_formatted_the_locale_way() -> None:
    # Babel (CLDR) puts a no-break space between the amount and the euro sign in French.
    assert i18n.money(1250, "EUR", "fr") == "12,50\u00a0€"
    assert i18n.money(1250, "EUR", "en") == "€12.50"
    assert i18n.money(5, "EUR", "fr") == "0,05\u00a0€"


def test_notifications_read_naturally_in_french() -> None:
    change = {"member": "Léa", "quantity": 2, "product": "Espresso"}
    assert render("fr", "_notify.txt", event="cart.added", change=change).strip() == (
        "Léa a ajouté 2 × Espresso"
    )
    assert render("en", "_notify.txt", event="cart.added", change=change).strip() == (
        "Léa added 2 × Espresso"
    )
    progress = render(
        "fr", "_notify.txt", event="round.progress", change={"round": 3, "round_status": "ready"}
    )
    assert progress.strip() == "Commande n°\u00a03\u00a0: Prête"


def test_status_labels_are_french() -> None:
    labels = environment("fr").get_template("_labels.html").module
    assert str(labels.round_status("in_production")) == "En préparation"  # type: ignore[attr-defined]
    assert str(labels.table_state("to_settle")) == "À régler"  # type: ignore[attr-defined]


def test_a_page_renders_in_french() -> None:
    request = SimpleNamespace(url=SimpleNamespace(path="/t/abc"))
    html = render("fr", "error.html", request=request, status=404, message="Introuvable.")
    assert '<html lang="fr">' in html
    assert "Retour à l'accueil" in html
    assert "Back to the start" not in html
    english = render("en", "error.html", request=request, status=404, message="Not found.")
    assert "Back to the start" in english


@pytest.mark.parametrize(
    ("cookie", "accept_language", "expected"),
    [
        ("en", "fr-FR,fr;q=0.9", "en"),  # the language chosen in the page wins
        ("fr", "en-US,en;q=0.9", "fr"),
        (None, "en-GB,en;q=0.8", "en"),
        (None, "de-DE,de;q=0.9,en;q=0.5", "en"),  # first supported language listed
        ("de", "de-DE", "fr"),  # unsupported everywhere: French, the default
        (None, None, "fr"),
    ],
)
def test_pick_locale(cookie: str | None, accept_language: str | None, expected: str) -> None:
    assert i18n.pick_locale(cookie, accept_language) == expected
