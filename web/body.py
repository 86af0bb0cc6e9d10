"""Request bodies from JSON (API clients) or forms (htmx pages): read, checked storable.

Bounded to MAX_BODY as they arrive, by web/body_limit.py; web/commands.py turns them into
typed commands."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from errors import N_, InvalidInput

MAX_BODY = 64 * 1024


class BadBody(InvalidInput):
    """The body is not a JSON object (malformed JSON, an array or a scalar, invalid UTF-8, NUL
    characters, lone surrogates, absurd nesting) or a list field is malformed."""

    code = "bad_body"
    message = N_("The request body is not valid JSON or form data.")


class BodyTooLarge(BadBody):
    """The body is over 64 KiB (or over its route's own limit): refused as it arrives,
    unread beyond the limit."""

    code = "body_too_large"
    status = 413
    message = N_("The request body is too large.")


class UnsupportedBody(BadBody):
    """The body is neither application/json nor a form."""

    code = "unsupported_media_type"
    status = 415
    message = N_("Send the body as application/json (or as a form from the pages).")


def _storable(data: Any) -> bool:
    """No NUL and no lone surrogate in any string: the databases refuse both with an error.

    Iterative, since JSON nesting may already be as deep as the recursion limit allows.
    """
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return False
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return True


class Body:
    def __init__(self, data: dict[str, Any], is_form: bool) -> None:
        self.data = data
        self.is_form = is_form


async def read_body(request: Request) -> Body:
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    raw = await request.body()  # BodyTooLarge past the limit (web/body_limit.py)
    if content_type == "application/json":
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, RecursionError) as error:  # RecursionError: absurdly deep nesting
            raise BadBody() from error
        if not isinstance(data, dict) or not _storable(data):
            raise BadBody()
        return Body(data, is_form=False)
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not _storable(fields):
            raise BadBody()
        return Body(fields, is_form=True)
    raise UnsupportedBody()
