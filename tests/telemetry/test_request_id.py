"""A request's id: a sane one from the client or proxy is kept, anything else replaced."""

from __future__ import annotations

import re

import pytest

from telemetry import request_id


@pytest.mark.parametrize("given", ["3f2a9c0e4b", "req-42.a:b_C", "a" * 128])
def test_a_sane_id_is_kept(given: str) -> None:
    assert request_id.adopt(given) == given


@pytest.mark.parametrize(
    "given", [None, "", "a" * 129, "two words", "line\nbreak", '{"json": 1}', "é"]
)
def test_anything_else_gets_a_new_id(given: str | None) -> None:
    made = request_id.adopt(given)
    assert made != given and re.fullmatch(r"[0-9a-f]{32}", made)


def test_bound_for_a_block_only() -> None:
    assert request_id.current() is None
    with request_id.bound("outer"):
        with request_id.bound("inner"):
            assert request_id.current() == "inner"
        assert request_id.current() == "outer"
    assert request_id.current() is None
