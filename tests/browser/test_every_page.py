"""Every page the demo links to, as each kind of user reaches it, on a phone and a desktop.

Starting from the addresses `make demo` prints, each user (a diner, the demo consumer, the
cashier, the kitchen, the administrator) follows every link of this server that pages show
them. Each printed address is checked (the demo's machines, in different modes, show
different links), and each kind of page they lead to (its path with ids and tokens left out)
once per user:

- at 390 px wide, with touch: no horizontal overflow, and no control smaller than 44×44 px
  (a link inside a sentence is text, not a control);
- at 1280 px: no horizontal overflow;
- at both: no console error, no request to another host, nothing the content policy refuses;
- rendered in French and in English, no visible text is the same in both unless it is a
  name, a number, a price, an address or a word in `SAME_IN_BOTH`: a text left untranslated.
"""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from comptoir_cli import print_urls
from settings import Settings
from tests.browser.conftest import (
    ADMIN,
    CASHIER,
    KITCHEN,
    TIMEOUT_MS,
    Template,
    Venue,
    serve_copy,
    watch_policy,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
CONSUMER = ("lea@exemple.fr", "cafe-demo")
MAX_PAGES = 60  # per user: kinds of page, not addresses

# Links that act, download or leave the pages: not walked.
SKIP = re.compile(
    r"(logout|sign-?out|/lang/|\.pdf$|\.csv$|\.xlsx$|/export|/template|/api/|/metrics|/healthz|"
    r"/ws$|/qr\.svg$|/photos?/|/static/|/media/)"
)
ID = re.compile(r"/(\d+|[A-Za-z0-9_-]{16,})(?=/|$)")

# Texts that are rightly the same in French and English (brands, units, abbreviations…).
SAME_IN_BOTH = {
    "Comptoir", "POS", "PIN", "OK", "Email", "E-mail", "Stripe", "SMTP", "QR", "CSV", "Excel",
    "Total", "Menu", "Options", "Audit", "Important", "Notes", "Note", "Code", "Client",
    "Service", "Production", "Station", "Message", "Description", "Date", "Type", "Mode",
    "Contact", "Expert", "Portions", "Site", "Sites", "Minutes", "Max", "Min", "Latte",
    "Cappuccino", "Espresso", "Ristretto", "Lungo", "Macchiato", "Chocolat", "Thé",
    "Americano", "Flat white", "Latte macchiato",
    "Français", "English", "FR", "EN", "·", "×", "—", "–", "€", "%", "+", "−", "-", "/",
    "TVA", "VAT", "Dessert", "Desserts", "Allergènes", "Photo", "Test", "Simulation",
    "Tables", "Table", "Machines", "Machine", "Action", "Actions", "Volume (ml)", "Lupin",
    "Article", "Articles", "Cash", "Badge", "Admin", "Format", "Page", "Total TTC", "Bar",
    "Tickets", "SMS", "Logo", "Image", "Coupon", "Points", "Segments", "Segment",
}
# What separates names inside one text ("Jura X8 · DEMO-HALL-1", "Tables — Café de la Gare").
PARTS = re.compile(r"\s*(?:·|—|–|:|\(|\)|,|\|)\s*")
# A text with no letter (digits, money, times, punctuation, pictograms), an address, or a
# short code such as "T1".
NOT_WORDS = re.compile(r"^[^\w]*$|^[\d\W_]*$|@|^https?://|^/|^[A-Z]{1,3}\d*$")
# A count of something whose name is the same in both languages ("2 machines.").
COUNTED = re.compile(r"^\d+\s+(\w[\w ]*?)\.?$")


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)

    def add(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")


@dataclass(frozen=True)
class User:
    name: str
    account: tuple[str, str] | None
    kind: str  # "diner", "consumer" or "staff"


USERS = [
    User("diner", None, "diner"),
    User("consumer", CONSUMER, "consumer"),
    User("cashier", CASHIER, "staff"),
    User("kitchen", KITCHEN, "staff"),
    User("admin", ADMIN, "staff"),
]


def seeds(venue: Venue, template: Template) -> list[str]:
    """The addresses `make demo` prints (comptoir_cli.print_urls, read from what it prints,
    so that an address added there is walked too), and the site's home pages."""
    printed = io.StringIO()
    with redirect_stdout(printed):
        print_urls(cast(Settings, SimpleNamespace(public_url=venue.url)), template.demo)
    found = re.findall(r"https?://[^\s)]+", printed.getvalue())
    found += [f"{venue.url}/backoffice", f"{venue.url}/account", f"{venue.url}/"]
    return [url for url in dict.fromkeys(found) if not SKIP.search(urlsplit(url).path)]


def kind_of(url: str) -> str:
    return ID.sub("/{id}", urlsplit(url).path)


def sign_in(page: Page, venue: Venue, template: Template, user: User) -> None:
    if user.kind == "staff":
        assert user.account
        page.goto(f"{venue.url}/staff/login")
        page.fill("input[name=email]", user.account[0])
        page.fill("input[name=password]", user.account[1])
        page.click("form button[type=submit]")
        page.wait_for_url(re.compile(r".*/(pos|backoffice)/?.*"))
    elif user.kind == "consumer":
        assert user.account
        token = template.demo.machines[0].token
        page.goto(f"{venue.url}/m/{token}/login")
        page.fill("input[name=email]", user.account[0])
        page.fill("input[name=password]", user.account[1])
        with page.expect_navigation():
            page.click("form button[type=submit]")


OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"

# Visible controls under 44 px in either direction; a link inside running text is exempt
# (WCAG 2.5.8), and a checkbox or radio counts its label's box.
SMALL_CONTROLS = """() => {
  const controls = document.querySelectorAll(
    'a[href], button, select, textarea, summary, [role=button], ' +
    'input:not([type=hidden])');
  const small = [];
  for (const e of controls) {
    if (e.closest('[hidden], [aria-hidden=true]')) continue;
    const style = getComputedStyle(e);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    let box = e.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (e.tagName === 'A' && e.closest('p, li.text, .prose, small, td') &&
        style.display === 'inline') continue;
    if (e.type === 'checkbox' || e.type === 'radio') {
      const label = e.closest('label') || (e.id && document.querySelector(`label[for="${e.id}"]`));
      if (label) box = label.getBoundingClientRect();
    }
    if (box.width < 43.5 || box.height < 43.5) {
      const text = (e.innerText || e.value || e.name || e.getAttribute('aria-label') || e.tagName)
        .trim().slice(0, 40);
      small.push(`${text} (${Math.round(box.width)}×${Math.round(box.height)})`);
    }
  }
  return small;
}"""

# Each visible text node, trimmed (form values and hidden parts left out).
VISIBLE_TEXTS = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    const parent = node.parentElement;
    if (!text || !parent || parent.closest('script, style, template, [hidden], option')) continue;
    if (parent.offsetParent === null && getComputedStyle(parent).position !== 'fixed') continue;
    texts.push(text);
  }
  return texts;
}"""


class Walker:
    def __init__(self, browser: Browser, venue: Venue, template: Template, user: User,
                 findings: Findings, csp: list[dict[str, object]]) -> None:
        self.venue, self.template, self.user, self.findings = venue, template, user, findings
        self.host = urlsplit(venue.url).netloc
        self.contexts: list[BrowserContext] = []
        # Signed in once (password hashing is slow on purpose); the others share its session.
        self.phone = self._page(browser, PHONE, touch=True, csp=csp)
        sign_in(self.phone, venue, template, user)
        state = self.phone.context.storage_state()
        self.desk = self._page(browser, DESK, touch=False, csp=csp, state=state)
        self.english = self._page(browser, DESK, touch=False, csp=csp, state=state, lang="en")

    def _page(self, browser: Browser, size: dict[str, int], touch: bool,
              csp: list[dict[str, object]], state: Any = None, lang: str = "fr") -> Page:
        context = browser.new_context(viewport=size, is_mobile=touch, has_touch=touch,
                                      locale="fr-FR" if lang == "fr" else "en-GB",
                                      storage_state=state)
        context.add_cookies([{"name": "lang", "value": lang, "url": self.venue.url}])
        watch_policy(context, csp)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: self._console(page, message.type, message.text))
        page.on("pageerror", lambda error: self.findings.add(
            f"{self.user.name} {page.url}", f"script error: {error}"))
        page.on("request", lambda request: self._request(page, request.url))
        return page

    def _console(self, page: Page, kind: str, text: str) -> None:
        # A refused page (403, 404) logs its own status as a failed resource load: that is
        # the page under test, judged by its content below, not a broken resource.
        if kind == "error" and "Failed to load resource" not in text:
            self.findings.add(f"{self.user.name} {page.url}", f"console error: {text}")

    def _request(self, page: Page, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.host:
            self.findings.add(f"{self.user.name} {page.url}", f"request to another host: {url}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def walk(self) -> int:
        """Each printed address is checked (two machines in other modes are two pages);
        of the links the pages lead to, one of each kind."""
        queue = [(url, True) for url in seeds(self.venue, self.template)]
        seen: set[str] = set()
        checked: set[str] = set()
        while queue and len(seen) < MAX_PAGES:
            url, printed = queue.pop(0)
            kind = kind_of(url)
            if url in checked or (kind in seen and not printed):
                continue
            seen.add(kind)
            checked.add(url)
            queue += [(link, False) for link in self.check(url) if kind_of(link) not in seen]
        return len(seen)

    def check(self, url: str) -> list[str]:
        where = f"{self.user.name} {kind_of(url)}"
        self.phone.goto(url, wait_until="load")
        if (wide := self.phone.evaluate(OVERFLOW)) > 0:
            self.findings.add(where, f"{wide} px wider than a 390 px phone")
        if small := self.phone.evaluate(SMALL_CONTROLS):
            self.findings.add(where, f"controls under 44×44 px on a phone: {small}")
        self.desk.goto(url, wait_until="load")
        if (wide := self.desk.evaluate(OVERFLOW)) > 0:
            self.findings.add(where, f"{wide} px wider than a 1280 px screen")
        self.english.goto(url, wait_until="load")
        same = (set(self.desk.evaluate(VISIBLE_TEXTS))
                & set(self.english.evaluate(VISIBLE_TEXTS))) - self.names()
        untranslated = sorted(text for text in same if self.is_words(text))
        if untranslated:
            self.findings.add(where, f"the same in French and English: {untranslated}")
        links: list[str] = self.desk.eval_on_selector_all(
            "a[href]", "(links) => links.map((a) => a.getAttribute('href'))")
        found = []
        for href in links:
            target = urljoin(self.desk.url, href).split("#")[0]
            if urlsplit(target).netloc == self.host and not SKIP.search(urlsplit(target).path):
                found.append(target)
        return found

    def is_words(self, text: str) -> bool:
        """Whether a text would need translating: not only names, numbers and allowed words."""
        allowed = self.names() | SAME_IN_BOTH
        if text in allowed or NOT_WORDS.search(text):
            return False
        return any(part not in allowed and not NOT_WORDS.search(part)
                   and not self.counted(part, allowed)
                   for part in PARTS.split(text) if part)

    @staticmethod
    def counted(part: str, allowed: set[str]) -> bool:
        """Whether a text only counts an allowed word ("2 machines." for "Machines")."""
        counted = COUNTED.match(part)
        return counted is not None and counted[1][:1].upper() + counted[1][1:] in allowed

    _names: set[str] | None = None

    def names(self) -> set[str]:
        """The venue's own words: products, categories, tables, sites, people, machines."""
        if self._names is None:
            self._names = venue_names(self.template)
        return self._names


