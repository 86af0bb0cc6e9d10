"""CSRF and Origin checks, and the session's device id and CSRF token.

A browser's session (web/sessions.py, kept on the server) gets a random device id (≥128
bits) when something first needs one, and a CSRF token when a page first shows one. Unsafe
requests must carry the CSRF token in a header or form field, unless they are JSON: a
cross-site page cannot send JSON without a CORS preflight, which this server never grants.
A present Origin header must be this site's own. Paths whose URL is itself the authority
(`open_paths`, named by app.py: a signed one-click unsubscribe link, which a mail client
POSTs from its own server, RFC 8058) are let through.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from errors import N_
from web.i18n import gettext, pick_locale

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def device_id(conn: HTTPConnection) -> str:
    """This browser's random device id, made the first time something needs it."""
    session = conn.session
    device = session.get("device")
    if not isinstance(device, str):
        device = session["device"] = new_token()
    return device


def csrf_token(conn: HTTPConnection) -> str:
    """This session's CSRF token, made the first time a page or an answer shows it."""
    session = conn.session
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = new_token()
    return token


def device_key(secret: str, device_id: str) -> str:
    """What the database stores for a device: a keyed hash, never the cookie's value."""
    return hmac.new(secret.encode(), device_id.encode(), hashlib.sha256).hexdigest()[:40]


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    if not origin:
        return True
    if origin in allowed:
        return True
    return bool(host) and urlsplit(origin).netloc == host


class SessionIdentity:
    """Guards unsafe requests: Origin, then the session's CSRF token unless JSON; not those
    to `open_paths` (prefixes), whose signed URL is their own authority."""

    def __init__(self, app: ASGIApp, allowed_origins: tuple[str, ...] = (),
                 open_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed_origins = allowed_origins
        self.open_paths = open_paths

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine: it hands back the next app's (or the refusal), so that no frame
        # of its own stays on the stack of every open websocket.
        if scope["type"] not in ("http", "websocket"):
            return self.app(scope, receive, send)
        if (scope["type"] == "http" and scope["method"] in UNSAFE
                and not scope["path"].startswith(self.open_paths)):
            headers = Headers(scope=scope)
            session = scope.get("session")
            csrf = session.get("csrf") if session is not None else None
            problem = self._problem(headers, csrf if isinstance(csrf, str) else None)
            if problem:
                locale = pick_locale(HTTPConnection(scope).cookies.get("lang"),
                                     headers.get("accept-language"))
                return _reject(send, gettext(locale, problem))
        return self.app(scope, receive, send)

    def _problem(self, headers: Headers, csrf: str | None) -> str | None:
        if not origin_allowed(headers.get("origin"), headers.get("host"), self.allowed_origins):
            return N_("Cross-origin request refused.")
        if headers.get("content-type", "").split(";")[0].strip() == "application/json":
            return None
        token = headers.get("x-csrf-token", "")
        if token and csrf and hmac.compare_digest(token, csrf):
            return None
        return N_("Missing or wrong CSRF token; reload the page.")


async def _reject(send: Send, message: str) -> None:
    body = json.dumps({"error": {"code": "csrf", "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
