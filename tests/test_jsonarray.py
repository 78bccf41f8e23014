"""The JSON-array framing: one event per element, the same for any split of the bytes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.wire.events import Event
from addon.wire.jsonarray import JSONArrayDecoder
from tests.oracles import CORPUS
from tests.streams import split_at

VERTEX = (
    CORPUS / "gemini" / "vertex" / "openinference__test_gemini_token_counts_streaming__0.jsonarray"
)


def decode(*chunks: bytes) -> tuple[list[Event], JSONArrayDecoder]:
    decoder = JSONArrayDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    events += decoder.close()
    return events, decoder


def texts(*chunks: bytes) -> list[str]:
    events, decoder = decode(*chunks)
    assert not decoder.errors
    return [e.data for e in events]


def google(elements: list[Any]) -> bytes:
    """The layout Google's servers send: pretty elements, a comma line between them."""
    return ("[" + "\n,\r\n".join(json.dumps(e, indent=2) for e in elements) + "\n]").encode()


def elements(count: int = 3) -> list[dict[str, Any]]:
    return [
        {
            "candidates": [{"content": {"parts": [{"text": f'piece {i} }}{{ " \\'}]}}],
            "usageMetadata": {"promptTokenCount": i, "details": [{"modality": "TEXT"}]},
        }
        for i in range(count)
    ]


# --- what the framing reads -------------------------------------------------------------


def test_recorded_vertex_array_gives_its_one_element() -> None:
    body = VERTEX.read_bytes()
    events, decoder = decode(body)
    assert [json.loads(e.data) for e in events] == json.loads(body)
    assert events[0].event == "message" and events[0].id is None
    assert not decoder.errors and not decoder.warnings


def test_google_layout_gives_each_element_as_sent() -> None:
    body = google(elements())
    assert texts(body) == [json.dumps(e, indent=2) for e in elements()]


@pytest.mark.parametrize("indent", [None, 0, 1, 2, 4, "\t"])
def test_an_array_dumped_with_any_indent_gives_its_elements(indent: Any) -> None:
    body = json.dumps(elements(), indent=indent).encode()
    assert [json.loads(t) for t in texts(body)] == elements()


def test_braces_quotes_and_backslashes_inside_strings_do_not_end_an_element() -> None:
    tricky = [{"a": '}\\"{', "b": {"c": ["}", "{", "\\\\"]}}, {"d": "\\"}]
    for body in (json.dumps(tricky).encode(), google(tricky)):
        assert [json.loads(t) for t in texts(body)] == tricky


def test_objects_nested_deeper_than_one_regex_call_skips_are_still_exact() -> None:
    deep: Any = {"leaf": "}"}
    for _ in range(40):
        deep = {"x": [deep, {"y": "{"}]}
    assert [json.loads(t) for t in texts(json.dumps([deep, deep]).encode())] == [deep, deep]


def test_an_empty_array_gives_nothing_and_no_error() -> None:
    assert texts(b"[]") == [] and texts(b" [ \n ] \n") == []


def test_a_leading_byte_order_mark_is_dropped_even_when_split() -> None:
    body = b"\xef\xbb\xbf" + google(elements(1))
    assert texts(body[:1], body[1:2], body[2:]) == texts(body[3:])


def test_a_plain_object_is_read_as_a_one_element_array_with_a_warning() -> None:
    events, decoder = decode(b'{"error": {"code": 400}}\n')
    assert [e.data for e in events] == ['{"error": {"code": 400}}']
    assert not decoder.errors
    assert decoder.warnings == ["the body is a JSON object, not an array: read as one"]


def test_a_comma_before_the_closing_bracket_is_a_warning() -> None:
    events, decoder = decode(b'[{"a": 1},]')
    assert len(events) == 1 and not decoder.errors
    assert decoder.warnings == ["a comma before the closing ] at byte 10"]


# --- cut and broken bodies --------------------------------------------------------------


def test_a_body_cut_inside_an_element_keeps_the_whole_ones_and_says_so() -> None:
    body = google(elements(3))
    third = body.index(json.dumps(elements(3)[2], indent=2).encode())
    cut = body.index(b'"piece 2')
    events, decoder = decode(body[:cut])
    assert [json.loads(e.data) for e in events] == elements(2)
    assert decoder.errors == [
        f"the body was cut inside element #3, after {cut - third} bytes of it; "
        "the 2 whole element(s) before it are kept"
    ]


