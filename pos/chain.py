"""Hash chains: each record's hash covers the previous hash and its legal fields.

hash = SHA-256(previous hash, as its 64 hexadecimal characters in ASCII
              + the canonical encoding of the record's fields)

The canonical encoding is JSON with sorted keys, no spaces, UTF-8, and integers only for
numbers (money in cents, rates in basis points): a float would not encode the same way
everywhere, so it is refused. The first record of a chain follows GENESIS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def _no_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("canonical encoding takes integers, not floats")
    if isinstance(value, Mapping):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _no_floats(item)


def canonical(fields: Mapping[str, Any]) -> bytes:
    _no_floats(fields)
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def link(previous: str, fields: Mapping[str, Any]) -> str:
    """The hash of a record that follows `previous`."""
    return hashlib.sha256(previous.encode("ascii") + canonical(fields)).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A chained record as stored: its position (from 1), fields and hashes."""

    position: int
    fields: Mapping[str, Any]
    previous_hash: str
    hash: str


# What a break says, by its reason.
REASONS = {
    "missing": "a record is missing before it",
    "previous": "its previous hash is not the hash of the record before it",
    "hash": "its content does not match its hash",
    "signature": "its signature does not match the company's public key",
    "unchained": "it is in no chain",
    "sealed": "the chain no longer holds what this closing sealed",
}


@dataclass(frozen=True)
class Break:
    position: int  # the position where the chain stops matching
    reason: str  # missing, previous, hash
    index: int  # the entry found there, in the order walked


def first_break(entries: Iterable[Entry], start: str = GENESIS, first: int = 1) -> Break | None:
    """Where the chain stops matching, walking it in position order; None when it is whole.

    `start` and `first`: the hash and position it continues from (an archive of a period
    starts in the middle of a chain)."""
    previous, expected = start, first
    for index, entry in enumerate(entries):
        if entry.position != expected:
            return Break(expected, "missing", index)
        if entry.previous_hash != previous:
            return Break(entry.position, "previous", index)
        if link(previous, entry.fields) != entry.hash:
            return Break(entry.position, "hash", index)
        previous, expected = entry.hash, expected + 1
    return None
