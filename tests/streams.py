"""Helpers for tests that cut and replay streams."""

from __future__ import annotations

import itertools
import json


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """Cut `data` at the given offsets (clamped, deduplicated) into consecutive chunks."""
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    return [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)])]


def sse(*events: tuple[str | None, object]) -> bytes:
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        out.append((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
    return "".join(out).encode()


MSG_START = (
    "message_start",
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-x",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 1},
        },
    },
)
TEXT_START = (
    "content_block_start",
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
)


def text_delta(text: str, index: int = 0) -> tuple[str, dict]:
    return (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "text_delta", "text": text},
        },
    )


BLOCK_STOP = ("content_block_stop", {"type": "content_block_stop", "index": 0})
MSG_DELTA = (
    "message_delta",
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}},
)
MSG_STOP = ("message_stop", {"type": "message_stop"})
