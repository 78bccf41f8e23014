"""The one-line summary of a finished record that mitmdump prints."""

from __future__ import annotations

from addon.record import Record
from addon.record.summary import summary_of

CACHE_TEXT = 120
CACHE_SHOWN = ("hit", "partial hit", "cache miss")
"""The line shows how the cache did; why nothing was cached at all is left to the record."""
ERROR_TEXT = 200
"""At most this many characters of the first error; the whole text stays in the record."""


def one_line(text: str, limit: int) -> str:
    """White space folded (an error may quote a cut tool input over many lines), then cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_line(record: Record, dump_file: str | None) -> str:
    """provider model stop tools usage ttft duration, then what went wrong, then the file."""
    words = [f"llm {record.provider}"]
    code = record.status_code  # 101: one response of a WebSocket
    ok_status = code is None or 200 <= code < 300 or code == 101
    if isinstance(record.response, dict) and ok_status:
        summary = summary_of(record)
        words.append(summary.model or "?")
        words.append(f"stop={summary.stop_reason}")
        if summary.tool_calls:
            words.append("tools=" + ",".join(summary.tool_calls))
        usage = record.usage or {}
        tokens_in, tokens_out = usage.get("input_tokens"), usage.get("output_tokens")
        if tokens_in is not None or tokens_out is not None:
            words.append(f"tokens={tokens_in}/{tokens_out}")
        cost = record.cost
        if isinstance(cost, dict) and isinstance(cost.get("total"), int | float):
            words.append(f"${cost['total']:.4g}")
    elif record.status_code is not None:
        words.append(f"HTTP {record.status_code}")
    else:
        words.append("no response")
    timing = record.timing
    if timing.get("time_to_first_token") is not None:
        words.append(f"ttft={timing['time_to_first_token']:.2f}s")
    if timing.get("duration") is not None:
        words.append(f"{timing['duration']:.2f}s")
    if record.complete:
        words.append("complete")
    else:
        first = record.errors[0] if record.errors else "no terminal event"
        words.append(f"INCOMPLETE ({one_line(first, ERROR_TEXT)})")
    cache = record.cache
    explanation = cache.get("explanation") if isinstance(cache, dict) else None
    if isinstance(explanation, str) and explanation.startswith(CACHE_SHOWN):
        words.append(f"[{one_line(explanation, CACHE_TEXT)}]")
    if dump_file:
        words.append(f"-> {dump_file}")
    return " ".join(words)
