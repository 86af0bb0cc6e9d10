"""Products' photos: checked, re-encoded, and kept behind one interface (`PhotoStore`).

A photo is accepted only when its first bytes say JPEG, PNG or WebP, it is at most 5 MB,
and Pillow decodes it whole; it is then re-encoded (at most 1600 px a side), which drops
whatever else the file carried (EXIF and GPS data, trailing bytes, scripts in comments).
The disk store is the one implementation today; an object storage (S3 and the like) would
be a second class with the same three methods, chosen by the setting that names the store.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from pathlib import Path
from typing import Protocol

from PIL import Image, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool

from ordering.menu_errors import BadPhoto

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 1600
MAX_PIXELS = 40_000_000  # a decompression bomb's dimensions are refused before decoding
KINDS = {"jpeg": ("JPEG", "jpg", "image/jpeg"), "png": ("PNG", "png", "image/png"),
         "webp": ("WEBP", "webp", "image/webp")}
KEY = re.compile(r"[0-9a-f]{32}\.(jpg|png|webp)")
TYPES = {ext: mime for _, ext, mime in KINDS.values()}


def sniff(data: bytes) -> str | None:
    """The image kind its magic bytes announce: jpeg, png, webp, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def reencode(data: bytes) -> tuple[bytes, str]:
    """The photo, checked and re-encoded in its own format; and its file extension."""
    kind = sniff(data)
    if kind is None or len(data) > MAX_BYTES:
        raise BadPhoto()
    pil_format, ext, _ = KINDS[kind]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise BadPhoto()
                image.load()
                picture = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P")
                                        and kind != "jpeg" else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise BadPhoto() from error
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if kind == "png":
        picture.save(out, "PNG", optimize=True)
    else:
        picture.save(out, pil_format, quality=85)
    return out.getvalue(), ext


class PhotoStore(Protocol):
    """Where photos are kept: a key in, the bytes out."""

    async def put(self, data: bytes, ext: str) -> str:
        """Keep these (already checked) bytes under a new key, which it returns."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The photo's bytes, or None for a key it does not hold (or not a key)."""
        ...

    async def delete(self, key: str) -> None:
        ...


class DiskPhotoStore:
    """Files under `root` (the MEDIA_DIR setting), named by a random key: never by the
    uploader's file name, so a key cannot climb out of the folder."""

    def __init__(self, root: Path) -> None:
        self.root = root / "products"

    def _path(self, key: str) -> Path | None:
        return self.root / key if KEY.fullmatch(key) else None

    async def put(self, data: bytes, ext: str) -> str:
        key = f"{secrets.token_hex(16)}.{ext}"
        path = self._path(key)
        assert path is not None

        def write() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        await run_in_threadpool(write)
        return key

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        if path is None:
            return None

        def read() -> bytes | None:
            return path.read_bytes() if path.is_file() else None

        return await run_in_threadpool(read)

    async def delete(self, key: str) -> None:
        path = self._path(key)
        if path is not None:
            await run_in_threadpool(path.unlink, True)


async def checked_photo(store: PhotoStore, data: bytes) -> str:
    """Check and re-encode an upload (off the event loop), keep it, return its key."""
    clean, ext = await run_in_threadpool(reencode, data)
    return await store.put(clean, ext)
