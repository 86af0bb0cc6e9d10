"""Products' photos: checked, re-encoded, and kept behind one interface (`PhotoStore`).

A photo is accepted only when its first bytes say JPEG, PNG or WebP, it is at most 5 MB,
and Pillow decodes it whole; it is then re-encoded (at most 1600 px a side), which drops
whatever else the file carried (EXIF and GPS data, trailing bytes, scripts in comments).
It is kept in one of two stores with the same three methods, chosen by the PHOTO_STORE_URL
setting (`store_for`): files under MEDIA_DIR, or objects in an S3-compatible bucket. Either
way the app serves them at /media/products/{key} (backoffice/menu_files.py), so pages and
their Content-Security-Policy do not depend on where photos are kept.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool

from ordering.menu_errors import BadPhoto
from settings import Settings

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


class S3PhotoStore:
    """Objects named `{prefix}products/{key}` in `bucket`, in any S3-compatible storage (AWS
    S3, MinIO, Ceph, Garage…), through boto3. Where it is and who we are come from boto3's
    usual environment: AWS_ENDPOINT_URL (another server than AWS), AWS_REGION or
    AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an instance role).
    boto3 blocks: each call runs in the thread pool, as the disk store's file calls do (a
    client is safe to share between threads). The bucket may stay private: the app reads
    the photos and serves them itself."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        # Imported here: boto3 takes longer to import than the rest of the app, and only an
        # app with a bucket needs it.
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.client = client or boto3.client("s3", config=Config(
            connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"}))

    def _name(self, key: str) -> str | None:
        return f"{self.prefix}products/{key}" if KEY.fullmatch(key) else None

    async def put(self, data: bytes, ext: str) -> str:
        key = f"{secrets.token_hex(16)}.{ext}"
        await run_in_threadpool(
            self.client.put_object, Bucket=self.bucket, Key=self._name(key), Body=data,
            ContentType=TYPES[ext])
        return key

    async def get(self, key: str) -> bytes | None:
        name = self._name(key)
        if name is None:
            return None

        from botocore.exceptions import ClientError

        def read() -> bytes | None:
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=name)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            body: bytes = answer["Body"].read()
            return body

        return await run_in_threadpool(read)

    async def delete(self, key: str) -> None:
        name = self._name(key)
        if name is not None:
            await run_in_threadpool(self.client.delete_object, Bucket=self.bucket, Key=name)


def store_for(settings: Settings) -> PhotoStore:
    """The store the settings name: the bucket of PHOTO_STORE_URL, else MEDIA_DIR's files."""
    if settings.photo_bucket is None:
        return DiskPhotoStore(settings.media_path)
    bucket, prefix = settings.photo_bucket
    return S3PhotoStore(bucket, prefix)


async def checked_photo(store: PhotoStore, data: bytes) -> str:
    """Check and re-encode an upload (off the event loop), keep it, return its key."""
    clean, ext = await run_in_threadpool(reencode, data)
    return await store.put(clean, ext)
