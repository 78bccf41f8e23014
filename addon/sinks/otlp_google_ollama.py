"""GenAI content attributes for Gemini (generateContent, Code Assist) and Ollama."""

from __future__ import annotations

from typing import Any

from addon.sinks.otlp_genai import JSON, Content, genai_content, listed

_ROLES = {"model": "assistant", "user": "user", "function": "tool"}


def _gemini_part(part: Any) -> JSON:
    if not isinstance(part, dict):
        return {"type": "unknown", "value": part}
    if isinstance(part.get("text"), str):
        return {"type": "reasoning" if part.get("thought") else "text", "content": part["text"]}
    call = part.get("functionCall")
    if isinstance(call, dict):
        return {
            "type": "tool_call",
            "id": call.get("id"),
            "name": str(call.get("name") or ""),
            "arguments": call.get("args"),
        }
    result = part.get("functionResponse")
    if isinstance(result, dict):
        return {"type": "tool_call_response", "id": result.get("id"), "response": result}
    data = part.get("inlineData")
    if isinstance(data, dict):
        return {"type": "blob", "mime_type": data.get("mimeType"), "content": data.get("data")}
    return {"type": next(iter(part), "unknown"), **part}


def _gemini_message(content: Any) -> JSON:
    content = content if isinstance(content, dict) else {}
    role = _ROLES.get(str(content.get("role") or "user"), "user")
    return {"role": role, "parts": [_gemini_part(p) for p in listed(content.get("parts"))]}


def gemini(body: JSON, response: JSON) -> Content:
    """`contents`, `systemInstruction` and `tools` of the request; the candidates of the answer.

    Code Assist wraps both: `{"request": {...}}` and `{"response": {...}}`."""
    body = body.get("request", body) if isinstance(body.get("request"), dict) else body
    inner = response.get("response")
    response = inner if isinstance(inner, dict) else response
    system = body.get("systemInstruction") or body.get("system_instruction")
    tools = [
        {"type": "function", "name": str(d.get("name") or ""), **d}
        for tool in listed(body.get("tools"))
        if isinstance(tool, dict)
        for d in listed(tool.get("functionDeclarations"))
        if isinstance(d, dict)
    ]
    output = []
    for candidate in listed(response.get("candidates")):
        if isinstance(candidate, dict):
            message = _gemini_message(candidate.get("content"))
            message["role"] = "assistant"
            message["finish_reason"] = str(candidate.get("finishReason") or "").lower() or "error"
            output.append(message)
    return genai_content(
        _gemini_message(system)["parts"] if system else [],
        [_gemini_message(c) for c in listed(body.get("contents"))],
        output,
        tools,
    )


def _ollama_message(message: Any) -> JSON:
    message = message if isinstance(message, dict) else {}
    parts: list[JSON] = []
    if message.get("thinking"):
        parts.append({"type": "reasoning", "content": str(message["thinking"])})
    if message.get("content"):
        parts.append({"type": "text", "content": str(message["content"])})
    for call in listed(message.get("tool_calls")):
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            parts.append(
                {
                    "type": "tool_call",
                    "name": str(function.get("name") or ""),
                    "arguments": function.get("arguments"),
                }
            )
    return {"role": str(message.get("role") or "user"), "parts": parts}


def ollama(body: JSON, response: JSON) -> Content:
    """`/api/chat` messages or `/api/generate` prompt and system; the answer's message."""
    finish = str(response.get("done_reason") or "stop")
    if "messages" in body:
        messages = [_ollama_message(m) for m in listed(body.get("messages"))]
        answer = _ollama_message(response.get("message"))
    else:
        messages = [
            {"role": "user", "parts": [{"type": "text", "content": str(body.get("prompt") or "")}]}
        ]
        answer = {
            "role": "assistant",
            "parts": [{"type": "text", "content": str(response.get("response") or "")}],
        }
    answer["role"] = "assistant"
    answer["finish_reason"] = finish
    system = body.get("system")
    return genai_content(
        [{"type": "text", "content": system}] if system else [],
        messages,
        [answer],
        [t for t in listed(body.get("tools")) if isinstance(t, dict)],
    )
