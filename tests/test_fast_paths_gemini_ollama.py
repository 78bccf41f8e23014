"""The fast paths of the Gemini fold, the Ollama folds, the NDJSON decoder and the SSE decoder's
CRLF reading give exactly what their general paths give, for random shapes and any chunking.

- Gemini and Ollama: `feed_all` (with its loop for common chunks) against `feed` on each event
  (the general `_feed`), over random mixes of common chunks and chunks of every other shape.
- SSE: a stream read with CRLF line ends as they are against the same bytes read by rewriting
  the line ends (the path every stream with a "\\r" took before).
- NDJSON: events against `bytes.splitlines`, `bytes.strip` and `bytes.decode` of each line.
"""

from __future__ import annotations

import json
import random
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from addon.providers.base import Accumulator
from addon.providers.gemini import GeminiGenerateContent
from addon.providers.ollama import OllamaChat, OllamaGenerate
from addon.wire.events import Event
from addon.wire.ndjson import NDJSONDecoder
from addon.wire.sse import SSEDecoder

JSON = dict[str, Any]


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
    return [body[a:b] for a, b in pairwise(points) if b > a]


def batches(events: list[Event], cuts: list[int]) -> list[list[Event]]:
    points = sorted({0, len(events), *(c % (len(events) + 1) for c in cuts)})
    return [events[a:b] for a, b in pairwise(points)]


def state(acc: Accumulator) -> tuple[str, list[str], str, bool, bool]:
    result = json.dumps(acc.result())  # key order counts
    return result, acc.errors, json.dumps(acc.unknown), acc.done, acc.content_started


def both_ways(make: type[Accumulator], datas: list[str], cuts: list[int]) -> None:
    events = [Event("message", data) for data in datas]
    fast, slow = make(), make()
    for batch in batches(events, cuts):
        fast.feed_all(batch)
        for event in batch:
            slow.feed(event)
        assert fast.content_started == slow.content_started  # read after every batch
    assert state(fast) == state(slow)
    fast.finish()
    slow.finish()
    assert state(fast) == state(slow)


def shuffled(rng: random.Random, value: JSON) -> JSON:
    items = list(value.items())
    if rng.random() < 0.2:
        rng.shuffle(items)
    return dict(items)


def dumps(rng: random.Random, value: Any) -> str:
    return json.dumps(value, ensure_ascii=rng.random() < 0.5, separators=(",", ": "))


# --- Gemini ----------------------------------------------------------------------------------


def gemini_chunk(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        return rng.choice(["", "not json", "[1, 2]", '"text"', "{}"])
    text: Any = rng.choice(["a", " b", "", "東京", "c\n"])
    part: JSON = {"text": text}
    kind = rng.random()
    if kind < 0.15:
        part["thought"] = rng.choice([True, True, 1, False])
    elif kind < 0.2:
        part["thoughtSignature"] = "c2ln"
    elif kind < 0.24:
        part = {"functionCall": {"name": "f", "args": {"n": 12345678901234567890}}}
    elif kind < 0.27:
        part["text"] = rng.choice([5, None, ["x"]])
    candidate: JSON = {"content": shuffled(rng, {"parts": [part], "role": "model"})}
    if rng.random() < 0.05:
        candidate["content"]["role"] = rng.choice(["user", 1, True])
    if rng.random() < 0.05:
        del candidate["content"]["role"]
    if rng.random() < 0.1:
        candidate["index"] = rng.choice([0, 0, 1, False])
    if rng.random() < 0.04:
        candidate["finishReason"] = "STOP"
    if rng.random() < 0.03:
        candidate["content"]["parts"].append({"text": "more"})
    candidates: Any = [candidate]
    if rng.random() < 0.03:
        candidates = rng.choice([[], [candidate, dict(candidate, index=1)], "x", [1]])
    chunk: JSON = {"candidates": candidates}
    usage = {"promptTokenCount": rng.randint(0, 9), "totalTokenCount": rng.randint(0, 99)}
    for key, value in (
        ("usageMetadata", usage),
        ("modelVersion", rng.choice(["gemini-2.0-flash", "gemini-2.5-pro"])),
        ("responseId", rng.choice(["r1", "r2"])),
    ):
        if rng.random() < 0.9:
            chunk[key] = value
    extra = rng.random()
    if extra < 0.03:
        chunk["promptFeedback"] = rng.choice([{}, {"blockReason": "SAFETY"}])
    elif extra < 0.05:
        chunk["createTime"] = "2026-01-01T00:00:00Z"
    elif extra < 0.06:
        chunk = {"error": {"code": 500, "message": "boom"}}
    return dumps(rng, shuffled(rng, chunk))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 60), st.lists(st.integers(0, 80), max_size=6))
def test_gemini_feed_all_gives_what_feeding_each_chunk_gives(seed, count, cuts):
    rng = random.Random(seed)
    both_ways(GeminiGenerateContent, [gemini_chunk(rng) for _ in range(count)], cuts)


def test_gemini_snapshot_between_batches_keeps_joining_the_same_run():
    chunks = [
        json.dumps({"candidates": [{"content": {"parts": [{"text": t}], "role": "model"}}]})
        for t in ("a", "b", "c", "d", "e")
    ]
    acc = GeminiGenerateContent()
    acc.feed_all([Event("message", c) for c in chunks[:3]])
    assert acc.result()["candidates"][0]["content"]["parts"] == [{"text": "abc"}]
    acc.feed_all([Event("message", c) for c in chunks[3:]])
    assert acc.result()["candidates"][0]["content"]["parts"] == [{"text": "abcde"}]


# --- Ollama ----------------------------------------------------------------------------------