def venue_names(template: Template) -> set[str]:
    """Every name-like column of the seeded database's tables."""
    columns = {"name", "label", "display_name", "first_name", "brand_name", "room", "serial",
               "address", "city", "email", "description", "model", "opening_hours",
               "serial_number", "brand"}
    names: set[str] = set()
    with closing(sqlite3.connect(template.path)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for column in [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]:
                if column in columns:
                    query = f'SELECT DISTINCT "{column}" FROM "{table}"'
                    names |= {str(row[0]).strip() for row in db.execute(query) if row[0]}
    return names


@pytest.fixture(scope="module")
def demo_server(seeded_template: Template, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[Venue]:
    """One server for every user: the walk only reads (or does what any visitor may)."""
    folder: Path = tmp_path_factory.mktemp("every-page")
    with serve_copy(seeded_template, folder, {}) as venue:
        yield venue


@pytest.mark.parametrize("user", USERS, ids=[user.name for user in USERS])
def test_every_page_fits_is_touchable_and_translated(
    user: User, browser: Browser, demo_server: Venue, seeded_template: Template
) -> None:
    findings, csp = Findings(), []
    walker = Walker(browser, demo_server, seeded_template, user, findings, csp)
    try:
        walked = walker.walk()
    finally:
        walker.close()
    assert walked >= 5, f"{user.name} reached only {walked} kinds of page"
    problems = findings.problems + [f"refused by the content policy: {seen}" for seen in csp]
    assert not problems, "\n".join(problems)
