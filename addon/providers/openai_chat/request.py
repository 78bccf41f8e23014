"""A Chat Completions request as a person reads it: the leading system and developer messages as
the system prompt, tools (and legacy `functions`), then the messages with their content parts,
tool calls and tool results (named after the call they answer)."""

from __future__ import annotations

from typing import Any

from addon.providers.base import (
    JSON,
    Conversation,
    Message,
    Part,
    Tool,
    generic_block,
    generic_tools,
    json_text,
    media_text,
    read_generic,
    settings_of,
)

_SYSTEM_ROLES = ("system", "developer")


def read_request(body: Any) -> Conversation:
    if not isinstance(body, dict):
        return read_generic(body)
    conversation = Conversation(settings=settings_of(body, ("messages", "tools", "functions")))
    for tool in [*_listed(body.get("tools")), *_listed(body.get("functions"))]:
        conversation.tools.extend(_tool(tool))
    names: dict[str, str] = {}
    leading = True
    for message in _listed(body.get("messages")):
        if not isinstance(message, dict):
            conversation.messages.append(Message("?", generic_block(message)))
            continue
        role = str(message.get("role") or "?")
        parts = _message_parts(message, names)
        if leading and role in _SYSTEM_ROLES:
            conversation.system.extend(parts)
            continue
        leading = False
        conversation.messages.append(Message(role, parts))
    return conversation


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _tool(tool: Any) -> list[Tool]:
    if isinstance(tool, dict) and tool.get("type") == "custom":
        custom = tool["custom"] if isinstance(tool.get("custom"), dict) else {}
        description = custom.get("description")
        return [
            Tool(
                str(custom.get("name")),
                "custom",
                description if isinstance(description, str) else "",
                custom.get("format"),
            )
        ]
    return generic_tools(tool)


def _message_parts(message: JSON, names: dict[str, str]) -> list[Part]:
    parts: list[Part] = []
    for key in ("reasoning_content", "reasoning"):
        if isinstance(message.get(key), str) and message[key]:
            parts.append(Part("thinking", message[key]))
    content = message.get("content")
    role = message.get("role")
    if role in ("tool", "function"):
        called = message.get("tool_call_id")
        name = names.get(called, called) if isinstance(called, str) else message.get("name")
        text = "\n".join(p.text for p in _content(content))
        return [Part("tool_result", text, str(name) if name is not None else None)]
    parts.extend(_content(content))
    if isinstance(message.get("refusal"), str) and message["refusal"]:
        parts.append(Part("refusal", message["refusal"]))
    legacy = message.get("function_call")
    calls = [{"function": legacy}] if isinstance(legacy, dict) else []
    for call in [*calls, *_listed(message.get("tool_calls"))]:
        if not isinstance(call, dict):
            continue
        function = call.get("function") or call.get(str(call.get("type")))
        if not isinstance(function, dict):
            parts.append(Part("tool_call", json_text(call)))
            continue
        name = str(function.get("name"))
        if isinstance(call.get("id"), str):
            names[call["id"]] = name
        arguments = function.get("arguments", function.get("input"))
        parts.append(Part("tool_call", json_text(arguments), name))
    return parts


def _content(content: Any) -> list[Part]:
    if isinstance(content, str):
        return [Part("text", content)]
    parts = []
    for item in _listed(content):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text" or (kind is None and isinstance(item, dict) and "text" in item):
            parts.append(Part("text", str(item.get("text") or "")))
        elif kind == "refusal":
            parts.append(Part("refusal", str(item.get("refusal") or "")))
        elif kind in ("image_url", "input_audio", "file"):
            inner = item.get(kind)
            parts.append(Part(kind, media_text(inner if inner is not None else item)))
        else:
            parts.extend(generic_block(item))
    return parts
