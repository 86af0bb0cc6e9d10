"""File uploads (multipart forms): the body read with a hard cap before it is parsed.

Until the per-route body limit exists, a route that takes a file reads it here: a body over
`limit` (plus room for the form's other fields) is refused as soon as it is seen to be,
without being read whole."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request

from errors import N_, InvalidInput
from web.body import _storable

FORM_ROOM = 64 * 1024  # the other fields and the multipart framing


class UploadTooLarge(InvalidInput):
    """The file is over the size this form accepts."""

    code = "file_too_large"
    status = 413
    message = N_("The file is larger than %(limit)s MB.")
    field = "file"


class NoFile(InvalidInput):
    """The form was sent without its file (or not as multipart/form-data)."""

    code = "no_file"
    message = N_("Choose a file to send.")
    field = "file"


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    fields: dict[str, str]


async def read_upload(request: Request, name: str, limit: int) -> Upload:
    """The file sent as form field `name` (at most `limit` bytes) and the other fields."""
    too_large = UploadTooLarge(limit=limit // (1024 * 1024))
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and (len(declared) > 12 or int(declared) > limit + FORM_ROOM):
        raise too_large
    if request.headers.get("content-type", "").split(";")[0].strip() != "multipart/form-data":
        raise NoFile()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit + FORM_ROOM:
            raise too_large
        chunks.append(chunk)
    request._body = b"".join(chunks)  # what request.form() parses, now that it is bounded
    try:
        form = await request.form(max_files=1, max_fields=20, max_part_size=limit + 1)
    except Exception as error:  # a malformed multipart body: the parser's own errors
        raise NoFile() from error
    part = form.get(name)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not isinstance(part, UploadFile) or not _storable(fields):
        await form.close()
        raise NoFile()
    data = await part.read(limit + 1)
    filename = part.filename or ""
    await form.close()
    if len(data) > limit:
        raise too_large
    if not data:
        raise NoFile()
    return Upload(filename, data, fields)
