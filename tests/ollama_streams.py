"""Builders for Ollama streams: NDJSON lines of `/api/chat` and `/api/generate`."""

from __future__ import annotations

import json
import random
from typing import Any

JSON = dict[str, Any]

STATS: JSON = {
    "total_duration": 8625649709,
    "load_duration": 142828459,
    "prompt_eval_count": 21,
    "prompt_eval_duration": 59321000,
    "eval_count": 889,
    "eval_duration": 8419494000,
}


def chat_line(
    content: str = "", done: bool = False, model: str = "qwen3:8b", **message: Any
) -> JSON:
    line: JSON = {
        "model": model,
        "created_at": "2026-08-07T06:08:14.947137Z",
        "message": {"role": "assistant", "content": content, **message},
        "done": done,
    }
    if done:
        line.update({"done_reason": "stop", **STATS})
    return line


def generate_line(response: str = "", done: bool = False, **fields: Any) -> JSON:
    line: JSON = {
        "model": "gemma3:1b",
        "created_at": "2025-05-19T09:26:59.678947Z",
        "response": response,
        "done": done,
    }
    if done:
        line.update({"done_reason": "stop", "context": [105, 2364, 107], **STATS})
    line.update(fields)
    return line


def tool_call(name: str, arguments: Any, index: int = 0, call_id: str | None = None) -> JSON:
    call: JSON = {"function": {"index": index, "name": name, "arguments": arguments}}
    if call_id is not None:
        call = {"id": call_id, **call}
    return call


def ndjson(*lines: Any) -> bytes:
    return "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines).encode()


_WORDS = ["the", " quick", " brown", " fox", "\n", " é", " 🎉", ' "q"', "1", "2"]


def long_chat(lines: int, seed: int = 9) -> list[JSON]:
    """A long thinking-then-answering chat stream, one word per line as Ollama sends it."""
    rng = random.Random(seed)
    thinking = lines // 3
    out = [
        chat_line("", thinking=rng.choice(_WORDS))
        if n < thinking
        else chat_line(rng.choice(_WORDS))
        for n in range(lines - 1)
    ]
    out.append(chat_line("", done=True))
    return out


def long_generate(lines: int, seed: int = 10) -> list[JSON]:
    """A long `/api/generate` stream: thinking first, then the response, one word per line."""
    rng = random.Random(seed)
    thinking = lines // 3
    out = [
        generate_line("", thinking=rng.choice(_WORDS))
        if n < thinking
        else generate_line(rng.choice(_WORDS))
        for n in range(lines - 1)
    ]
    out.append(generate_line("", done=True))
    return out
