"""Products' photos kept in an S3-compatible bucket (PHOTO_STORE_URL), against a local S3
server (moto's), and the disk store held to the same contract: a key in, the bytes out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from demo.seed import DemoVenue
from ordering.photos import DiskPhotoStore, PhotoStore, S3PhotoStore, sniff, store_for
from settings import _photo_store_url
from tests.backoffice.conftest import ADMIN, Admin
from tests.backoffice.test_menu_pages import image
from tests.conftest import Database, client_for
from tests.conftest import test_settings as settings_for

BUCKET = "comptoir-photos"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A local S3 server on a free port, for this module's tests."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """boto3's usual environment pointed at the local server, and an empty bucket."""
    for name, value in (("AWS_ENDPOINT_URL", s3_endpoint), ("AWS_ACCESS_KEY_ID", "test"),
                        ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_DEFAULT_REGION", "eu-west-3")):
        monkeypatch.setenv(name, value)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET,
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _names(client: Any) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


@pytest.fixture(params=["disk", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoStore:
    if request.param == "disk":
        return DiskPhotoStore(tmp_path)
    request.getfixturevalue("s3")
    return store_for(settings_for("", photo_store_url=f"s3://{BUCKET}/venue-1"))


async def test_each_store_keeps_returns_and_deletes_a_photo(store: PhotoStore) -> None:
    photo = image("PNG")
    key = await store.put(photo, "png")
    assert await store.get(key) == photo
    other = await store.put(photo, "png")
    assert other != key  # a new key each time: a cached photo never changes under its URL
    await store.delete(key)
    assert await store.get(key) is None
    assert await store.get(other) == photo
    for wrong in ("../settings.py", "products/x.png", "0" * 32 + ".gif", ""):
        assert await store.get(wrong) is None
        await store.delete(wrong)  # nothing to do, no error
    await store.delete(key)  # deleting twice is no error either


async def test_the_bucket_holds_photos_under_the_prefix(s3: Any) -> None:
    store = store_for(settings_for("", photo_store_url=f"s3://{BUCKET}/venue-1/"))
    assert isinstance(store, S3PhotoStore)
    key = await store.put(image("JPEG"), "jpg")
    assert _names(s3) == [f"venue-1/products/{key}"]
    stored = s3.get_object(Bucket=BUCKET, Key=f"venue-1/products/{key}")
    assert stored["ContentType"] == "image/jpeg"
    bare = store_for(settings_for("", photo_store_url=f"s3://{BUCKET}"))
    assert await bare.get(key) is None  # another prefix: another store
    assert isinstance(store_for(settings_for("")), DiskPhotoStore)


async def test_an_unreachable_bucket_is_an_error_not_a_missing_photo(s3: Any) -> None:
    store = store_for(settings_for("", photo_store_url="s3://no-such-bucket"))
    with pytest.raises(Exception, match="NoSuchBucket"):
        await store.put(image("PNG"), "png")


def test_a_malformed_store_url_is_refused_at_start() -> None:
    assert _photo_store_url(" s3://my-bucket/a/b ") == "s3://my-bucket/a/b"
    assert _photo_store_url("") == ""
    for wrong in ("my-bucket", "http://my-bucket", "s3://", "s3://A_B", "s3://b/../x y"):
        with pytest.raises(ValueError, match="PHOTO_STORE_URL"):
            _photo_store_url(wrong)
    bucket = settings_for("", photo_store_url="s3://my-bucket/a/b/").photo_bucket
    assert bucket == ("my-bucket", "a/b")


@pytest_asyncio.fixture
async def s3_admin(s3: Any, db: Database, venue: DemoVenue) -> AsyncIterator[Admin]:
    """The app with PHOTO_STORE_URL naming the bucket, and its administrator signed in."""
    from app import create_app
    from tests.api.test_bad_input import login

    application: Starlette = create_app(
        settings_for(db.url, photo_store_url=f"s3://{BUCKET}/menu"))
    async with application.router.lifespan_context(application), \
            client_for(application) as client:
        csrf = await login(client, *ADMIN)
        yield Admin(application, client, csrf, venue.site_id)


async def test_a_photo_uploaded_to_the_bucket_is_served_as_before(
    s3_admin: Admin, s3: Any, venue: DemoVenue
) -> None:
    admin = s3_admin
    menu = (await admin.http.get(f"/api/v1/sites/{admin.site}/menu")).json()
    product = menu["categories"][0]["products"][0]["id"]
    url = f"/backoffice/menu/products/{product}/photo"
    sent = await admin.post(url, files={"photo": ("x.jpg", image("JPEG"), "image/jpeg")})
    assert sent.status_code == 200, sent.text
    menu = (await admin.http.get(f"/api/v1/sites/{admin.site}/menu")).json()
    photo = menu["categories"][0]["products"][0]["photo"]
    key = photo.removeprefix("/media/products/")
    assert _names(s3) == [f"menu/products/{key}"]
    async with client_for(admin.app) as diner:  # a diner's browser: same URL, same headers
        served = await diner.get(photo)
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        assert "immutable" in served.headers["cache-control"]
        assert "img-src 'self'" in served.headers["content-security-policy"]
        assert sniff(served.content) == "jpeg"
        assert (await diner.get("/media/products/" + "0" * 32 + ".jpg")).status_code == 404
    replaced = await admin.post(url, files={"photo": ("y.png", image("PNG"), "image/png")})
    assert replaced.status_code == 200
    names = _names(s3)
    assert len(names) == 1 and names != [f"menu/products/{key}"]  # the old one deleted
    removed = await admin.post(f"{url}/delete")
    assert removed.status_code == 200 and _names(s3) == []
