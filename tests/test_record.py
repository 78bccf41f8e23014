"""Records: the same for any chunking, and honest about what is missing or wrong."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon import StreamRebuild, rebuild
from addon.providers import Accumulator, Summary
from addon.record import RECORD_KEYS
from addon.record.answer import looks_like_sse
from addon.wire.sse import ServerSentEvent
from tests.conftest import capture as new_capture
from tests.oracles import ALL_STREAMS
from tests.streams import split_at

BODIES = [(provider, path.read_bytes()) for provider, path in ALL_STREAMS]


def rebuilt_in_chunks(provider: str, chunks: list[bytes]) -> dict:
    stream = StreamRebuild(provider)
    for chunk in chunks:
        stream.feed(chunk)
    return stream.finish().to_json()


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(BODIES), st.lists(st.integers(0, 300_000), max_size=60))
def test_any_chunking_of_any_corpus_stream_gives_the_same_record(case, cuts):
    provider, body = case
    assert rebuilt_in_chunks(provider, split_at(body, cuts)) == rebuild(provider, body)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(BODIES), st.lists(st.integers(0, 100_000), max_size=30))
def test_gzip_stream_in_any_chunking_gives_the_plain_record(case, cuts):
    provider, body = case
    capture = new_capture(provider, "gzip")
    for chunk in split_at(gzip.compress(body), cuts):
        capture(chunk)
    assert capture.finish().to_json() == rebuild(provider, body)


@pytest.mark.parametrize(("provider", "path"), ALL_STREAMS, ids=lambda v: getattr(v, "name", v))
def test_every_corpus_stream_gives_a_full_record(provider, path):
    record = rebuild(provider, path.read_bytes())
    assert set(RECORD_KEYS) <= set(record)
    assert record["response"] is not None
    assert record["events"] > 0
    assert record["complete"] == (not record["errors"])


def test_record_of_an_empty_body_says_so():
    record = rebuild("openai-chat", b"", streamed=True)
    assert record["complete"] is False
    assert record["errors"]


def test_binary_garbage_is_reported_not_raised():
    record = rebuild("anthropic-messages", bytes(range(256)) * 10, streamed=True)
    assert record["complete"] is False
    assert record["errors"]


def test_plain_json_body_is_the_response():
    record = rebuild("openai-chat", b'{"id": "c", "object": "chat.completion", "choices": []}')
    assert record["streamed"] is False
    assert record["response"]["id"] == "c"


def test_body_that_is_not_json_keeps_its_text():
    record = rebuild("openai-chat", b"<html>bad gateway</html>", streamed=False, status_code=502)
    assert record["complete"] is False
    assert record["response"] == "<html>bad gateway</html>"
    assert record["errors"][0] == "HTTP 502"


def test_missing_blank_line_after_last_event_is_a_warning():
    body = b'event: ping\ndata: {"type": "ping"}'
    record = rebuild("anthropic-messages", body)
    assert record["warnings"] == ["the last event had no blank line after it"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [(b"data: {}\n\n", True), (b'  {"a": 1}', False), (b"event: x\n", True), (b"", False)],
)
def test_sse_is_told_from_json_by_its_first_byte(body, expected):
    assert looks_like_sse(body) is expected


def test_unknown_provider_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="known providers: anthropic-messages"):
        rebuild("no-such-api", b"data: {}\n\n")


class _FailsOnBoom(Accumulator):
    """Takes each event's data as a word; the word "boom" makes its handler raise."""

    provider = "test-boom"

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []

    def _feed(self, event: ServerSentEvent) -> None:
        if event.data == "boom":
            raise ValueError("bad event")
        self.words.append(event.data)

    def result(self) -> dict | None:
        return {"words": self.words}

    @staticmethod
    def summarize(response: dict) -> Summary:
        return Summary()


def test_feed_all_reports_a_failing_event_and_applies_the_ones_after_it():
    accumulator = _FailsOnBoom()
    events = [ServerSentEvent("message", word) for word in ("a", "boom", "b")]
    accumulator.feed_all(events)
    assert accumulator.words == ["a", "b"]
    assert accumulator.errors == ["message: could not apply event: ValueError('bad event')"]


def _event_chunks(body: bytes) -> list[bytes]:
    """A body cut after every event, as a live upstream sends it."""
    return [event + b"\n\n" for event in body.split(b"\n\n") if event]


@pytest.mark.parametrize(("provider", "body"), BODIES[::7])
def test_live_snapshot_shows_every_chunk_fed_so_far(provider, body):
    live = StreamRebuild(provider)
    fed = b""
    for chunk in _event_chunks(body)[:60]:
        live.feed(chunk)
        fed += chunk
        whole = StreamRebuild(provider)
        whole.feed(fed)
        assert live.snapshot() == whole.snapshot()


@pytest.mark.parametrize(("provider", "body"), BODIES[::5])
def test_first_token_time_is_taken_at_the_chunk_that_brings_the_first_content(provider, body):
    chunks = _event_chunks(body)
    reference = StreamRebuild(provider)
    first_content = None
    for number, chunk in enumerate(chunks):
        reference.feed(chunk)
        reference.snapshot()  # decodes what is held
        if reference.accumulator.content_started:
            first_content = number
            break
    now = [0.0]
    stream = StreamRebuild(provider, clock=lambda: now[0])
    for number, chunk in enumerate(chunks):
        now[0] = float(number)
        stream.feed(chunk)
    stream.finish()
    assert stream.first_token_at == first_content
