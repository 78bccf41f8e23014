"""The streams every contender is timed on: the recorded corpus, and long generated answers.

Generated answers copy the event shapes of recorded ones (field order, ids, `obfuscation`,
`sequence_number`, the full text repeated in the Responses `*.done` and `response.completed`
events) and only make the content long: text, thinking, or tool input, at any delta count.
Everything is seeded, so every run times the same bytes.
"""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"

APIS = ("anthropic-messages", "openai-chat", "openai-responses")
KINDS = ("text", "thinking", "tool")
SHORT_API = {
    "anthropic-messages": "anthropic",
    "openai-chat": "chat",
    "openai-responses": "responses",
}
CORPUS_FOLDERS = {
    "anthropic-messages": ("sdk/anthropic", "ccproxy/claude_*"),
    "openai-chat": ("sdk/openai-chat", "ccproxy/copilot_*"),
    "openai-responses": ("sdk/openai-responses", "ccproxy/codex_*"),
}

# Token-sized pieces as models emit them: mostly a leading space and a short word, some
# punctuation, newlines and non-ASCII text (the decoder and JSON parser pay for UTF-8).
_TEXT = (
    "the model streams each token as it is generated so a proxy sees many small events and "
    "must rebuild the whole answer without falling behind long thinking blocks large tool "
    "inputs and code files arrive as thousands of deltas café naïve — “quoted” 東京 データ"
)
_WORDS = _TEXT.split()
_PUNCT = (",", ".", ":", ";", "?", "!", "\n", "\n\n", " (", ")", " -", "'s")


def _pieces(rng: random.Random, count: int) -> list[str]:
    out: list[str] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.12:
            out.append(rng.choice(_PUNCT))
        elif roll < 0.2:
            word = rng.choice(_WORDS)
            cut = rng.randint(1, max(1, len(word) - 1))
            out.append(word[:cut])  # a word split across tokens
        else:
            out.append(" " + rng.choice(_WORDS))
    return out


def _json_pieces(rng: random.Random, count: int, tool: str) -> tuple[list[str], str]:
    """A tool input (a file to write) as `count` raw JSON fragments, and the whole JSON."""
    lines: list[str] = []
    size = 0
    while size < count * 5:
        indent = " " * (4 * rng.randint(0, 3))
        line = indent + "".join(_pieces(rng, rng.randint(3, 9))).replace("\n", " ").strip()
        line = line.replace("café", 'print("café")')
        lines.append(line)
        size += len(line) + 1
    whole = orjson.dumps(
        {"path": f"src/{tool}/generated.py", "content": "\n".join(lines) + "\n"}
    ).decode()
    # Cut the JSON text at random points into exactly `count` fragments (some empty: the APIs
    # send empty fragments too), as the APIs cut it: not at token or escape boundaries.
    cuts = sorted(rng.sample(range(1, len(whole)), count - 1))
    bounds = [0, *cuts, len(whole)]
    return [whole[a:b] for a, b in itertools.pairwise(bounds)], whole


def _obfuscation(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(2, 15)))


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


