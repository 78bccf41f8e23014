"""Bedrock requests as a person reads them: Converse's own shape (also Nova's InvokeModel body),
and InvokeModel's per-family bodies (Anthropic Messages, Titan, Llama, Mistral, Cohere).

Converse: `system` and `messages` of content blocks (`text`, `image`, `document`, `toolUse`,
`toolResult`, `reasoningContent`, `guardContent`, `citationsContent`; `cachePoint` markers left
out), tools under `toolConfig.tools[].toolSpec`.
"""

from __future__ import annotations

from typing import Any

from addon.providers.anthropic_messages.request import read_request as read_anthropic
from addon.providers.base import (
    JSON,
    Conversation,
    Message,
    Part,
    Tool,
    generic_block,
    generic_parts,
    json_text,
    media_text,
    read_generic,
    settings_of,
)

_MEDIA = ("image", "document", "video", "audio")


def read_converse(body: Any) -> Conversation:
    if not isinstance(body, dict):
        return read_generic(body)
    names: dict[str, str] = {}
    config = body.get("toolConfig")
    tools = config.get("tools") if isinstance(config, dict) else None
    conversation = Conversation(
        system=_blocks(body.get("system"), names),
        tools=[tool for item in _listed(tools) if (tool := _tool(item)) is not None],
        settings=settings_of(body, ("system", "messages", "toolConfig")),
    )
    for message in _listed(body.get("messages")):
        if isinstance(message, dict):
            role = str(message.get("role") or "?")
            conversation.messages.append(Message(role, _blocks(message.get("content"), names)))
    return conversation


def read_invoke(body: Any) -> Conversation:
    """InvokeModel's body is the model family's own request: read by its shape."""
    if not isinstance(body, dict):
        return read_generic(body)
    messages = _listed(body.get("messages"))
    if messages:
        blocks = [b for m in messages if isinstance(m, dict) for b in _listed(m.get("content"))]
        plain = any(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages)
        if "anthropic_version" in body or plain or any("type" in b for b in blocks):
            return read_anthropic(body)
        return read_converse(body)  # Nova: Converse's shape
    if isinstance(body.get("message"), str):  # Cohere Command
        return _cohere(body)
    for key in ("inputText", "prompt"):  # Titan; Llama, Mistral, Claude 2 text completions
        if isinstance(body.get(key), str):
            rest = settings_of(body, (key,))
            return Conversation(
                messages=[Message("user", [Part("text", body[key])])], settings=rest
            )
    return read_generic(body)


def _cohere(body: JSON) -> Conversation:
    conversation = Conversation(
        system=generic_parts(body.get("preamble")),
        settings=settings_of(body, ("message", "chat_history", "preamble", "tools")),
    )
    for turn in _listed(body.get("chat_history")):
        if isinstance(turn, dict):
            role = str(turn.get("role") or "?").lower()
            conversation.messages.append(Message(role, generic_parts(turn.get("message"))))
    conversation.messages.append(Message("user", [Part("text", body["message"])]))
    return conversation


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _tool(item: Any) -> Tool | None:
    if not isinstance(item, dict) or "cachePoint" in item:
        return None
    spec = item.get("toolSpec")
    if not isinstance(spec, dict):
        key = next(iter(item), "tool")
        inner = item[key] if isinstance(item.get(key), dict) else {}
        return Tool(str(inner.get("name") or key), key, "", inner or None)
    schema = spec.get("inputSchema")
    description = spec.get("description")
    return Tool(
        str(spec.get("name")),
        "function",
        description if isinstance(description, str) else "",
        schema.get("json", schema) if isinstance(schema, dict) else schema,
    )


def _blocks(content: Any, names: dict[str, str]) -> list[Part]:
    if isinstance(content, str):
        return [Part("text", content)]
    return [part for block in _listed(content) for part in _block(block, names)]


def _block(block: Any, names: dict[str, str]) -> list[Part]:
    if not isinstance(block, dict):
        return generic_block(block)
    if "cachePoint" in block:
        return []
    if isinstance(block.get("text"), str):
        return [Part("text", block["text"])]
    use = block.get("toolUse")
    if isinstance(use, dict):
        name = str(use.get("name"))
        if isinstance(use.get("toolUseId"), str):
            names[use["toolUseId"]] = name
        return [Part("tool_call", json_text(use.get("input")), name)]
    result = block.get("toolResult")
    if isinstance(result, dict):
        used = result.get("toolUseId")
        answered = names.get(used, used) if isinstance(used, str) else None
        lines = []
        for item in _listed(result.get("content")):
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                lines.append(item["text"])
            elif isinstance(item, dict) and "json" in item:
                lines.append(json_text(item["json"]))
            else:
                lines.extend(f"[{p.kind}: {p.text}]" for p in _block(item, names))
        kind = "tool_error" if result.get("status") == "error" else "tool_result"
        return [Part(kind, "\n".join(lines), answered)]
    reasoning = block.get("reasoningContent")
    if isinstance(reasoning, dict):
        text = reasoning.get("reasoningText")
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            return [Part("thinking", text["text"])]
        return [Part("redacted_thinking", media_text(reasoning))]
    guard = block.get("guardContent")
    if isinstance(guard, dict):
        text = guard.get("text")
        shown = text.get("text") if isinstance(text, dict) else None
        return [Part("guard_content", str(shown) if shown is not None else json_text(guard))]
    cited = block.get("citationsContent")
    if isinstance(cited, dict):
        return [
            Part(
                "text",
                "".join(
                    str(c.get("text") or "")
                    for c in _listed(cited.get("content"))
                    if isinstance(c, dict)
                ),
            )
        ]
    for media in _MEDIA:
        if isinstance(block.get(media), dict):
            return [Part(media, media_text(block[media]))]
    return generic_block(block)