def ollama_line(rng: random.Random, chat: bool) -> str:
    roll = rng.random()
    if roll < 0.03:
        return rng.choice(["", "not json", "[1]", '{"error": "model failed"}'])
    line: JSON = {"model": "m", "created_at": f"2026-01-01T00:00:0{rng.randint(0, 9)}Z"}
    text: Any = rng.choice(["a", "", " b", "é", "東京"])
    if rng.random() < 0.03:
        text = rng.choice([5, None])
    if chat:
        message: JSON = {"role": "assistant", "content": text}
        if rng.random() < 0.1:
            message["thinking"] = rng.choice(["t", "", 3])
        if rng.random() < 0.04:
            message["tool_calls"] = [{"function": {"name": "f", "arguments": {"n": 1}}}]
        if rng.random() < 0.03:
            message["images"] = None
        if rng.random() < 0.03:
            del message["role"]
        line["message"] = shuffled(rng, message)
    else:
        line["response"] = text
        if rng.random() < 0.1:
            line["thinking"] = rng.choice(["t", "", 3])
    line["done"] = rng.choice([False] * 20 + [0, None, True])
    if rng.random() < 0.05:
        line["done_reason"] = "stop"
    if rng.random() < 0.03:
        line["logprobs"] = [{"token": "a"}]
    if rng.random() < 0.03:
        del line["model"]
    return dumps(rng, shuffled(rng, line))


@settings(max_examples=300, deadline=None)
@given(
    st.booleans(),
    st.integers(0, 2**32),
    st.integers(1, 60),
    st.lists(st.integers(0, 80), max_size=6),
)
def test_ollama_feed_all_gives_what_feeding_each_line_gives(chat, seed, count, cuts):
    rng = random.Random(seed)
    make = OllamaChat if chat else OllamaGenerate
    both_ways(make, [ollama_line(rng, chat) for _ in range(count)], cuts)


# --- NDJSON ----------------------------------------------------------------------------------

NDJSON_LINES = [b'{"a": 1}', b'{"t": "\xc3\xa9 \xe2\x80\xa8"}', b"", b" ", b' {"b": 2}\t']
NDJSON_LINES += [b"x\x0b", b"\x0c{}", b"\xc2\xa0{}", b"{}\xc2\x85", b"bad\xff", b"{\x1c}"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(NDJSON_LINES).flatmap(
            lambda line: st.sampled_from([line + b"\n", line + b"\r\n"])
        ),
        max_size=20,
    ),
    st.lists(st.integers(0, 400), max_size=8),
)
def test_ndjson_lines_are_the_stripped_decoded_lines_whatever_the_chunking(lines, cuts):
    body = b"".join(lines)
    decoder = NDJSONDecoder()
    events = [e for chunk in split_at(body, cuts) for e in decoder.feed(chunk)]
    events += decoder.close()
    expected = [
        line.decode("utf-8", "replace") for line in map(bytes.strip, body.splitlines()) if line
    ]
    assert events == [Event("message", text) for text in expected]
    assert bool(decoder.errors) == (not _utf8(body))  # invalid UTF-8 is reported


def _utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


# --- SSE, CRLF -------------------------------------------------------------------------------


class RewritingDecoder(SSEDecoder):
    """The decoder that rewrites every chunk's line ends to LF (its path before CRLF reading)."""

    def __init__(self) -> None:
        super().__init__()
        self._raw_crlf = False


def decode_all(decoder: SSEDecoder, chunks: list[bytes]) -> tuple[Any, ...]:
    events = [e for chunk in chunks for e in decoder.feed(chunk)] + decoder.close()
    return events, decoder.invalid_utf8_at, decoder.unterminated, decoder.errors, decoder.warnings


BLOCKS = [
    b"data: {}",
    b'data: {"x": "\xc3\xa9"}',
    b"event: e\r\ndata: 1",
    b"event: \xe6\x9d\xb1\r\ndata: \xe6\x9d\xb1",
    b"data: a\xffb",
    b"id: 7",
    b"retry: 5",
    b": comment",
    b"data: a\r\ndata: b",
    b"",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(BLOCKS), max_size=25),
    st.lists(st.sampled_from([b"\r\n\r\n"] * 12 + [b"\n\n", b"\r\r", b"\r\n\n"]), min_size=25),
    st.lists(st.integers(0, 900), max_size=10),
    st.booleans(),
    st.booleans(),
)
def test_crlf_read_as_sent_gives_what_rewriting_line_ends_gives(blocks, ends, cuts, bom, cut):
    body = (b"\xef\xbb\xbf" if bom else b"") + b"".join(map(bytes.__add__, blocks, ends))
    if cut and body:
        body = body[: len(body) - 1]
    chunks = split_at(body, cuts)
    assert decode_all(SSEDecoder(), chunks) == decode_all(RewritingDecoder(), chunks)


def test_a_uniform_crlf_stream_is_read_without_rewriting():
    decoder = SSEDecoder()
    body = b"".join(b'data: {"n": %d}\r\n\r\n' % n for n in range(50))
    events = decoder.feed(body[:777]) + decoder.feed(body[777:]) + decoder.close()
    assert [e.data for e in events] == [f'{{"n": {n}}}' for n in range(50)]
    assert decoder._raw_crlf is True
    assert decoder._lazy_utf8  # no pass of its own over the bytes to check UTF-8


def test_a_bare_cr_after_crlf_lines_hands_over_to_rewriting():
    decoder = SSEDecoder()
    first = decoder.feed(b"data: 1\r\n\r\ndata: 2\r")
    rest = decoder.feed(b"\rdata: 3\n\n") + decoder.close()
    assert [e.data for e in first + rest] == ["1", "2", "3"]
    assert decoder._raw_crlf is False
