"""Reading a Gemini response, streamed or not: its usage, its summary, its error."""

from __future__ import annotations

from typing import Any

from addon.providers.base import JSON, Part, Summary, Usage, compact_json, count


def usage_of(response: JSON) -> Usage:
    """Token counts in the shared vocabulary.

    `promptTokenCount` counts the whole prompt, cached content included (Google's docs), so it
    is the input as is. Gemini counts thinking apart from the answer (`totalTokenCount` is the
    sum of prompt, candidates, tool-use prompt and thoughts), while OpenTelemetry's
    `gen_ai.usage.output_tokens` includes reasoning tokens (`gen_ai.usage.reasoning.
    output_tokens` "SHOULD be included"): output is `candidatesTokenCount` plus
    `thoughtsTokenCount`. The prompt of a built-in tool (`toolUsePromptTokenCount`: search
    results, fetched pages) is input the model read and is billed as input, so it is added in,
    as genai-prices does.
    """
    metadata = response.get("usageMetadata")
    if type(metadata) is not dict:
        return Usage()
    candidates = count(metadata.get("candidatesTokenCount"))
    thoughts = count(metadata.get("thoughtsTokenCount"))
    output = (
        None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    )
    prompt = count(metadata.get("promptTokenCount"))
    tool_prompt = count(metadata.get("toolUsePromptTokenCount"))
    return Usage(
        input_tokens=None if prompt is None else prompt + (tool_prompt or 0),
        output_tokens=output,
        cache_read_tokens=count(metadata.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def summarize_response(response: JSON) -> Summary:
    summary = Summary(model=_str(response.get("modelVersion")))
    metadata = response.get("usageMetadata")
    if type(metadata) is dict:
        summary.usage = metadata
    candidates = response.get("candidates")
    if type(candidates) is not list:
        candidates = []
    reasons = [
        str(c["finishReason"]) for c in candidates if type(c) is dict and "finishReason" in c
    ]
    feedback = response.get("promptFeedback")
    if not candidates and type(feedback) is dict and feedback.get("blockReason"):
        summary.stop_reason = f"prompt blocked: {feedback['blockReason']}"
    elif reasons:
        summary.stop_reason = ", ".join(reasons)
    for candidate in candidates:
        content = candidate.get("content") if type(candidate) is dict else None
        parts = content.get("parts") if type(content) is dict else None
        if type(parts) is list:
            summary.parts.extend(_part(p) for p in parts if type(p) is dict)
    return summary


def _part(part: JSON) -> Part:
    """One part for people to read."""
    text = part.get("text")
    if type(text) is str:
        return Part("thinking" if part.get("thought") is True else "text", text)
    for key, kind in (("functionCall", "tool_call"), ("toolCall", "tool_call")):
        call = part.get(key)
        if type(call) is dict:
            name = call.get("name", call.get("toolType"))
            return Part(kind, compact_json(call.get("args", {})), _str(name))
    code = part.get("executableCode")
    if type(code) is dict:
        return Part("executableCode", str(code.get("code", "")), _str(code.get("language")))
    result = part.get("codeExecutionResult")
    if type(result) is dict:
        return Part("codeExecutionResult", str(result.get("output", "")))
    kind = next((k for k in part if k not in ("thoughtSignature", "thought")), "part")
    return Part(kind, compact_json(part.get(kind)))


def describe_error(body: JSON) -> str:
    """'RESOURCE_EXHAUSTED (429): Quota exceeded' from Google's error shape."""
    error = body.get("error")
    if type(error) is dict:
        status, code, message = error.get("status"), error.get("code"), error.get("message")
        head = " ".join(str(p) for p in (status, f"({code})" if code is not None else None) if p)
        text = ": ".join(p for p in (head, str(message) if message else "") if p)
        return text or compact_json(error)
    return str(error)


def _str(value: Any) -> str | None:
    return value if type(value) is str else None
