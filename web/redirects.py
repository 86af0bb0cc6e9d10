"""Where a redirect may send a browser: a path of this site, checked once, here.

Every redirect of the project goes through `safe_path` (pages' `RedirectResponse`s through
`redirect`, htmx's `HX-Redirect` through `web.htmx.json_reply`): a `back` or `next` taken
from a request can then only lead back into this site. Browsers read `/\\host` as
`//host` (another site), drop tabs and newlines inside URLs, and some servers and proxies
decode `%2F` and `%5C`; so a path is refused when it, or any decoding of it, is not a plain
absolute path of ours: no scheme, no host, no backslash, no control character.
(Django's `url_has_allowed_host_and_scheme` makes the same checks; one function does not
justify the dependency.)
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from starlette.responses import RedirectResponse

MAX_LENGTH = 2000
_DECODINGS = 3  # `%25` nests: a path is checked as it is and decoded up to this many times


def _plain(path: str, lowest: int = 0x21) -> bool:
    """One form of a path: absolute on this site, printable ASCII, nothing a browser would
    read as another host. `lowest`: a decoded form may hold spaces (`%20`), not the path."""
    if not path.startswith("/") or path.startswith("//"):
        return False
    if any(not lowest <= ord(char) <= 0x7E for char in path) or "\\" in path:
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc and parts.path.startswith("/")


def safe_path(value: object, default: str = "/") -> str:
    """`value` when it is a path of this site (`/account`, `/m/x?tab=1`), else `default`."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return default
    form = value
    for decodings in range(_DECODINGS + 1):
        if not _plain(form, 0x20 if decodings else 0x21):
            return default
        decoded = unquote(form)
        if decoded == form:
            return value
        form = decoded
    return default  # still encoded after that many decodings: nothing of ours looks so


def is_safe_path(value: object) -> bool:
    return safe_path(value, "") != ""


def offsite_or_path(value: object, default: str = "/") -> str:
    """A payment provider's checkout page (an absolute https URL our server was handed by
    the provider, never one taken from a request) or a path of this site."""
    if isinstance(value, str) and value.startswith("https://") and len(value) <= MAX_LENGTH:
        parts = urlsplit(value)
        printable = all(0x21 <= ord(char) <= 0x7E for char in value) and "\\" not in value
        if printable and parts.hostname and not parts.username and not parts.password:
            return value
    return safe_path(value, default)


def redirect(to: str, status_code: int = 303, default: str = "/") -> RedirectResponse:
    """A redirect to a path of this site (`default` when `to` is not one)."""
    return RedirectResponse(safe_path(to, default), status_code=status_code)
