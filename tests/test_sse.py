"""The SSE decoder: WHATWG rules, and the same events for any split of the bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.wire.sse import ServerSentEvent, SSEDecoder
from tests.oracles import CORPUS
from tests.streams import split_at


def decode(*chunks: bytes) -> tuple[list[ServerSentEvent], SSEDecoder]:
    decoder = SSEDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    events += decoder.close()
    return events, decoder


def test_data_lines_are_joined_with_newline_and_event_defaults_to_message():
    events, _ = decode(b"data: a\ndata: b\n\n")
    assert events == [ServerSentEvent("message", "a\nb")]


def test_event_id_and_retry_fields_are_read():
    events, _ = decode(b"event: ping\nid: 7\nretry: 1500\ndata: {}\n\n")
    assert events == [ServerSentEvent("ping", "{}", "7", 1500)]


def test_last_event_id_carries_over_to_later_events():
    events, _ = decode(b"id: 1\ndata: a\n\ndata: b\n\n")
    assert [e.id for e in events] == ["1", "1"]


def test_id_with_nul_and_non_numeric_retry_are_ignored():
    events, _ = decode(b"id: a\x00b\nretry: 12x\ndata: z\n\n")
    assert events == [ServerSentEvent("message", "z", None, None)]


def test_value_without_space_after_colon_and_only_one_space_stripped():
    events, _ = decode(b"data:x\n\ndata:  y\n\n")
    assert [e.data for e in events] == ["x", " y"]


def test_field_without_colon_has_empty_value():
    events, _ = decode(b"data\ndata\n\n")
    assert events[0].data == "\n"


def test_comments_and_unknown_fields_are_ignored():
    events, _ = decode(b": keep-alive\nfoo: bar\ndata: 1\n\n: tail\n\n")
    assert events == [ServerSentEvent("message", "1")]


def test_cr_crlf_and_lf_line_ends_are_all_line_ends():
    events, _ = decode(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n")
    assert [e.data for e in events] == ["a", "b", "c"]


def test_crlf_split_across_chunks_is_one_line_end():
    events, _ = decode(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n")
    assert events == [ServerSentEvent("message", "a\nb")]


def test_event_ended_by_lone_cr_is_dispatched_without_waiting_for_next_chunk():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [ServerSentEvent("message", "a")]


def test_leading_bom_is_stripped_once():
    events, _ = decode(b"\xef\xbb", b"\xbfdata: a\n\n")
    assert events[0].data == "a"
    events, _ = decode(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n")
    assert events == []  # the second BOM makes the field name unknown, as the spec says


def test_utf8_character_split_across_chunks_is_kept_whole():
    raw = "data: héllo ✓ 🎉\n\n".encode()
    cut = raw.index("🎉".encode()) + 2
    events, decoder = decode(raw[:cut], raw[cut:])
    assert events[0].data == "héllo ✓ 🎉"
    assert decoder.invalid_utf8_at is None


def test_invalid_utf8_becomes_replacement_character_and_is_reported():
    events, decoder = decode(b"data: a\xffb\n\n")
    assert events[0].data == "a\ufffdb"
    assert decoder.invalid_utf8_at == 7


def test_utf8_cut_at_end_of_stream_is_reported():
    events, decoder = decode("data: é".encode()[:-1])
    assert events[0].data == "\ufffd"
    assert decoder.invalid_utf8_at == 6


def test_final_event_without_blank_line_is_reported_not_dropped():
    events, decoder = decode(b"data: a\n\nevent: message_stop\ndata: {}")
    assert events[-1] == ServerSentEvent("message_stop", "{}")
    assert decoder.unterminated


def test_terminated_stream_is_not_marked_unterminated():
    _, decoder = decode(b"data: a\n\n")
    assert not decoder.unterminated


def test_event_with_type_but_no_data_is_kept():
    events, _ = decode(b"event: ping\n\n")
    assert events == [ServerSentEvent("ping", "")]


def test_blank_lines_alone_dispatch_nothing():
    events, _ = decode(b"\n\n\r\n: c\n\n")
    assert events == []


def test_long_line_in_many_chunks_is_joined_once():
    payload = b"x" * 100_000
    chunks = [b"data: "] + [payload[i : i + 100] for i in range(0, len(payload), 100)] + [b"\n\n"]
    events, _ = decode(*chunks)
    assert events[0].data == payload.decode()


CORPUS_BODIES = [p.read_bytes() for p in sorted(CORPUS.rglob("*.sse"))]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CORPUS_BODIES), st.lists(st.integers(0, 200_000), max_size=40))
def test_any_chunking_of_a_corpus_stream_gives_the_same_events(body, cuts):
    whole, _ = decode(body)
    assert decode(*split_at(body, cuts))[0] == whole


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [b"data: a", b"data:\xc3\xa9", b"event: e", b"id: 1", b":c", b"retry: 5", b""]
        ).flatmap(lambda line: st.sampled_from([line + b"\n", line + b"\r\n", line + b"\r"])),
        max_size=30,
    ),
    st.lists(st.integers(0, 400), max_size=10),
    st.booleans(),
)
def test_any_chunking_of_mixed_line_ends_gives_the_same_events(lines, cuts, bom):
    body = (b"\xef\xbb\xbf" if bom else b"") + b"".join(lines)
    whole, d1 = decode(body)
    split, d2 = decode(*split_at(body, cuts))
    assert split == whole
    assert d1.unterminated == d2.unterminated


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=8))
def test_arbitrary_bytes_never_raise_and_chunking_does_not_matter(body, cuts):
    whole, d1 = decode(body)
    split, d2 = decode(*split_at(body, cuts))
    assert split == whole
    assert d1.invalid_utf8_at == d2.invalid_utf8_at


class LineByLineDecoder(SSEDecoder):
    """The decoder with its all-at-once path for uniform chunks turned off."""

    def _uniform(self, done: bytes) -> list[ServerSentEvent] | None:
        return None


def test_uniform_chunks_take_the_all_at_once_path():
    decoder = SSEDecoder()
    assert decoder._uniform(b"event: a\ndata: 1\n\nevent: b\ndata: 2") == [
        ServerSentEvent("a", "1"),
        ServerSentEvent("b", "2"),
    ]
    assert decoder._uniform(b"data: 1\n\ndata: 2") == [
        ServerSentEvent("message", "1"),
        ServerSentEvent("message", "2"),
    ]
    assert decoder._uniform(b"data: 1\n: comment\n\ndata: 2") is None


def test_retry_without_data_still_reaches_the_next_event_of_a_uniform_chunk():
    events, _ = decode(b"retry: 5\n\n", b"event: a\ndata: 1\n\n")
    assert events == [ServerSentEvent("a", "1", None, 5)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"event: content_block_delta\ndata: {}",
                b'data: {"x": "\xc3\xa9"}',
                b"event: \xe6\x9d\xb1\ndata: \xe6\x9d\xb1",
                b"event: \ndata: empty name",
                b"data: a\xffb",
                b"data:  two spaces",
                b"id: 7",
                b"retry: 5",
                b": comment",
                b"",
            ]
        ).map(lambda block: block + b"\n\n"),
        max_size=25,
    ),
    st.lists(st.integers(0, 800), max_size=10),
)
def test_all_at_once_path_gives_the_same_events_as_line_by_line(blocks, cuts):
    chunks = split_at(b"".join(blocks), cuts)
    fast, d1 = decode(*chunks)
    slow_decoder = LineByLineDecoder()
    slow = [e for chunk in chunks for e in slow_decoder.feed(chunk)] + slow_decoder.close()
    assert fast == slow
    assert d1.invalid_utf8_at == slow_decoder.invalid_utf8_at


@pytest.mark.parametrize(
    ("chunks", "offset"),
    [
        ([b"data: a\xffb\n\n", b"data: c\r\n\r\n"], 7),  # found lazily, before any "\r"
        ([b"data: a\r\n\r\n", b"data: \xff\r\n\r\n"], 17),  # found eagerly, after a "\r"
        ([b"data: \xff", b"x\r\n\r\n"], 6),  # pending when the first "\r" arrives
        ([b"\xef\xbb\xbfdata: \xff\n\n"], 9),  # offsets count the byte order mark
        ([b"\xef\xbb\xbfdata: a\r", b"\xff\n\n"], 11),
    ],
)
def test_invalid_utf8_offset_is_exact_whether_checked_lazily_or_eagerly(chunks, offset):
    _, decoder = decode(*chunks)
    assert decoder.invalid_utf8_at == offset
    _, whole = decode(b"".join(chunks))
    assert whole.invalid_utf8_at == offset
