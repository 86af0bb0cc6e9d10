"""The chain's pure rules: one canonical encoding, and each kind of break found."""

from __future__ import annotations

import pytest

from pos.chain import GENESIS, Entry, canonical, first_break, link


def test_the_canonical_encoding_sorts_keys_drops_spaces_and_keeps_accents():
    assert canonical({"b": 1, "a": {"d": [1, 2], "c": "Café"}}) == (
        '{"a":{"c":"Café","d":[1,2]},"b":1}'.encode())


def test_money_as_a_float_is_refused():
    with pytest.raises(TypeError):
        canonical({"total": 1.5})


def chain_of(*records: dict[str, int]) -> list[Entry]:
    entries, previous = [], GENESIS
    for position, fields in enumerate(records, start=1):
        entries.append(Entry(position, fields, previous, link(previous, fields)))
        previous = entries[-1].hash
    return entries


def test_a_whole_chain_has_no_break_and_each_break_is_named():
    entries = chain_of({"n": 1}, {"n": 2}, {"n": 3})
    assert first_break(entries) is None
    changed = [entries[0], Entry(2, {"n": 20}, entries[1].previous_hash, entries[1].hash),
               entries[2]]
    assert (first_break(changed).position, first_break(changed).reason) == (2, "hash")
    gone = [entries[0], entries[2]]
    assert (first_break(gone).position, first_break(gone).reason) == (2, "missing")
    relinked = [entries[0], Entry(2, entries[2].fields, entries[1].hash,
                                  link(entries[1].hash, entries[2].fields))]
    assert (first_break(relinked).position, first_break(relinked).reason) == (2, "previous")


def test_a_chain_can_be_checked_from_its_middle():
    entries = chain_of({"n": 1}, {"n": 2}, {"n": 3})
    assert first_break(entries[1:], entries[0].hash, 2) is None
    assert first_break(entries[1:]) is not None
