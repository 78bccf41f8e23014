"""The NDJSON framing: one event per line, the same for any split of the bytes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from addon.wire.events import Event
from addon.wire.ndjson import NDJSONDecoder
from tests.oracles import CORPUS
from tests.streams import split_at

STREAMS = sorted((CORPUS / "ollama" / "stream").glob("*.ndjson"))


def decode(*chunks: bytes) -> tuple[list[Event], NDJSONDecoder]:
    decoder = NDJSONDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    events += decoder.close()
    return events, decoder


def test_every_recorded_ollama_stream_gives_one_event_per_line() -> None:
    assert len(STREAMS) == 5
    for path in STREAMS:
        body = path.read_bytes()
        events, decoder = decode(body)
        assert [e.data for e in events] == body.decode().splitlines()
        assert {e.event for e in events} == {"message"}
        assert not decoder.errors and not decoder.warnings


def test_crlf_line_ends_and_blank_lines_are_tolerated() -> None:
    events, decoder = decode(b'{"a": 1}\r\n\r\n  \n{"b": 2}\r\n\n')
    assert [e.data for e in events] == ['{"a": 1}', '{"b": 2}']
    assert not decoder.errors and not decoder.warnings


def test_a_crlf_split_between_chunks_is_one_line_end() -> None:
    events, _ = decode(b'{"a": 1}\r', b'\n{"b": 2}\r', b"\n")
    assert [e.data for e in events] == ['{"a": 1}', '{"b": 2}']


def test_a_whole_last_line_without_a_line_end_is_kept_with_a_warning() -> None:
    events, decoder = decode(b'{"a": 1}\n{"done": true}')
    assert [e.data for e in events] == ['{"a": 1}', '{"done": true}']
    assert not decoder.errors
    assert decoder.warnings == ["the last line had no line end after it"]


def test_a_cut_last_line_is_an_error_and_not_an_event() -> None:
    events, decoder = decode(b'{"a": 1}\n{"message": {"content": "Hel')
    assert [e.data for e in events] == ['{"a": 1}']
    assert decoder.errors == [
        "the body was cut inside its last line (28 bytes that are not whole JSON: "
        'b\'{"message": {"content": "Hel\'...); the 1 line(s) before it are kept'
    ]


def test_a_line_that_is_not_json_is_still_an_event_for_the_accumulator_to_judge() -> None:
    events, decoder = decode(b"not json\n")
    assert [e.data for e in events] == ["not json"]
    assert not decoder.errors


def test_invalid_utf8_is_replaced_and_reported_with_its_offset() -> None:
    events, decoder = decode(b'{"a": 1}\n{"b": "\xff"}\n')
    assert events[1].data == '{"b": "\ufffd"}'
    assert decoder.errors == ["invalid UTF-8 at byte 16; decoded as U+FFFD"]


def test_a_long_line_over_many_chunks_is_joined_once() -> None:
    line = json.dumps({"response": "x" * 5000}).encode()
    chunks = [line[i : i + 7] for i in range(0, len(line), 7)] + [b"\n"]
    events, _ = decode(*chunks)
    assert [e.data for e in events] == [line.decode()]


lines = st.lists(
    st.dictionaries(st.text(max_size=4), st.text(alphabet='ab"\\\r é\u2028', max_size=6)),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    values=lines,
    crlf=st.booleans(),
    final_newline=st.booleans(),
    cuts=st.lists(st.integers(0, 400), max_size=8),
)
def test_any_chunking_gives_the_same_events(
    values: list[Any], crlf: bool, final_newline: bool, cuts: list[int]
) -> None:
    end = "\r\n" if crlf else "\n"
    body = end.join(json.dumps(v, ensure_ascii=False) for v in values)
    body_bytes = (body + end if final_newline and values else body).encode()
    whole, decoder = decode(body_bytes)
    assert [json.loads(e.data) for e in whole] == values
    assert not decoder.errors
    split, split_decoder = decode(*split_at(body_bytes, cuts))
    assert split == whole and split_decoder.warnings == decoder.warnings
