"""AWS event-stream bodies made up for the tests: frames of every header type, Bedrock chunks.

`header` encodes one header with an explicit value type (the spec's codes 0 to 9), `frame` a whole
frame with correct checksums (or a wrong one on request), and the Bedrock helpers build the
frames Bedrock sends: `event` frames named by `:event-type`, `chunk` frames wrapping base64 JSON
(with the random `p` padding), and `exception` frames.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import orjson

BOOL_TRUE, BOOL_FALSE, BYTE, SHORT, INT, LONG, BYTES, STRING, TIMESTAMP, UUID_TYPE = range(10)
_FIXED = {BYTE: ">b", SHORT: ">h", INT: ">i", LONG: ">q", TIMESTAMP: ">q"}

HeaderSpec = tuple[str, int, Any]
"""(name, value type code, value): the value is None for the two bool types."""


def header(name: str, kind: int, value: Any = None) -> bytes:
    encoded = name.encode()
    out = bytes([len(encoded)]) + encoded + bytes([kind])
    if kind in (BOOL_TRUE, BOOL_FALSE):
        return out
    if kind in _FIXED:
        return out + struct.pack(_FIXED[kind], value)
    if kind in (BYTES, STRING):
        data = value.encode() if isinstance(value, str) else bytes(value)
        return out + struct.pack(">H", len(data)) + data
    if kind == UUID_TYPE:
        return out + (value.bytes if isinstance(value, UUID) else bytes(value))
    raise ValueError(f"unknown header value type {kind}")


def frame(
    headers: Iterable[HeaderSpec] | bytes,
    payload: bytes,
    *,
    bad_prelude_crc: bool = False,
    bad_message_crc: bool = False,
) -> bytes:
    """One frame; `headers` as specs or an already encoded header block."""
    block = headers if isinstance(headers, bytes) else b"".join(header(*h) for h in headers)
    total = 16 + len(block) + len(payload)
    prelude = struct.pack(">II", total, len(block))
    prelude_crc = zlib.crc32(prelude) ^ (1 if bad_prelude_crc else 0)
    message = prelude + struct.pack(">I", prelude_crc) + block + payload
    message_crc = zlib.crc32(message) ^ (1 if bad_message_crc else 0)
    return message + struct.pack(">I", message_crc)


def _json(value: Any) -> bytes:
    return value if isinstance(value, bytes) else orjson.dumps(value)


def event_frame(event_type: str, payload: Any, **bad: bool) -> bytes:
    """An `event` frame as Bedrock sends it (payload: a JSON value or raw bytes)."""
    headers = [
        (":event-type", STRING, event_type),
        (":content-type", STRING, "application/json"),
        (":message-type", STRING, "event"),
    ]
    return frame(headers, _json(payload), **bad)


def exception_frame(exception_type: str, message: str) -> bytes:
    headers = [
        (":exception-type", STRING, exception_type),
        (":content-type", STRING, "application/json"),
        (":message-type", STRING, "exception"),
    ]
    return frame(headers, orjson.dumps({"message": message}))


def chunk_frame(inner: Any, padding: str | None = "abcdefghij", **bad: bool) -> bytes:
    """A `chunk` frame of InvokeModelWithResponseStream wrapping `inner` (JSON or raw bytes)."""
    outer: dict[str, Any] = {"bytes": base64.b64encode(_json(inner)).decode()}
    if padding is not None:
        outer["p"] = padding
    return event_frame("chunk", outer, **bad)


def converse_stream(*events: tuple[str, Any]) -> bytes:
    """A ConverseStream body from (event type, payload) pairs; each payload gets padding."""
    frames = []
    for name, payload in events:
        if isinstance(payload, dict):
            payload = {**payload, "p": "abcdef"}
        frames.append(event_frame(name, payload))
    return b"".join(frames)


def invoke_stream(*inners: Any) -> bytes:
    """An InvokeModelWithResponseStream body, one chunk per inner JSON value."""
    return b"".join(chunk_frame(inner) for inner in inners)


# Anthropic Messages events inside Bedrock chunks ----------------------------------------------


def message_start(**usage: Any) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_bdrk_test",
            "type": "message",
            "role": "assistant",
            "model": "claude-test",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1, **usage},
        },
    }


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def block_delta(index: int, **delta: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def block_stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def message_delta(stop_reason: str = "end_turn", output_tokens: int = 7) -> dict[str, Any]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": output_tokens},
    }


METRICS = {
    "inputTokenCount": 10,
    "outputTokenCount": 7,
    "invocationLatency": 321,
    "firstByteLatency": 123,
}


def message_stop(metrics: dict[str, Any] | None = METRICS) -> dict[str, Any]:
    stop: dict[str, Any] = {"type": "message_stop"}
    if metrics is not None:
        stop["amazon-bedrock-invocationMetrics"] = metrics
    return stop


def thinking_tool_stream(deltas: int = 3) -> list[dict[str, Any]]:
    """Inner events of an answer with thinking, text and a tool call."""
    return [
        message_start(cache_read_input_tokens=5, cache_creation_input_tokens=2),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        *[block_delta(0, type="thinking_delta", thinking=f"step {i}. ") for i in range(deltas)],
        block_delta(0, type="signature_delta", signature="c2lnbmF0dXJl"),
        block_stop(0),
        block_start(1, {"type": "text", "text": ""}),
        *[block_delta(1, type="text_delta", text=f"word{i} ") for i in range(deltas)],
        block_stop(1),
        block_start(2, {"type": "tool_use", "id": "toolu_bdrk_1", "name": "lookup", "input": {}}),
        block_delta(2, type="input_json_delta", partial_json='{"id": 1234567890123'),
        block_delta(2, type="input_json_delta", partial_json='4567890123, "q": "x"}'),
        block_stop(2),
        message_delta("tool_use", 42),
        message_stop(),
    ]


def text_deltas_body(count: int) -> bytes:
    """An InvokeModel Claude stream of `count` text deltas (for the benchmark note)."""
    inners = [
        message_start(),
        block_start(0, {"type": "text", "text": ""}),
        *[block_delta(0, type="text_delta", text=f"token {i} ") for i in range(count)],
        block_stop(0),
        message_delta(),
        message_stop(),
    ]
    return invoke_stream(*inners)