class _Writer:
    """SSE framing as the APIs write it: `event:` line (when named), one `data:` line, blank."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.events = 0

    def add(self, data: Any, event: str | None = None) -> None:
        if event is not None:
            self.parts.append(f"event: {event}\n")
        payload = data if isinstance(data, str) else _dumps(data)
        self.parts.append(f"data: {payload}\n\n")
        self.events += 1

    def body(self) -> bytes:
        return "".join(self.parts).encode()


# --- Anthropic Messages (shapes from tests/corpus/sdk/anthropic/test_runners.* and stream-a-*)


def anthropic_stream(kind: str, deltas: int, seed: int = 1) -> tuple[bytes, int]:
    rng = random.Random(seed)
    w = _Writer()
    w.add(
        {
            "type": "message_start",
            "message": {
                "model": "claude-sonnet-4-5-20250929",
                "id": "msg_01AusY9WEbCaj3N7Tv5J4YjH",
                "type": "message",
                "role": "assistant",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": 656,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": 0,
                        "ephemeral_1h_input_tokens": 0,
                    },
                    "output_tokens": 26,
                    "service_tier": "standard",
                    "inference_geo": "not_available",
                },
            },
        },
        "message_start",
    )
    index = 0

    def block(start: dict[str, Any], delta_type: str, key: str, pieces: list[str]) -> None:
        nonlocal index
        w.add(
            {"type": "content_block_start", "index": index, "content_block": start},
            "content_block_start",
        )
        if index == 0:
            w.add('{"type": "ping"}', "ping")
        for piece in pieces:
            w.add(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": delta_type, key: piece},
                },
                "content_block_delta",
            )
        if delta_type == "thinking_delta":
            signature = "".join(rng.choices(string.ascii_letters + string.digits, k=400))
            w.add(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "signature_delta", "signature": signature + "=="},
                },
                "content_block_delta",
            )
        w.add({"type": "content_block_stop", "index": index}, "content_block_stop")
        index += 1

    stop_reason = "end_turn"
    if kind == "text":
        block({"type": "text", "text": ""}, "text_delta", "text", _pieces(rng, deltas))
    elif kind == "thinking":
        block(
            {"type": "thinking", "thinking": "", "signature": ""},
            "thinking_delta",
            "thinking",
            _pieces(rng, deltas),
        )
        block({"type": "text", "text": ""}, "text_delta", "text", _pieces(rng, 20))
    else:
        block({"type": "text", "text": ""}, "text_delta", "text", _pieces(rng, 10))
        fragments, _ = _json_pieces(rng, deltas - 1, "anthropic")
        block(
            {
                "type": "tool_use",
                "id": "toolu_018acGYLtfR52q9yDbWaEdQZ",
                "name": "write_file",
                "input": {},
                "caller": {"type": "direct"},
            },
            "input_json_delta",
            "partial_json",
            ["", *fragments],  # the API opens with ""
        )
        stop_reason = "tool_use"
    w.add(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {
                "input_tokens": 656,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": deltas + 30,
            },
        },
        "message_delta",
    )
    w.add({"type": "message_stop"}, "message_stop")
    return w.body(), w.events


# --- OpenAI Chat Completions (shapes from dotnet.StreamingStructuredRefusalWorks and the
# --- test_parse_pydantic_tool recordings; thinking as `reasoning_content`, as DeepSeek,
# --- vLLM and other compatible servers stream it)


def chat_stream(kind: str, deltas: int, seed: int = 2) -> tuple[bytes, int]:
    rng = random.Random(seed)
    w = _Writer()
    model = "deepseek-reasoner" if kind == "thinking" else "gpt-4o-2024-08-06"

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
        body: dict[str, Any] = {
            "id": "chatcmpl-D8dV4fIhj9EeF5vu9iDuZYuG5qp3o",
            "object": "chat.completion.chunk",
            "created": 1770950834,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": "fp_ad98c18a04",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": None,
        }
        body.update(extra)
        if kind != "thinking":
            body["obfuscation"] = _obfuscation(rng)
        w.add(body)

    if kind == "tool":
        fragments, _ = _json_pieces(rng, deltas, "chat")
        chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_c91SqDXlYFuETYv8mUHzz6pp",
                        "type": "function",
                        "function": {"name": "write_file", "arguments": ""},
                    }
                ],
                "refusal": None,
            }
        )
        for piece in fragments:
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        finish = "tool_calls"
    else:
        chunk({"role": "assistant", "content": "", "refusal": None})
        if kind == "thinking":
            for piece in _pieces(rng, deltas):
                chunk({"content": None, "reasoning_content": piece})
            tail = _pieces(rng, 20)
        else:
            tail = _pieces(rng, deltas)
        for piece in tail:
            chunk({"content": piece})
        finish = "stop"
    chunk({}, finish)
    usage = {
        "prompt_tokens": 656,
        "completion_tokens": deltas + 20,
        "total_tokens": deltas + 676,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    chunk({}, choices=[], usage=usage)  # the usage-only final chunk
    w.add("[DONE]")
    return w.body(), w.events


# --- OpenAI Responses (shapes from dotnet.HelloWorldStreaming, FunctionCallStreamingWorks and
# --- StreamingResponsesWithReasoningSummary)


def _response(status: str, output: list[Any], usage: Any) -> dict[str, Any]:
    return {
        "id": "resp_0976c6df58902d6a0068c9ef349f8881968e62cd0dd40b45bf",
        "object": "response",
        "created_at": 1758064436,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": "o3-mini-2025-01-31",
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "reasoning": {"effort": "high", "summary": "detailed"},
        "safety_identifier": None,
        "service_tier": "auto" if status == "in_progress" else "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "auto",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def responses_stream(kind: str, deltas: int, seed: int = 3) -> tuple[bytes, int]:
    rng = random.Random(seed)
    w = _Writer()
    seq = 0

    def add(data: dict[str, Any]) -> None:
        nonlocal seq
        data = {"type": data.pop("type"), "sequence_number": seq, **data}
        seq += 1
        w.add(data, data["type"])

    add({"type": "response.created", "response": _response("in_progress", [], None)})
    add({"type": "response.in_progress", "response": _response("in_progress", [], None)})
    output: list[Any] = []

    def message(pieces: list[str]) -> None:
        item_id = f"msg_0976c6df58902d6a0068c9ef3537f48196a252a62ce5661ce{len(output)}"
        at = len(output)
        add(
            {
                "type": "response.output_item.added",
                "output_index": at,
                "item": {
                    "id": item_id,
                    "type": "message",
                    "status": "in_progress",
                    "content": [],
                    "role": "assistant",
                },
            }
        )
        add(
            {
                "type": "response.content_part.added",
                "item_id": item_id,
                "output_index": at,
                "content_index": 0,
                "part": {"type": "output_text", "annotations": [], "logprobs": [], "text": ""},
            }
        )
        for piece in pieces:
            add(
                {
                    "type": "response.output_text.delta",
                    "item_id": item_id,
                    "output_index": at,
                    "content_index": 0,
                    "delta": piece,
                    "logprobs": [],
                    "obfuscation": _obfuscation(rng),
                }
            )
        text = "".join(pieces)
        add(
            {
                "type": "response.output_text.done",
                "item_id": item_id,
                "output_index": at,
                "content_index": 0,
                "text": text,
                "logprobs": [],
            }
        )
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
        add(
            {
                "type": "response.content_part.done",
                "item_id": item_id,
                "output_index": at,
                "content_index": 0,
                "part": part,
            }
        )
        item = {
            "id": item_id,
            "type": "message",
            "status": "completed",
            "content": [part],
            "role": "assistant",
        }
        add({"type": "response.output_item.done", "output_index": at, "item": item})
        output.append(item)

    def reasoning(pieces: list[str], per_part: int = 500) -> None:
        item_id = "rs_0287fead24f79e6800690a92b01bf081959d0cfa3d2d08a836"
        at = len(output)
        add(
            {
                "type": "response.output_item.added",
                "output_index": at,
                "item": {"id": item_id, "type": "reasoning", "summary": []},
            }
        )
        summary: list[dict[str, str]] = []
        for start in range(0, len(pieces), per_part):
            part_pieces = pieces[start : start + per_part]
            index = len(summary)
            add(
                {
                    "type": "response.reasoning_summary_part.added",
                    "item_id": item_id,
                    "output_index": at,
                    "summary_index": index,
                    "part": {"type": "summary_text", "text": ""},
                }
            )
            for piece in part_pieces:
                add(
                    {
                        "type": "response.reasoning_summary_text.delta",
                        "item_id": item_id,
                        "output_index": at,
                        "summary_index": index,
                        "delta": piece,
                        "obfuscation": _obfuscation(rng),
                    }
                )
            text = "".join(part_pieces)
            add(
                {
                    "type": "response.reasoning_summary_text.done",
                    "item_id": item_id,
                    "output_index": at,
                    "summary_index": index,
                    "text": text,
                }
            )
            add(
                {
                    "type": "response.reasoning_summary_part.done",
                    "item_id": item_id,
                    "output_index": at,
                    "summary_index": index,
                    "part": {"type": "summary_text", "text": text},
                }
            )
            summary.append({"type": "summary_text", "text": text})
        item = {"id": item_id, "type": "reasoning", "summary": summary}
        add({"type": "response.output_item.done", "output_index": at, "item": item})
        output.append(item)

    def function_call(pieces: list[str]) -> None:
        item_id = "fc_0c25e60be926327b0069305ebaa9648195b0273f9500448380"
        at = len(output)
        item = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": "call_0UFGPwrziw5rbinYp7rthrTb",
            "name": "write_file",
        }
        add({"type": "response.output_item.added", "output_index": at, "item": item})
        for piece in pieces:
            add(
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": item_id,
                    "output_index": at,
                    "delta": piece,
                    "obfuscation": _obfuscation(rng),
                }
            )
        arguments = "".join(pieces)
        add(
            {
                "type": "response.function_call_arguments.done",
                "item_id": item_id,
                "output_index": at,
                "arguments": arguments,
            }
        )
        item = {**item, "status": "completed", "arguments": arguments}
        add({"type": "response.output_item.done", "output_index": at, "item": item})
        output.append(item)

    if kind == "text":
        message(_pieces(rng, deltas))
    elif kind == "thinking":
        reasoning(_pieces(rng, deltas))
        message(_pieces(rng, 20))
    else:
        function_call(_json_pieces(rng, deltas, "responses")[0])
    usage = {
        "input_tokens": 11,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": deltas + 20,
        "output_tokens_details": {"reasoning_tokens": deltas if kind == "thinking" else 0},
        "total_tokens": deltas + 31,
    }
    add({"type": "response.completed", "response": _response("completed", output, usage)})
    return w.body(), w.events


GENERATORS = {
    "anthropic-messages": anthropic_stream,
    "openai-chat": chat_stream,
    "openai-responses": responses_stream,
}


@dataclass
class Stream:
    """One timed input: a single long answer, or a corpus of answers timed back to back."""

    name: str
    provider: str
    kind: str  # "text", "thinking", "tool" or "corpus"
    deltas: int  # content deltas of a generated answer; 0 for a corpus
    bodies: list[bytes]
    events: int
    chunks: list[list[bytes]] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)  # the same bodies as files, for subprocesses

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.bodies)


def split_chunks(body: bytes, rng: random.Random, low: int = 1024, high: int = 4096) -> list[bytes]:
    """Cut a body as a socket would hand it over: pieces of `low`..`high` bytes, anywhere."""
    out = []
    at = 0
    while at < len(body):
        step = rng.randint(low, high)
        out.append(body[at : at + step])
        at += step
    return out


def count_events(body: bytes) -> int:
    return sum(1 for line in body.splitlines() if line.startswith(b"data:"))


def corpus_bodies(provider: str) -> list[tuple[str, bytes]]:
    """Every recorded stream of one API: a folder, or a glob of file names."""
    out = []
    for pattern in CORPUS_FOLDERS[provider]:
        paths = sorted(CORPUS.glob(pattern + (".sse" if "*" in pattern else "/*.sse")))
        out.extend((str(p.relative_to(CORPUS)), p.read_bytes()) for p in paths)
    return out


def generated(provider: str, kind: str, deltas: int) -> Stream:
    body, events = GENERATORS[provider](kind, deltas)
    label = f"{deltas // 1000}k" if deltas % 1000 == 0 else str(deltas)
    return Stream(f"{SHORT_API[provider]} {kind} {label}", provider, kind, deltas, [body], events)


def all_generated(sizes: tuple[int, ...]) -> Iterator[Stream]:
    for provider in APIS:
        for kind in KINDS:
            for deltas in sizes:
                yield generated(provider, kind, deltas)


def with_chunks(stream: Stream, seed: int = 7) -> Stream:
    rng = random.Random(seed)
    stream.chunks = [split_chunks(body, rng) for body in stream.bodies]
    return stream
