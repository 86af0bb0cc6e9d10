"""The headers every HTTP response carries: what its page may load and run, who may frame it,
what a link out of it tells the other site, and, over https, that the site stays https.

Table and machine pages are capabilities (`/t/{token}`, `/m/{token}`): whoever holds the
URL may order or brew, so no other site may frame them (clickjacking) or learn their URL
from a link followed out of them (the Referer). The policy allows no inline script or style
and no `eval`: what an attacker slips into a page (a name, a note) cannot run, even if some
escaping failed. Scripts and styles are files of static/; htmx is told not to evaluate code
(its `htmx-config` meta tag in templates/base.html).
"""

from __future__ import annotations

from collections.abc import Awaitable
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000"  # a year; subdomains are the operator's, not ours to bind


# The pages a venue may embed in its own web site (the customer's loyalty space): any https
# page may frame them. They hold no capability in their URL, and show nothing without the
# customer's own session.
EMBEDDABLE = "'self' https:"


def policy(public_url: str, frame_ancestors: str = "'none'") -> str:
    """The Content-Security-Policy: everything from this site only, and nothing inline;
    framed by nobody unless told (`EMBEDDABLE`)."""
    connect = "'self'"
    where = urlsplit(public_url)
    if where.netloc:
        # Safari before 16 does not count the site's own ws(s):// as 'self'.
        connect += (" wss://" if where.scheme == "https" else " ws://") + where.netloc
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self'",  # QR codes are inline SVG or /m/{token}/qr.svg
        "connect-src": connect,  # htmx's requests and the live websocket
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": frame_ancestors,  # no page but the embeddable ones
    }
    return "; ".join(f"{name} {sources}" for name, sources in directives.items())


def browser_headers(public_url: str, https: bool) -> list[tuple[str, str]]:
    """The headers for one response; `https`: the request came over https (directly, or
    through a trusted proxy's X-Forwarded-Proto)."""
    headers = [
        ("content-security-policy", policy(public_url)),
        ("x-content-type-options", "nosniff"),
        # Same-origin rather than no-referrer: a page's own requests keep their Origin
        # header (which web/security.py checks); other sites learn nothing, not even the host.
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),  # frame-ancestors for browsers that predate it
    ]
    # A browser ignores HSTS over plain http: with an https PUBLIC_URL it is sent even when
    # the proxy in front does not say the request was https.
    if https or public_url.startswith("https://"):
        headers.append(("strict-transport-security", HSTS))
    return headers


class BrowserHeaders:
    """Adds the browser headers to every HTTP response that has not set its own."""

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.by_scheme = {https: browser_headers(public_url, https) for https in (False, True)}

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine, and websockets go straight through: no frame of its own stays on
        # the stack of every open socket.
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        extra = self.by_scheme[scope.get("scheme") == "https"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A page with a policy of its own says who may frame it (an embeddable
                # page): X-Frame-Options would forbid what its frame-ancestors allow.
                own_policy = "content-security-policy" in headers
                for name, value in extra:
                    if not (own_policy and name == "x-frame-options"):
                        headers.setdefault(name, value)
            await send(message)

        return self.app(scope, receive, send_with_headers)
