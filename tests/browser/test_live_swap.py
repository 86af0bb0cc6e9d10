"""A live swap of a fragment must not undo what the person is typing: the value, the
focus and where the caret is carry over to the same control in the new HTML."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Venue

pytestmark = pytest.mark.browser

SWAP = """([start, end]) => {
    const root = document.createElement("div");
    root.id = "probe";
    root.innerHTML = '<form><input name="price" value="1,10"></form>';
    document.body.appendChild(root);
    const input = root.querySelector("input");
    input.focus();
    input.setSelectionRange(start, end);
    const kept = window.comptoir.keep(root);
    root.innerHTML = '<form><input name="price" value="1,10"></form>';  // the live event
    window.comptoir.restore(root, kept);
    const now = root.querySelector("input");
    return [document.activeElement === now, now.selectionStart, now.selectionEnd];
}"""


def test_a_swap_keeps_the_caret_where_the_person_was_typing(
    venue_server: Venue, phone: Callable[[], Page]
) -> None:
    page = phone()
    page.goto(venue_server.table_url(0))
    page.wait_for_function("() => window.comptoir && window.comptoir.keep")

    # Everything selected (as a field is when tabbed into): typing replaces it.
    assert page.evaluate(SWAP, [0, 4]) == [True, 0, 4]
    page.keyboard.type("abc")
    assert page.input_value("#probe input") == "abc"

    # The caret in the middle of the value: typing goes on there.
    page.evaluate("() => document.getElementById('probe').remove()")
    assert page.evaluate(SWAP, [2, 2]) == [True, 2, 2]
    page.keyboard.type("9")
    assert page.input_value("#probe input") == "1,910"
