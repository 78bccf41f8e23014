"""Responses over a WebSocket, for tests: recorded SSE answers as socket messages, and oracles.

A recorded Responses stream (`tests/corpus/...sse`) becomes the server's text messages: one
JSON `data:` payload per message, as the WebSocket mode sends them. The oracle of a response
is what the same payloads give over SSE: the SDK's stream helper and our own SSE rebuild.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from addon import rebuild
from addon.wire.sse import SSEDecoder
from tests.oracles import CORPUS, strip_nulls
from tests.oracles.openai_responses import sdk_final_response

ANSWERS = (
    "ccproxy/codex_responses.sse",
    "ccproxy/codex_responses_tools.sse",
    "ccproxy/codex_responses_thinking.sse",
    "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
    "sdk/openai-responses/dotnet.StreamingResponsesWithReasoningSummary.e0.sse",
    "sdk/openai-responses/dotnet.HelloWorldStreaming_gpt-4o-mini.e0.sse",
)
"""Recorded answers with distinct response ids, served one per `response.create`."""
TRANSCRIPT = CORPUS / "websocket/pydantic-ai_tool_search_streaming.jsonl"
"""A socket transcript (synthetic, from a live SSE recording): `{from_client, type, content}`."""


def payloads(name: str) -> list[str]:
    """The `data:` payloads of a recorded stream, in order: the server's messages."""
    decoder = SSEDecoder()
    events = decoder.feed((CORPUS / name).read_bytes()) + decoder.close()
    return [e.data for e in events if e.data.strip() not in ("", "[DONE]")]


def on_lane(texts: list[str], lane: str | None) -> list[str]:
    """The same events as a named lane sends them: each echoes its `stream_id`."""
    if lane is None:
        return list(texts)
    return [orjson.dumps({**orjson.loads(t), "stream_id": lane}).decode() for t in texts]


def create(model: str = "gpt-test", lane: str | None = None, **fields: Any) -> str:
    body: dict[str, Any] = {"type": "response.create", "model": model, "input": "hi", **fields}
    if lane is not None:
        body["stream_id"] = lane
    return json.dumps(body)


def as_sse(texts: list[str]) -> bytes:
    """The payloads as the SSE stream the HTTP endpoint would have sent."""
    frames = []
    for text in texts:
        kind = orjson.loads(text).get("type", "message")
        frames.append(f"event: {kind}\ndata: {text}\n\n")
    return "".join(frames).encode()


def sse_record(texts: list[str]) -> dict[str, Any]:
    """Our own rebuild of the same events over SSE (the lanes' `stream_id` left out)."""
    plain = [orjson.dumps(_without_lane(orjson.loads(t))).decode() for t in texts]
    return rebuild("openai-responses", as_sse(plain), streamed=True)


def sdk_response(texts: list[str]) -> dict[str, Any]:
    """The openai SDK's Responses stream helper fed the same events (nulls dropped)."""
    plain = [orjson.dumps(_without_lane(orjson.loads(t))).decode() for t in texts]
    return strip_nulls(sdk_final_response(as_sse(plain)))


def transcript(path: Path = TRANSCRIPT) -> list[tuple[bool, str]]:
    """(from_client, text) of every message of a recorded socket transcript."""
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            entry = json.loads(line)
            out.append((bool(entry["from_client"]), entry["content"]))
    return out


def rate_limits(used: float = 9.0) -> str:
    """A `codex.rate_limits` event in the shape Codex parses (codex-rs `rate_limits.rs`)."""
    return json.dumps(
        {
            "type": "codex.rate_limits",
            "plan_type": "plus",
            "rate_limits": {
                "primary": {"used_percent": used, "window_minutes": 299, "reset_at": 1764046802},
                "secondary": {"used_percent": 31.0, "window_minutes": 10079, "reset_at": None},
            },
            "credits": None,
        }
    )


def prewarm_answer(response_id: str, model: str = "gpt-test") -> list[str]:
    """What the server answers a `generate: false` create: an empty, completed response."""
    base = {
        "id": response_id,
        "object": "response",
        "created_at": 1764046802,
        "model": model,
        "output": [],
        "usage": None,
    }
    created = {"type": "response.created", "sequence_number": 0}
    created["response"] = {**base, "status": "in_progress"}
    usage = {
        "input_tokens": 0,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 0,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 0,
    }
    done = {"type": "response.completed", "sequence_number": 1}
    done["response"] = {**base, "status": "completed", "usage": usage}
    return [json.dumps(created), json.dumps(done)]


def _without_lane(event: Any) -> Any:
    if isinstance(event, dict):
        event.pop("stream_id", None)
    return event
