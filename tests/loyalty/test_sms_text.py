"""An SMS's length, its STOP line and its sender name: pure rules, no database."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.sms_errors import BadSenderName
from loyalty.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    Encoding,
    Length,
    check_sender,
    commercial,
    encoding_of,
    measure,
    stop_line,
)

GSM, UCS = Encoding.GSM7, Encoding.UCS2


@pytest.mark.parametrize(("text", "expected"), [
    ("", Length(GSM, 0, 0, 160)),
    ("a" * 160, Length(GSM, 160, 1, 0)),
    ("a" * 161, Length(GSM, 161, 2, 145)),
    ("a" * 306, Length(GSM, 306, 2, 0)),
    ("a" * 307, Length(GSM, 307, 3, 152)),
    ("é" * 70, Length(GSM, 70, 1, 90)),  # é is GSM-7: a French text may stay at 160
    ("ê" * 70, Length(UCS, 70, 1, 0)),
    ("ê" * 71, Length(UCS, 71, 2, 63)),
    ("ê" * 134, Length(UCS, 134, 2, 0)),
    ("ê" * 135, Length(UCS, 135, 3, 66)),
])
def test_lengths_at_each_threshold(text: str, expected: Length) -> None:
    assert measure(text) == expected


def test_the_extension_table_counts_double_in_gsm7() -> None:
    for char in "^{}\\[~]|€\f":
        assert measure(char) == Length(GSM, 2, 1, 158)
    assert measure("a" * 159 + "€") == Length(GSM, 161, 2, 145)  # 160 characters, 2 parts
    assert measure("a" * 158 + "€") == Length(GSM, 160, 1, 0)


def test_an_escape_pair_is_never_split_across_parts() -> None:
    # 152 septets, then € needs 2: the first part ends one septet short.
    split = measure("a" * 152 + "€" + "a" * 10)
    assert (split.parts, split.units, split.left) == (2, 164, 153 - 12)
    fits = measure("a" * 151 + "€" + "a" * 10)  # 151 + 2 = 153 exactly
    assert (fits.parts, fits.left) == (2, 153 - 10)
    # Each of the two parts of 306 septets loses one to a pair at its boundary.
    assert measure(("a" * 152 + "€") * 2).parts == 3


def test_one_character_outside_gsm7_makes_the_whole_text_ucs2() -> None:
    for char in "çâêîôûëïœ«»’😀":
        assert encoding_of("Bonjour " + char) is UCS
    assert encoding_of("Café à 2€ {ok} ÇÉèù") is GSM
    assert measure("a" * 69 + "ç").parts == 1
    assert measure("a" * 70 + "ç").parts == 2


def test_an_emoji_counts_two_and_is_never_split() -> None:
    assert measure("😀") == Length(UCS, 2, 1, 68)
    assert measure("😀" * 35) == Length(UCS, 70, 1, 0)
    assert measure("😀" * 36) == Length(UCS, 72, 2, 61)  # 33 emoji fill 66 of 67
    assert measure("a" * 66 + "😀" + "aaa") == Length(UCS, 71, 2, 62)
    # 134 units would fill two parts exactly, but the pair cannot straddle the first.
    assert measure("a" * 66 + "😀" + "a" * 66).parts == 3
    assert measure("a" + "😀" * 34).units == 69


def test_the_stop_line_ends_the_text_once_and_is_counted() -> None:
    stop = stop_line("36173")
    assert stop == "STOP au 36173"
    sms = commercial("Happy hour dès 18h !", stop)
    assert sms.text == "Happy hour dès 18h !\nSTOP au 36173"
    assert sms.length == measure(sms.text)
    assert commercial(sms.text, stop).text == sms.text  # not added twice
    # A body that fits alone takes two parts with its mention.
    body = "a" * 150
    assert measure(body).parts == 1
    assert commercial(body, stop).length.parts == 2
    assert commercial("", stop).text == stop


@pytest.mark.parametrize("name", ["Cafe", "LeComptoir1", "BAR2000", "abcdefghijk", "  Cafe "])
def test_sender_names_operators_accept(name: str) -> None:
    assert check_sender(name) == name.strip()


@pytest.mark.parametrize("name", [
    "Bar",  # 3 characters
    "LeComptoir12",  # 12
    "12345",  # no letter: it would pass for a number
    "Café",  # no accents
    "Le-Bar", "Bar!", "Bar_1",
    "Le Bar",  # a space where the provider takes none
    "",
])
def test_sender_names_refused(name: str) -> None:
    with pytest.raises(BadSenderName):
        check_sender(name)


def test_spaces_in_a_sender_name_where_the_provider_takes_them() -> None:
    assert check_sender("Le Bar", spaces=True) == "Le Bar"
    assert check_sender("Chez Ana 2", spaces=True) == "Chez Ana 2"
    for name in ("Le  Bar", "Le Comptoir1", "1 2 3"):
        with pytest.raises(BadSenderName):
            check_sender(name, spaces=True)


def reference(text: str) -> tuple[int, int]:
    """Another splitter, on the encoded bytes as a modem would cut them: GSM-7 as one
    byte a septet (an escape before an extension character), parts cut at 153 and moved
    back one when they would end on an escape; UCS-2 as UTF-16 cut at 67 code units and
    moved back one when they would end on a high surrogate. Its parts, and the units left
    in the last one."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        units = [b for c in text for b in ((0x1B, 0x41) if c in GSM7_EXTENSION else (0x41,))]
        single, size, pair_starts = 160, 153, range(0x1B, 0x1C)  # the escape
    else:
        raw = text.encode("utf-16-be")
        units = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
        single, size, pair_starts = 70, 67, range(0xD800, 0xDC00)  # high surrogates
    if len(units) <= single:
        return (1 if units else 0), single - len(units)
    parts, start, last = 0, 0, 0
    while start < len(units):
        end = min(start + size, len(units))
        if end < len(units) and units[end - 1] in pair_starts:
            end -= 1
        parts, start, last = parts + 1, end, end - start
    return parts, size - last


ALPHABET = st.sampled_from("aé€{ \n") | st.sampled_from("ç😀") | st.characters()


# Texts that reach the first part's boundary: plain characters up to it, then pairs among
# others.
@settings(max_examples=60, deadline=None)
@given(st.integers(148, 153), st.text(alphabet=st.sampled_from("a€^"), min_size=8, max_size=200))
def test_gsm7_parts_match_a_reference_splitter(plain: int, tail: str) -> None:
    text = "a" * plain + tail
    length = measure(text)
    assert (length.parts, length.left) == reference(text)


@settings(max_examples=60, deadline=None)
@given(st.integers(62, 66), st.text(alphabet=st.sampled_from("aç😀"), min_size=4, max_size=100))
def test_ucs2_parts_match_a_reference_splitter(plain: int, tail: str) -> None:
    text = "ç" + "a" * plain + tail
    length = measure(text)
    assert (length.parts, length.left) == reference(text)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=240))
def test_any_text_parts_match_a_reference_splitter(text: str) -> None:
    length = measure(text)
    assert (length.parts, length.left) == reference(text)
    assert 0 <= length.left <= (160 if length.encoding is GSM else 70)
