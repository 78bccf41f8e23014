"""The text mitmweb and the console show for an LLM answer: summary, parts, the API object.

Pure: a `Record` in, text out (`addon/proxy/view.py` is the contentview that asks for it). Only
response-side data and the redacted record are shown, so no credential can appear.
"""

from __future__ import annotations

import json
from typing import Any

from addon.record import Record
from addon.record.summary import summary_of
from addon.sinks.logline import one_line
from addon.wire.jsonvalue import dumps

SOURCES = {
    "stored": "record kept by the addon",
    "rebuilt": "rebuilt from the body now",
    "live": "stream still running: what has arrived so far",
}


def render(record: Record, source: str = "stored") -> str:
    """Summary lines, each part of the answer in order, then the API-exact object as JSON."""
    response = record.response
    lines = [f"provider     {record.provider}  ({SOURCES.get(source, source)})"]
    summary = None
    summary_error = None
    if isinstance(response, dict):
        try:
            summary = summary_of(record)
        except Exception as exc:  # a strange object still gets its JSON shown below
            summary_error = f"summary unavailable: {exc!r}"
    failed = isinstance(record.status_code, int) and record.status_code >= 400
    if summary is not None and not failed:
        lines.append(f"model        {summary.model or '?'}")
        lines.append(f"stop reason  {summary.stop_reason or '-'}")
        usage = _wrap([f"{k}={v}" for k, v in _flat(summary.usage)], "             ")
        lines.append(f"usage        {usage or '-'}")
        cost = record.cost
        if isinstance(cost, dict) and cost.get("total") is not None:
            lines.append(f"cost         {cost['total']} {cost.get('currency') or ''}".rstrip())
        cache = record.cache
        if isinstance(cache, dict) and cache.get("explanation"):
            lines.append(f"cache        {cache['explanation']}")
    lines.append(f"status       {_status(record, source)}")
    streamed = record.streamed
    events = record.events
    lines.append(f"streamed     {f'yes, {events} events' if streamed else 'no (plain JSON)'}")
    timing = _timing(record.timing)
    if timing:
        lines.append(f"timing       {timing}")
    errors = [str(e) for e in record.errors]
    if summary_error:
        errors.append(summary_error)
    for title, items in (("errors", errors), ("warnings", record.warnings)):
        if items:
            lines.append(f"{title}:")
            lines.extend(f"  - {one_line(str(item), 300)}" for item in items)
    unknown = record.unknown_events
    if unknown:
        names = ", ".join(sorted({str(u.get("event")) for u in unknown if isinstance(u, dict)}))
        lines.append(f"unknown events: {len(unknown)} kept in the record ({names})")
    for part in summary.parts if summary is not None else ():
        title = part.kind.replace("_", " ")
        if part.name:
            title = f"{title}: {part.name}"
        lines.append("")
        lines.append(f"── {title} ──")
        lines.append(_pretty_input(part.text) if part.kind == "tool_call" else part.text)
    lines.append("")
    lines.append("── response object (API-exact) ──")
    if response is None:
        lines.append("(nothing rebuilt yet)")
    elif isinstance(response, str):
        lines.append(response)
    else:
        lines.append(dumps(response, indent=True).decode("utf-8", "replace"))
    return "\n".join(lines) + "\n"


def _status(record: Record, source: str) -> str:
    code = record.status_code
    http_part = f"HTTP {code}, " if code is not None else ""
    if source == "live":
        return f"{http_part}streaming"
    return f"{http_part}{'complete' if record.complete else 'INCOMPLETE'}"


def _timing(timing: Any) -> str:
    if not isinstance(timing, dict):
        return ""
    words = []
    for key, label in (
        ("time_to_first_token", "first token"),
        ("duration", "total"),
        ("tokens_per_second", "tokens/s"),
    ):
        value = timing.get(key)
        if value is not None:
            words.append(f"{label} {value}{'' if key == 'tokens_per_second' else 's'}")
    return ", ".join(words)


def _wrap(words: list[str], indent: str, width: int = 80) -> str:
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width - len(indent):
            lines[-1] += " " + word
        else:
            lines.append(word)
    return ("\n" + indent).join(lines)


def _flat(usage: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested usage (`prompt_tokens_details.cached_tokens`) on one line; nulls left out."""
    if not isinstance(usage, dict):
        return []
    out: list[tuple[str, Any]] = []
    for key, value in usage.items():
        if isinstance(value, dict):
            out.extend(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            out.append((f"{prefix}{key}", json.dumps(value, separators=(",", ":"))))
        elif value is not None:
            out.append((f"{prefix}{key}", value))
    return out


def _pretty_input(arguments: str) -> str:
    """Tool input as indented JSON; arguments the model left broken are shown as they are."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except ValueError:
        return f"{arguments}\n(not valid JSON)"
