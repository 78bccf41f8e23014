"""Memory is bounded by the raw-body cap plus the rebuilt object, not by the stream's size."""

from __future__ import annotations

import tracemalloc

from tests.conftest import capture as new_capture
from tests.streams import (
    BLOCK_STOP,
    MSG_DELTA,
    MSG_START,
    MSG_STOP,
    TEXT_START,
    sse,
    text_delta,
)

DELTAS = 100_000


def long_stream() -> bytes:
    head = sse(MSG_START, TEXT_START)
    delta = sse(text_delta("word "))
    return head + delta * DELTAS + sse(BLOCK_STOP, MSG_DELTA, MSG_STOP)


def test_huge_stream_costs_the_cap_plus_the_answer_not_the_stream():
    body = long_stream()
    cap = 1 << 20
    tracemalloc.start()
    capture = new_capture("anthropic-messages", max_body=cap)
    for i in range(0, len(body), 4096):
        capture(body[i : i + 4096])
    record = capture.finish().to_json()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    answer = record["response"]["content"][0]["text"]
    assert answer == "word " * DELTAS
    assert capture.body is None  # over the cap: the raw body was let go
    # The stream is ~13 MB; what stays is the cap, the answer and its fragments until joined.
    assert len(body) > 12 * cap
    assert peak < cap + 100 * DELTAS, (peak, len(body))
