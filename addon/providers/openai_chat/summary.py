"""The readable gist of a chat completion: model, stop reasons, usage, parts in order."""

from __future__ import annotations

from typing import Any

import orjson

from addon.providers.base import JSON, Part, Summary


def summarize(response: JSON) -> Summary:
    summary = Summary(model=_str_or_none(response.get("model")))
    usage = response.get("usage")
    if type(usage) is dict:
        summary.usage = usage
    choices = response.get("choices")
    if type(choices) is not list:
        choices = []
    finish_reasons = [c.get("finish_reason") for c in choices if type(c) is dict]
    if len(finish_reasons) == 1:
        summary.stop_reason = _str_or_none(finish_reasons[0])
    elif finish_reasons:
        summary.stop_reason = ", ".join(str(r) for r in finish_reasons)
    parts = summary.parts
    for choice in choices:
        message = choice.get("message") if type(choice) is dict else None
        if type(message) is dict:
            parts.extend(_message_parts(message))
    return summary


def _message_parts(message: JSON) -> list[Part]:
    """The readable pieces of one message, in the order a person would read them."""
    parts: list[Part] = []
    for key in ("reasoning_content", "reasoning"):
        reasoning = message.get(key)
        if type(reasoning) is str and reasoning:
            parts.append(Part("thinking", reasoning))
    content = message.get("content")
    if type(content) is str and content:
        parts.append(Part("text", content))
    elif type(content) is list:  # content parts, as some compatible servers send them
        for item in content:
            if type(item) is dict and type(item.get("text")) is str:
                parts.append(Part("text", item["text"]))
    refusal = message.get("refusal")
    if type(refusal) is str and refusal:
        parts.append(Part("refusal", refusal))
    audio = message.get("audio")
    if type(audio) is dict and type(audio.get("transcript")) is str:
        parts.append(Part("audio", audio["transcript"]))
    function_call = message.get("function_call")
    if type(function_call) is dict:
        parts.append(_call_part(function_call))
    tool_calls = message.get("tool_calls")
    if type(tool_calls) is list:
        for call in tool_calls:
            if type(call) is not dict:
                continue
            function = call.get("function")
            if type(function) is dict:
                parts.append(_call_part(function))
            else:  # e.g. a `custom` tool call: {"custom": {"name", "input"}}
                kind = call.get("type")
                body = call.get(kind) if type(kind) is str else None
                if type(body) is dict:
                    text = body.get("input")
                    parts.append(
                        Part(
                            "tool_call",
                            text if type(text) is str else orjson.dumps(body).decode(),
                            _str_or_none(body.get("name")),
                        )
                    )
    return parts


def _call_part(function: JSON) -> Part:
    arguments = function.get("arguments")
    return Part(
        "tool_call",
        arguments if type(arguments) is str else "",
        _str_or_none(function.get("name")),
    )


def _str_or_none(value: Any) -> str | None:
    return value if type(value) is str else None


def describe_error(error: Any) -> str:
    """'server_error: The server had an error' from the error shapes servers send."""
    if type(error) is dict:
        kind = error.get("type") or error.get("code")
        message = error.get("message")
        text = ": ".join(str(p) for p in (kind, message) if p)
        return text or orjson.dumps(error).decode()
    return str(error)
