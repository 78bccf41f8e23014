"""A Responses request as a person reads it: `instructions` and the leading system or developer
items as the system prompt, tools, then the `input` items: messages with their content parts,
function calls and their outputs (named after the call they answer), reasoning summaries."""

from __future__ import annotations

from typing import Any

from addon.providers.base import (
    Conversation,
    Message,
    Part,
    generic_block,
    generic_parts,
    generic_tools,
    json_text,
    media_text,
    read_generic,
    settings_of,
)

_SYSTEM_ROLES = ("system", "developer")
_CALLS = ("function_call", "custom_tool_call")
_OUTPUTS = ("function_call_output", "custom_tool_call_output")


def read_request(body: Any) -> Conversation:
    if not isinstance(body, dict):
        return read_generic(body)
    conversation = Conversation(
        system=generic_parts(body.get("instructions")),
        tools=[t for tool in _listed(body.get("tools")) for t in generic_tools(tool)],
        settings=settings_of(body, ("instructions", "input", "tools")),
    )
    items = body.get("input")
    if not isinstance(items, list):
        items = [] if items is None else [{"role": "user", "content": items}]
    names: dict[str, str] = {}
    leading = True
    for item in items:
        message = _item(item, names)
        if leading and message.role in _SYSTEM_ROLES:
            conversation.system.extend(message.parts)
            continue
        leading = False
        conversation.messages.append(message)
    return conversation


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _item(item: Any, names: dict[str, str]) -> Message:
    if not isinstance(item, dict):
        return Message("user", generic_parts(item))
    kind = item.get("type")
    if isinstance(item.get("role"), str) and kind in (None, "message"):
        return Message(item["role"], _content(item.get("content")))
    if kind in _CALLS:
        name = str(item.get("name"))
        if isinstance(item.get("call_id"), str):
            names[item["call_id"]] = name
        value = item.get("arguments", item.get("input"))
        return Message("assistant", [Part("tool_call", json_text(value), name)])
    if kind in _OUTPUTS:
        called = item.get("call_id")
        answered = names.get(called, called) if isinstance(called, str) else None
        output = item.get("output")
        text = output if isinstance(output, str) else "\n".join(p.text for p in _content(output))
        return Message("tool", [Part("tool_result", text, answered)])
    if kind == "reasoning":
        pieces = [*_listed(item.get("summary")), *_listed(item.get("content"))]
        parts = [Part("thinking", str(p.get("text"))) for p in pieces if isinstance(p, dict)]
        if not parts and item.get("encrypted_content"):
            parts.append(Part("reasoning", "encrypted: " + media_text(item["encrypted_content"])))
        return Message("assistant", parts)
    role = "tool" if isinstance(kind, str) and kind.endswith("_output") else "assistant"
    if kind == "item_reference":
        role = "reference"
    return Message(role, generic_block(item))


def _content(content: Any) -> list[Part]:
    if isinstance(content, str):
        return [Part("text", content)]
    parts: list[Part] = []
    for part in _listed(content):
        if not isinstance(part, dict):
            parts.extend(generic_block(part))
            continue
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text"):
            parts.append(Part("text", str(part.get("text") or "")))
        elif kind == "refusal":
            parts.append(Part("refusal", str(part.get("refusal") or "")))
        elif kind in ("input_image", "input_file", "input_audio"):
            parts.append(Part(str(kind).removeprefix("input_"), media_text(part)))
        else:
            parts.extend(generic_block(part))
    return parts
