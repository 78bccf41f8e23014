"""A Messages request as a person reads it: system blocks, tools, messages of content blocks.

Tool results name the tool they answer (by the `tool_use` id earlier in the conversation);
`cache_control` markers are left out (they move each turn and are not content); images and
documents are named by type and size, never by their bytes.
"""

from __future__ import annotations

from typing import Any

from addon.providers.anthropic_messages.block import TOOL_USE_TYPES
from addon.providers.base import (
    Conversation,
    Message,
    Part,
    Tool,
    generic_block,
    json_text,
    media_text,
    read_generic,
    settings_of,
)

_MEDIA = frozenset({"image", "document", "container_upload", "file", "search_result"})


def read_request(body: Any) -> Conversation:
    if not isinstance(body, dict):
        return read_generic(body)
    names: dict[str, str] = {}
    conversation = Conversation(
        system=_blocks(body.get("system"), names),
        tools=[_tool(t) for t in _listed(body.get("tools"))],
        settings=settings_of(body, ("system", "tools", "messages")),
    )
    for message in _listed(body.get("messages")):
        if isinstance(message, dict):
            role = str(message.get("role") or "?")
            conversation.messages.append(Message(role, _blocks(message.get("content"), names)))
        else:
            conversation.messages.append(Message("?", generic_block(message)))
    return conversation


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _tool(tool: Any) -> Tool:
    if not isinstance(tool, dict):
        return Tool(json_text(tool), "unknown")
    kind = tool.get("type")
    name = tool.get("name")
    description = tool.get("description")
    schema = tool.get("input_schema")
    if schema is None and kind not in (None, "custom"):  # a server tool: its settings
        schema = {k: v for k, v in tool.items() if k not in ("type", "name", "cache_control")}
    return Tool(
        str(name if name is not None else kind),
        str(kind or "function"),
        description if isinstance(description, str) else "",
        schema,
    )


def _blocks(content: Any, names: dict[str, str]) -> list[Part]:
    if isinstance(content, str):
        return [Part("text", content)]
    return [part for block in _listed(content) for part in _block(block, names)]


def _block(block: Any, names: dict[str, str]) -> list[Part]:
    if not isinstance(block, dict):
        return generic_block(block)
    kind = str(block.get("type"))
    if kind == "text":
        return [Part("text", str(block.get("text") or ""))]
    if kind == "thinking":
        return [Part("thinking", str(block.get("thinking") or ""))]
    if kind == "redacted_thinking":
        return [Part("redacted_thinking", media_text(block))]
    if kind in TOOL_USE_TYPES:
        name = str(block.get("name"))
        if isinstance(block.get("id"), str):
            names[block["id"]] = name
        return [Part("tool_call", json_text(block.get("input")), name)]
    if kind == "tool_result" or kind.endswith("_tool_result"):
        used = block.get("tool_use_id")
        answered = names.get(used, used) if isinstance(used, str) else None
        text = _result_text(block.get("content"), names)
        return [Part("tool_error" if block.get("is_error") else "tool_result", text, answered)]
    if kind in _MEDIA:
        title = block.get("title")
        shown = media_text(block.get("source") or block)
        return [Part(kind, f"{title} · {shown}" if isinstance(title, str) else shown)]
    rest = {k: v for k, v in block.items() if k not in ("type", "cache_control")}
    return [Part(kind, json_text(rest))]


def _result_text(content: Any, names: dict[str, str]) -> str:
    """A tool result's content as one text: its text blocks, other blocks named."""
    if isinstance(content, str):
        return content
    lines = []
    for part in _blocks(content, names):
        lines.append(part.text if part.kind == "text" else f"[{part.kind}: {part.text}]")
    return "\n".join(lines)
