"""The readable gist of a Messages object: model, stop reason, usage, parts in order."""

from __future__ import annotations

from addon.providers.anthropic_messages.block import TOOL_USE_TYPES
from addon.providers.base import JSON, Part, Summary, compact_json


def summarize(response: JSON) -> Summary:
    if not isinstance(response, dict):
        return Summary()
    usage = response.get("usage")
    summary = Summary(
        model=response.get("model"),
        stop_reason=response.get("stop_reason"),
        usage=dict(usage) if isinstance(usage, dict) else {},
    )
    parts = summary.parts
    if response.get("type") == "error":
        parts.append(Part("error", error_text(response)))
    content = response.get("content")
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            parts.append(Part("unknown", compact_json(block)))
            continue
        block_type = block.get("type")
        if block_type == "text":
            parts.append(Part("text", str(block.get("text") or "")))
        elif block_type == "thinking":
            parts.append(Part("thinking", str(block.get("thinking") or "")))
        elif block_type in TOOL_USE_TYPES or "input" in block:
            name = block.get("name")
            parts.append(
                Part(
                    "tool_call",
                    compact_json(block.get("input")),
                    name=str(name) if name is not None else None,
                )
            )
        else:
            rest = {k: v for k, v in block.items() if k != "type"}
            parts.append(Part(str(block_type), compact_json(rest)))
    return summary


def error_text(body: JSON) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        described = [str(p) for p in (error.get("type"), error.get("message")) if p]
        if described:
            return ": ".join(described)
    return compact_json(error)
