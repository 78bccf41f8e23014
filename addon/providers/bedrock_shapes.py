"""What Converse answers and InvokeModel's Converse-shaped ones (Nova) share: their usage and
their readable parts."""

from __future__ import annotations

from typing import Any

from addon.providers.base import JSON, Part, Usage, compact_json
from addon.providers.base import count as _count

__all__ = ["converse_parts", "converse_usage"]


def converse_usage(usage: Any) -> Usage:
    """`Usage` of a Converse (or Nova) `usage` object: input counts cache reads and writes."""
    if not isinstance(usage, dict):
        return Usage()
    read = _count(usage.get("cacheReadInputTokens", usage.get("cacheReadInputTokenCount")))
    write = _count(usage.get("cacheWriteInputTokens", usage.get("cacheWriteInputTokenCount")))
    plain = _count(usage.get("inputTokens"))
    return Usage(
        input_tokens=None if plain is None else plain + (read or 0) + (write or 0),
        output_tokens=_count(usage.get("outputTokens")),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def converse_parts(response: JSON) -> list[Part]:
    """Readable parts of a Converse-shaped response's message content."""
    output = response.get("output")
    message = output.get("message") if isinstance(output, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    parts: list[Part] = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict) or len(block) != 1:
            parts.append(Part("unknown", compact_json(block)))
            continue
        ((kind, value),) = block.items()
        if kind == "text":
            parts.append(Part("text", str(value)))
        elif kind == "toolUse" and isinstance(value, dict):
            name = value.get("name")
            parts.append(
                Part("tool_call", compact_json(value.get("input")), name=_text_or_none(name))
            )
        elif kind == "reasoningContent" and isinstance(value, dict):
            text = value.get("reasoningText")
            if isinstance(text, dict):
                parts.append(Part("thinking", str(text.get("text") or "")))
            else:
                parts.append(Part("thinking", "[redacted]"))
        elif kind == "citationsContent" and isinstance(value, dict):
            pieces = value.get("content")
            texts = (
                [p.get("text") for p in pieces if isinstance(p, dict)]
                if isinstance(pieces, list)
                else []
            )
            parts.append(Part("text", "".join(t for t in texts if isinstance(t, str))))
        else:
            parts.append(Part(str(kind), compact_json(value)))
    return parts


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
