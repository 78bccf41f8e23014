"""The readable gist of a Responses object: model, stop reason, usage, parts in order."""

from __future__ import annotations

from typing import Any

import orjson

from addon.providers.base import JSON, Part, Summary
from addon.providers.openai_responses.state import _error_text


def summarize(response: JSON) -> Summary:
    status = response.get("status")
    details = response.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, dict) else None
    stop_reason = f"{status}: {reason}" if status and reason else status or reason
    parts: list[Part] = []
    for item in _listed(response.get("output")):
        if isinstance(item, dict):
            parts.extend(_item_parts(item))
    error = response.get("error")
    if error:
        parts.append(Part("error", _error_text(error)))
    return Summary(
        model=response.get("model"),
        stop_reason=stop_reason,
        usage=response.get("usage") or {},
        parts=parts,
    )


def _text(value: Any) -> str:
    """Text for a Part: strings as they are, anything else as JSON (never raises)."""
    if isinstance(value, str):
        return value
    return "" if value is None else orjson.dumps(value, default=repr).decode()


def _name(item: JSON) -> str | None:
    name = item.get("name")
    return name if isinstance(name, str) else None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _item_parts(item: JSON) -> list[Part]:
    """The readable pieces of one output item, in order."""
    kind = item.get("type")
    if kind == "message":
        parts = []
        for content in _listed(item.get("content")):
            ctype = content.get("type") if isinstance(content, dict) else None
            if ctype == "output_text":
                parts.append(Part("text", _text(content.get("text"))))
            elif ctype == "refusal":
                parts.append(Part("refusal", _text(content.get("refusal"))))
            else:
                parts.append(Part(str(ctype), _text(content)))
        return parts
    if kind == "reasoning":
        pieces = [*_listed(item.get("summary")), *_listed(item.get("content"))]
        return [Part("thinking", _text(p.get("text"))) for p in pieces if isinstance(p, dict)]
    if kind == "function_call":
        return [Part("tool_call", _text(item.get("arguments")), _name(item))]
    if kind == "custom_tool_call":
        return [Part("tool_call", _text(item.get("input")), _name(item))]
    # Other items by their type, with what best says what they did.
    for key in ("arguments", "code", "input"):
        if isinstance(item.get(key), str):
            return [Part(str(kind), item[key], _name(item))]
    action = item.get("action")
    return [Part(str(kind), _text(action) if action else "", _name(item))]
