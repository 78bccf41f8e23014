"""Builders for Gemini streams: chunks, parts, and the two ways Google frames them."""

from __future__ import annotations

import json
import random
from typing import Any

JSON = dict[str, Any]


def text(value: str, thought: bool = False, signature: str | None = None, **extra: Any) -> JSON:
    part: JSON = {"text": value}
    if thought:
        part["thought"] = True
    if signature is not None:
        part["thoughtSignature"] = signature
    part.update(extra)
    return part


def call(name: str, args: Any, **extra: Any) -> JSON:
    return {"functionCall": {"name": name, "args": args}, **extra}


def candidate(*parts: JSON, index: int | None = 0, **fields: Any) -> JSON:
    """A streamed candidate (`index=None` leaves the index out, as Gemini 2.0 does)."""
    out: JSON = {}
    if parts:
        out["content"] = {"parts": list(parts), "role": "model"}
    out.update(fields)
    if index is not None:
        out["index"] = index
    return out


def usage(prompt: int, candidates: int | None = None, thoughts: int | None = None) -> JSON:
    out: JSON = {"promptTokenCount": prompt}
    if candidates is not None:
        out["candidatesTokenCount"] = candidates
    if thoughts is not None:
        out["thoughtsTokenCount"] = thoughts
    out["totalTokenCount"] = prompt + (candidates or 0) + (thoughts or 0)
    return out


def chunk(*candidates: JSON, **top: Any) -> JSON:
    out: JSON = {"candidates": list(candidates)} if candidates else {}
    out.setdefault("usageMetadata", top.pop("usage", usage(5)))
    out["modelVersion"] = top.pop("model", "gemini-test")
    out["responseId"] = top.pop("response_id", "resp-1")
    out.update(top)
    return out


def dumps(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def sse(*chunks: Any) -> bytes:
    """`?alt=sse`: `data:` lines ended by CRLF pairs, as Google sends them."""
    return "".join(f"data: {dumps(c)}\r\n\r\n" for c in chunks).encode()


def json_array(*chunks: Any) -> bytes:
    """Without `alt=sse`: one array of pretty-printed elements, as Google sends it."""
    items = [
        c if isinstance(c, str) else json.dumps(c, indent=2, ensure_ascii=False) for c in chunks
    ]
    return ("[" + "\n,\r\n".join(items) + "\n]").encode()


def code_assist(response: JSON, trace_id: str = "trace-1", **extra: Any) -> JSON:
    """A Code Assist (`v1internal`) chunk: the response wrapped with the wrapper's fields."""
    return {"response": response, "traceId": trace_id, **extra}


_WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "é", "🎉", '"q"']


def long_stream(chunks: int, seed: int = 5) -> list[JSON]:
    """A long answer: thinking, then text, in `chunks` chunks with a running usage."""
    rng = random.Random(seed)
    out = []
    thinking = chunks // 4
    for number in range(chunks):
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 8)))
        part = text(words, thought=number < thinking)
        fields: JSON = {}
        if number == chunks - 1:
            part = text(words, signature="c2lnbmF0dXJl")
            fields["finishReason"] = "STOP"
        out.append(
            chunk(
                candidate(part, **fields),
                usage=usage(11, max(0, number - thinking), min(number, thinking)),
                model="gemini-2.5-flash",
                response_id="iCUhao2zJ-LHjuMP1vvH2Qk",
            )
        )
    return out


def code_assist_sample() -> bytes:
    """`gemini/code-assist/constructed__code_assist_stream.sse`: a recorded Gemini 3 tool-call
    stream (pydantic-ai, gemini-3-pro-preview) with each chunk wrapped as Code Assist sends it."""
    from pathlib import Path

    recorded = (
        Path(__file__).parent
        / "corpus/gemini/ai-studio"
        / "pydantic-ai__test_google_streaming_tool_call_thought_signature__0.sse"
    ).read_bytes()
    chunks = [json.loads(b[6:]) for b in recorded.split(b"\r\n\r\n") if b.startswith(b"data: ")]
    return sse(*(code_assist(c, trace_id="4ba4c5a1d2e0f7a3") for c in chunks))


# --- the Interactions API ---------------------------------------------------------------


def ix(kind: str, **fields: Any) -> tuple[str, JSON]:
    """One Interactions event: its SSE name and its data, which names it again."""
    return kind, {**fields, "event_type": kind}


def ix_sse(*events: tuple[str, Any], done: bool = True) -> bytes:
    out = [f"event: {name}\ndata: {dumps(data)}\n\n" for name, data in events]
    if done:
        out.append("event: done\ndata: [DONE]\n\n")
    return "".join(out).encode()


def ix_created(interaction_id: str = "v1_test", model: str = "gemini-2.5-flash") -> Any:
    interaction = {"id": interaction_id, "status": "in_progress", "object": "interaction"}
    return ix("interaction.created", interaction={**interaction, "model": model})


def ix_completed(status: str = "completed", **fields: Any) -> Any:
    usage = {"total_tokens": 30, "total_input_tokens": 10, "total_output_tokens": 15}
    interaction = {"id": "v1_test", "status": status, "usage": {**usage, "total_thought_tokens": 5}}
    return ix("interaction.completed", interaction={**interaction, **fields})


def ix_step(index: int, step_type: str, *deltas: JSON, **start: Any) -> list[Any]:
    """`step.start`, one `step.delta` per delta, `step.stop`."""
    return [
        ix("step.start", index=index, step={"type": step_type, **start}),
        *(ix("step.delta", index=index, delta=d) for d in deltas),
        ix("step.stop", index=index),
    ]
