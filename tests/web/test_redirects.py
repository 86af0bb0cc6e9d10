"""Where a redirect may lead: paths of this site only, whatever encoding hides a host."""

from __future__ import annotations

import pytest

from web.redirects import offsite_or_path, safe_path

# Each would take a browser to another site (or is not a path of ours at all).
ELSEWHERE = [
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example",
    "/%5Cevil.example/phish",
    "/%5cevil.example/phish",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%255Cevil.example",  # decoded twice
    "/%25252F%25252Fevil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "//%09evil.example",
    "/\t/evil.example",  # browsers drop tabs and newlines inside URLs
    "/\n/evil.example",
    "/%09/evil.example",
    "/%0d%0a/evil.example",
    "/\x00/evil.example",
    "/ /evil.example",
    "evil.example",
    "",
    "/é",
    "/" + "a" * 3000,
]
OURS = ["/", "/account", "/m/AbC-123_x", "/t/tok?x=1&y=%20z", "/pay/test/test_1?back=/m/x",
        "/staff/machines#top"]


@pytest.mark.parametrize("value", ELSEWHERE)
def test_a_path_leading_elsewhere_is_replaced_by_the_default(value: str) -> None:
    assert safe_path(value, "/account") == "/account"


@pytest.mark.parametrize("value", OURS)
def test_a_path_of_this_site_is_kept_as_it_is(value: str) -> None:
    assert safe_path(value, "/account") == value


def test_anything_but_a_string_is_the_default() -> None:
    assert safe_path(None, "/x") == "/x"
    assert safe_path(["/account"], "/x") == "/x"


def test_a_providers_checkout_page_is_an_https_url_and_nothing_looser() -> None:
    stripe = "https://checkout.stripe.com/c/pay/cs_test_1"
    assert offsite_or_path(stripe) == stripe
    assert offsite_or_path("/pay/test/test_1?back=/account") == "/pay/test/test_1?back=/account"
    for value in ("http://checkout.example/", "https://user:pw@evil.example/",
                  "https://evil.example/\\x", "https:///x", "//evil.example", "/\\evil"):
        assert offsite_or_path(value, "/") == "/", value