def test_a_body_cut_after_an_element_has_no_closing_bracket() -> None:
    body = google(elements(2))
    events, decoder = decode(body[: body.rindex(b"}") + 1])
    assert len(events) == 2
    assert decoder.errors == ["the body was cut after 2 whole element(s): no closing ]"]


def test_junk_between_elements_is_reported_and_the_next_element_is_still_read() -> None:
    events, decoder = decode(b'[{"a": 1}, garbage {"b": 2}]')
    assert [e.data for e in events] == ['{"a": 1}', '{"b": 2}']
    assert decoder.errors == [
        "bytes that belong to no array element at byte 11 (b'garbage {\"b\": 2}]'); "
        "skipped to the next {"
    ]


def test_a_missing_comma_is_reported_and_the_element_kept() -> None:
    events, decoder = decode(b'[{"a": 1} {"b": 2}]')
    assert len(events) == 2
    assert decoder.errors == ["no comma before the element at byte 10"]


def test_bytes_after_the_closing_bracket_are_reported_once() -> None:
    events, decoder = decode(b'[{"a": 1}] x', b"yz")
    assert len(events) == 1
    assert decoder.errors == ["bytes after the closing ] at byte 11; ignored"]


def test_a_body_that_is_no_array_says_so() -> None:
    events, decoder = decode(b"<html>Service Unavailable</html>")
    assert events == []
    assert "no JSON array in the body" in decoder.errors


def test_invalid_utf8_in_an_element_is_replaced_and_reported() -> None:
    events, decoder = decode(b'[{"a": "\xff"}]')
    assert events[0].data == '{"a": "\ufffd"}'
    assert decoder.errors == [
        "element #1 is not valid UTF-8 (at byte 7 of it); decoded with U+FFFD"
    ]


def test_an_empty_body_is_not_an_error() -> None:
    events, decoder = decode(b"")
    assert events == [] and not decoder.errors


# --- any chunking -----------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(alphabet=st.sampled_from('ab{}[]",:\\ \n\té🎉'), max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='k{}"\\', max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)
arrays = st.lists(st.dictionaries(st.text(max_size=3), json_values, max_size=4), max_size=4)
layouts = st.sampled_from(["google", "compact", "spaced", "indent0", "indent2", "lines"])


def layout(values: list[Any], kind: str) -> bytes:
    if kind == "google":
        return google(values)
    if kind == "compact":
        return json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
    if kind == "spaced":
        return json.dumps(values, ensure_ascii=False).encode()
    if kind == "lines":
        return ("[" + ",\n".join(json.dumps(v) for v in values) + "]\n").encode()
    return json.dumps(values, indent=0 if kind == "indent0" else 2).encode()


@settings(max_examples=150, deadline=None)
@given(values=arrays, kind=layouts, cuts=st.lists(st.integers(0, 2000), max_size=8))
def test_any_chunking_gives_the_same_elements(values: Any, kind: str, cuts: list[int]) -> None:
    body = layout(values, kind)
    whole, decoder = decode(body)
    assert not decoder.errors
    assert [json.loads(e.data) for e in whole] == values
    split, split_decoder = decode(*split_at(body, cuts))
    assert split == whole
    assert not split_decoder.errors and split_decoder.warnings == decoder.warnings


@settings(max_examples=60, deadline=None)
@given(values=arrays.filter(bool), kind=layouts, cut=st.integers(1, 2000))
def test_a_cut_body_keeps_exactly_the_elements_before_the_cut(
    values: Any, kind: str, cut: int
) -> None:
    body = layout(values, kind)
    cut = min(cut, body.rindex(b"]"))
    events, decoder = decode(body[:cut])
    whole = [json.loads(e.data) for e in events]
    assert whole == values[: len(whole)]
    assert len(decoder.errors) == 1 and decoder.errors[0].startswith("the body was cut")


def test_one_byte_at_a_time_gives_the_same_elements() -> None:
    body = google(elements(4)) + b"\n"
    assert texts(*(body[i : i + 1] for i in range(len(body)))) == texts(body)


def test_a_layout_change_midway_gives_the_same_elements_as_byte_by_byte() -> None:
    pretty = [json.dumps(e, indent=2) for e in elements(5)]
    pieces = [*pretty[:3], '{"compact": {"x": "}"}}', *pretty[3:], "{\n}", pretty[0]]
    body = ("[" + "\n,\r\n".join(pieces) + "\n]").encode()
    whole = texts(body)
    assert [json.loads(t) for t in whole] == [json.loads(p) for p in pieces]
    assert texts(*(body[i : i + 1] for i in range(len(body)))) == whole
