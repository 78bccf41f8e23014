"""The AWS event-stream decoder: against botocore's own parser, any chunking, and bad input."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from botocore.eventstream import EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.wire import Event
from addon.wire.eventstream import EventStreamDecoder, parse_headers
from tests.bedrock_streams import (
    BOOL_FALSE,
    BOOL_TRUE,
    BYTE,
    BYTES,
    INT,
    LONG,
    SHORT,
    STRING,
    TIMESTAMP,
    UUID_TYPE,
    chunk_frame,
    event_frame,
    exception_frame,
    frame,
    header,
)
from tests.oracles import CORPUS

BODIES = sorted((CORPUS / "bedrock").rglob("*.eventstream"))


def decode(body: bytes, sizes: list[int] | None = None) -> tuple[list[Event], EventStreamDecoder]:
    """All events of `body` fed in pieces of the given sizes (the rest in one piece)."""
    decoder = EventStreamDecoder()
    events: list[Event] = []
    at = 0
    for size in sizes or []:
        events += decoder.feed(body[at : at + size])
        at += size
    events += decoder.feed(body[at:])
    events += decoder.close()
    return events, decoder


def frames_of(body: bytes, sizes: list[int] | None = None) -> list[tuple[dict[str, Any], bytes]]:
    decoder = EventStreamDecoder()
    found = []
    at = 0
    for size in [*(sizes or []), len(body)]:
        found += decoder.feed_frames(body[at : at + size])
        at += size
    decoder.close()
    assert not decoder.errors
    return [(dict(f.headers), f.payload) for f in found]


def botocore_frames(body: bytes) -> list[tuple[dict[str, Any], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(body)
    return [(dict(m.headers), m.payload) for m in buffer]


def as_botocore(headers: dict[str, Any]) -> dict[str, Any]:
    """botocore gives a uuid header as its 16 bytes; here it is a `UUID`."""
    return {k: v.bytes if isinstance(v, UUID) else v for k, v in headers.items()}


# Against botocore ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BODIES, ids=lambda p: p.name)
def test_corpus_body_gives_the_frames_botocore_reads(path: Path) -> None:
    body = path.read_bytes()
    ours = [(as_botocore(h), p) for h, p in frames_of(body)]
    assert ours == botocore_frames(body)


@pytest.mark.parametrize("path", BODIES, ids=lambda p: p.name)
def test_corpus_event_frames_become_events_named_by_event_type(path: Path) -> None:
    events, decoder = decode(path.read_bytes())
    expected = [
        Event(h[":event-type"], p.decode())
        for h, p in botocore_frames(path.read_bytes())
        if h[":message-type"] == "event"
    ]
    assert [e for e in events if not e.event.endswith("Exception")] == expected
    assert decoder.frames == len(events)


header_values = st.one_of(
    st.tuples(st.just(BOOL_TRUE), st.just(True)),
    st.tuples(st.just(BOOL_FALSE), st.just(False)),
    st.tuples(st.just(BYTE), st.integers(-(2**7), 2**7 - 1)),
    st.tuples(st.just(SHORT), st.integers(-(2**15), 2**15 - 1)),
    st.tuples(st.just(INT), st.integers(-(2**31), 2**31 - 1)),
    st.tuples(st.just(LONG), st.integers(-(2**63), 2**63 - 1)),
    st.tuples(st.just(BYTES), st.binary(max_size=300)),
    st.tuples(st.just(STRING), st.text(max_size=100)),
    st.tuples(st.just(TIMESTAMP), st.integers(-(2**63), 2**63 - 1)),
    st.tuples(st.just(UUID_TYPE), st.uuids()),
)
frames_strategy = st.lists(
    st.tuples(
        st.dictionaries(st.text(min_size=1, max_size=20), header_values, max_size=6),
        st.binary(max_size=200),
    ),
    min_size=1,
    max_size=6,
)


def encode(frames: list[tuple[dict[str, tuple[int, Any]], bytes]]) -> bytes:
    return b"".join(
        frame([(name, kind, value) for name, (kind, value) in headers.items()], payload)
        for headers, payload in frames
    )


@settings(max_examples=150, deadline=None)
@given(frames_strategy, st.data())
def test_every_header_type_and_any_chunking_give_the_same_frames(
    frames: list[tuple[dict[str, tuple[int, Any]], bytes]], data: st.DataObject
) -> None:
    body = encode(frames)
    sizes = data.draw(st.lists(st.integers(0, 40), max_size=30))
    decoded = frames_of(body, sizes)
    expected = [({n: v for n, (_, v) in h.items()}, p) for h, p in frames]
    assert decoded == expected
    assert [(as_botocore(h), p) for h, p in decoded] == botocore_frames(body)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 64), max_size=200))
def test_any_chunking_of_a_recorded_stream_gives_the_same_events(sizes: list[int]) -> None:
    body = (
        CORPUS / "bedrock/converse/ddtrace__bedrock_converse_stream__0.eventstream"
    ).read_bytes()
    assert decode(body, sizes)[0] == decode(body)[0]


def test_one_byte_at_a_time_gives_the_same_events() -> None:
    body = b"".join(p.read_bytes() for p in BODIES[:4])
    assert decode(body, [1] * len(body))[0] == decode(body)[0]


def test_header_values_have_their_types() -> None:
    block = b"".join(
        [
            header("t", BOOL_TRUE),
            header("f", BOOL_FALSE),
            header("b", BYTE, -5),
            header("s", SHORT, -300),
            header("i", INT, 70000),
            header("l", LONG, -(2**40)),
            header("a", BYTES, b"\x00\xff"),
            header("u8", STRING, "héllo"),
            header("ts", TIMESTAMP, 1_700_000_000_123),
            header("id", UUID_TYPE, UUID(int=7)),
        ]
    )
    assert parse_headers(block) == {
        "t": True,
        "f": False,
        "b": -5,
        "s": -300,
        "i": 70000,
        "l": -(2**40),
        "a": b"\x00\xff",
        "u8": "héllo",
        "ts": 1_700_000_000_123,
        "id": UUID(int=7),
    }


def test_a_large_body_in_one_feed_gives_every_frame() -> None:
    body = b"".join(event_frame("contentBlockDelta", {"i": i}) for i in range(20_000))
    events, decoder = decode(body)
    assert len(events) == decoder.frames == 20_000
    assert events[-1] == Event("contentBlockDelta", '{"i":19999}')
    assert not decoder.errors


def test_repeated_header_blocks_are_shared_and_read_only() -> None:
    decoder = EventStreamDecoder()
    first, second = decoder.feed_frames(event_frame("x", {}) + event_frame("x", {}))
    assert first.headers is second.headers
    with pytest.raises(TypeError):
        first.headers[":event-type"] = "y"  # type: ignore[index]


# Exceptions and errors ------------------------------------------------------------------------


def test_exception_frame_is_an_error_and_an_event_named_by_its_type() -> None:
    body = event_frame("messageStart", {"role": "assistant"}) + exception_frame(
        "throttlingException", "Too many requests"
    )
    events, decoder = decode(body)
    assert events[1] == Event("throttlingException", '{"message":"Too many requests"}')
    assert decoder.errors == ["throttlingException: Too many requests"]


@pytest.mark.parametrize(
    "kind",
    [
        "modelStreamErrorException",
        "validationException",
        "internalServerException",
        "serviceUnavailableException",
        "modelTimeoutException",
    ],
)
def test_every_bedrock_exception_type_is_reported(kind: str) -> None:
    events, decoder = decode(exception_frame(kind, "it broke"))
    assert events == [Event(kind, '{"message":"it broke"}')]
    assert decoder.errors == [f"{kind}: it broke"]


def test_error_frame_is_reported_with_its_code_and_message() -> None:
    body = frame(
        [
            (":message-type", STRING, "error"),
            (":error-code", STRING, "InternalFailure"),
            (":error-message", STRING, "try again"),
        ],
        b"",
    )
    events, decoder = decode(body)
    assert decoder.errors == ["InternalFailure: try again"]
    assert events == [Event("InternalFailure", '{"message":"try again"}')]


# Broken bodies --------------------------------------------------------------------------------


def test_bad_message_crc_drops_that_frame_only() -> None:
    good = event_frame("a", {"n": 1})
    body = good + event_frame("b", {"n": 2}, bad_message_crc=True) + event_frame("c", {})
    events, decoder = decode(body)
    assert [e.event for e in events] == ["a", "c"]
    assert decoder.errors == [
        f"frame at byte {len(good)}: message checksum does not match; its "
        f"{len(event_frame('b', {'n': 2}))} bytes were dropped"
    ]


def test_bad_prelude_crc_keeps_what_came_before_and_stops() -> None:
    good = event_frame("a", {})
    bad = event_frame("b", {}, bad_prelude_crc=True)
    events, decoder = decode(good + bad + event_frame("c", {}))
    assert [e.event for e in events] == ["a"]
    assert len(decoder.errors) == 1
    assert decoder.errors[0].startswith(
        f"no frame at byte {len(good)}: its prelude checksum does not match"
    )


def test_body_cut_inside_a_frame_is_an_error_at_close() -> None:
    body = event_frame("a", {}) + event_frame("b", {"text": "cut here"})
    for cut in (1, 11, 12, 20, 5):
        events, decoder = decode(body[:-cut])
        assert [e.event for e in events] == ["a"]
        assert len(decoder.errors) == 1
        assert decoder.errors[0].startswith("body ended inside a frame at byte")


def test_body_that_is_not_an_event_stream_is_an_error() -> None:
    events, decoder = decode(b'{"message": "The security token included is expired"}')
    assert events == []
    assert decoder.errors[0].startswith("no AWS event-stream frame at byte 0")


def test_empty_body_is_no_error() -> None:
    events, decoder = decode(b"")
    assert (events, decoder.errors) == ([], [])


def test_impossible_lengths_stop_decoding() -> None:
    body = frame([], b"x")
    broken = body[:4] + (10**6).to_bytes(4, "big") + body[8:]  # headers longer than the frame
    broken = broken[:8] + zlib.crc32(broken[:8]).to_bytes(4, "big") + broken[12:]
    events, decoder = decode(broken)
    assert events == []
    assert "lengths do not fit" in decoder.errors[0]


def test_malformed_headers_drop_the_frame() -> None:
    body = frame(header("x", STRING, "ok")[:-1], b"{}") + event_frame("next", {})
    events, decoder = decode(body)
    assert [e.event for e in events] == ["next"]
    assert "cut short" in decoder.errors[0] or "runs past" in decoder.errors[0]


def test_unknown_header_type_drops_the_frame() -> None:
    body = frame(b"\x01x\x0a", b"{}")
    events, decoder = decode(body)
    assert events == []
    assert "unknown value type 10" in decoder.errors[0]


def test_invalid_utf8_payload_is_an_error_and_replaced() -> None:
    events, decoder = decode(event_frame("a", b'{"t": "\xff"}'))
    assert events == [Event("a", '{"t": "\ufffd"}')]
    assert decoder.errors == ["frame at byte 0: payload is not UTF-8; decoded as U+FFFD"]


def test_bytes_seen_counts_every_byte() -> None:
    body = chunk_frame({"x": 1}) * 3
    _, decoder = decode(body, [5, 7])
    assert decoder.bytes_seen == len(body)
    assert orjson.loads(decode(body)[0][0].data)["p"] == "abcdefghij"
