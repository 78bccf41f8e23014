"""The content of one LLM call in the GenAI conventions' JSON shapes, for `sinks.otlp`.

`gen_ai.system_instructions`, `gen_ai.input.messages`, `gen_ai.output.messages` and
`gen_ai.tool.definitions` (open-telemetry/semantic-conventions-genai: messages are
`{role, parts}`, parts are `text`, `tool_call`, `tool_call_response`, `reasoning`, `blob`,
`uri`, `file`, `server_tool_call(_response)`, or any other type kept as it came). Each API's
request body and response object are mapped by their own shapes; what does not fit a known
part is kept whole as a generic part, never dropped. Pure data in and out.
"""

from __future__ import annotations

from typing import Any

from addon.providers import PROVIDERS
from addon.providers.bedrock_invoke import shape_of
from addon.sinks.otlp_genai import JSON, Content, genai_content, listed
from addon.sinks.otlp_google_ollama import gemini, ollama
from addon.wire.jsonvalue import loads_exact

ANTHROPIC = ("anthropic-messages", "anthropic-vertex")


def content_of(provider: str, body: Any, response: Any) -> Content:
    """The four content attributes an API's request and answer give (absent ones left out)."""
    body = body if isinstance(body, dict) else {}
    response = response if isinstance(response, dict) else {}
    if provider in ANTHROPIC or (provider == "bedrock-invoke" and "messages" in body):
        out = _anthropic(body, response)
    elif provider == "openai-chat":
        out = _chat(body, response)
    elif provider == "openai-responses":
        out = _responses(body, response)
    elif provider == "openai-completions":
        out = _completions(body, response)
    elif provider == "bedrock-converse" or shape_of(response) == "nova":
        out = _converse(body, response)
    elif provider == "bedrock-invoke":
        out = _invoke_text(body, response)
    elif provider in ("gemini", "gemini-code-assist"):
        out = gemini(body, response)
    elif provider in ("ollama-chat", "ollama-generate"):
        out = ollama(body, response)
    else:
        out = _from_summary(provider, body, response)
    return {name: value for name, value in out.items() if value}


def _from_summary(provider: str, body: JSON, response: JSON) -> Content:
    """Any other API: the request's `input` text and the answer's parts as its summary reads
    them (Gemini Interactions, a provider added later)."""
    found = PROVIDERS.get(provider)
    if found is None or not response:
        return {}
    kinds = {"text": "text", "thinking": "reasoning"}
    parts = [
        {"type": kinds[p.kind], "content": p.text}
        if p.kind in kinds
        else {"type": "tool_call", "name": p.name or "", "arguments": _arguments(p.text)}
        if p.kind == "tool_call"
        else {"type": p.kind, "content": p.text}
        for p in found.accumulator.summarize(response).parts
    ]
    given = body.get("input")
    messages = [{"role": "user", "parts": [_text(given)]}] if isinstance(given, str) else []
    return {
        "gen_ai.input.messages": messages,
        "gen_ai.output.messages": [{"role": "assistant", "parts": parts, "finish_reason": "stop"}],
    }


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _s(value: Any, default: str = "") -> str:
    """Strings where the shapes require them (a reader validating them drops the whole list
    for one null name)."""
    return value if isinstance(value, str) else default


def _text(content: Any) -> JSON:
    return {"type": "text", "content": _s(content)}


def _generic(part: JSON) -> JSON:
    """A part of a type the conventions do not name, kept whole under its own type."""
    out = dict(part)
    out["type"] = _s(out.get("type"), "unknown")
    return out


def _arguments(value: Any) -> Any:
    """Tool arguments as an object where the API sent a JSON string (best effort)."""
    if isinstance(value, str):
        try:
            return loads_exact(value)
        except ValueError:
            return value
    return value


def _tool(name: Any, description: Any, parameters: Any) -> JSON:
    tool: JSON = {"type": "function", "name": _s(name)}
    if description is not None:
        tool["description"] = description
    if parameters is not None:
        tool["parameters"] = parameters
    return tool


def _data_url(url: str, modality: str) -> JSON:
    """`data:<mime>;base64,<data>` is a blob; any other URL a uri part."""
    if url.startswith("data:") and ";base64," in url:
        head, data = url[5:].split(";base64,", 1)
        return {"type": "blob", "modality": modality, "mime_type": head or None, "content": data}
    return {"type": "uri", "modality": modality, "uri": url}


# Anthropic Messages (also on Vertex and Bedrock InvokeModel) -------------------------------


def _anthropic(body: JSON, response: JSON) -> Content:
    system = body.get("system")
    if isinstance(system, str):
        instructions = [_text(system)]
    else:
        instructions = [
            _text(block["text"])
            for block in listed(system)
            if isinstance(block, dict) and isinstance(block.get("text"), str)
        ]
    messages = [
        {"role": _s(m.get("role"), "user"), "parts": _anthropic_parts(m.get("content"))}
        for m in listed(body.get("messages"))
        if isinstance(m, dict)
    ]
    tools = []
    for tool in listed(body.get("tools")):
        if not isinstance(tool, dict):
            continue
        kind = tool.get("type")
        if kind in (None, "custom"):
            tools.append(_tool(tool.get("name"), tool.get("description"), tool.get("input_schema")))
        else:  # a server tool (web_search_…, bash_…): its type names it
            tools.append({"type": _s(kind, "unknown"), "name": _s(tool.get("name"), _s(kind))})
    output = []
    if "content" in response:
        output.append(
            {
                "role": _s(response.get("role"), "assistant"),
                "parts": _anthropic_parts(response.get("content")),
                "finish_reason": _s(response.get("stop_reason"), "error"),
            }
        )
    return genai_content(instructions, messages, output, tools)


def _anthropic_parts(content: Any) -> list[JSON]:
    if isinstance(content, str):
        return [_text(content)]
    return [_anthropic_part(block) for block in listed(content) if isinstance(block, dict)]


def _anthropic_part(block: JSON) -> JSON:
    kind = block.get("type")
    if kind == "text":
        return _text(block.get("text"))
    if kind == "thinking":
        return {"type": "reasoning", "content": _s(block.get("thinking"))}
    if kind == "tool_use":
        return {
            "type": "tool_call",
            "id": block.get("id"),
            "name": _s(block.get("name")),
            "arguments": block.get("input"),
        }
    if kind == "tool_result":
        return {
            "type": "tool_call_response",
            "id": block.get("tool_use_id"),
            "response": block.get("content"),
        }
    if kind == "server_tool_use":
        return {
            "type": "server_tool_call",
            "id": block.get("id"),
            "name": _s(block.get("name")),
            "server_tool_call": {"type": _s(block.get("name"), kind), "input": block.get("input")},
        }
    if isinstance(kind, str) and kind.endswith("_tool_result"):
        return {
            "type": "server_tool_call_response",
            "id": block.get("tool_use_id"),
            "server_tool_call_response": {"type": kind, "content": block.get("content")},
        }
    if kind in ("image", "document"):
        source = _dict(block.get("source"))
        modality = "image" if kind == "image" else "document"
        if source.get("type") == "base64":
            return {
                "type": "blob",
                "modality": modality,
                "mime_type": source.get("media_type"),
                "content": _s(source.get("data")),
            }
        if source.get("type") == "url":
            return {"type": "uri", "modality": modality, "uri": _s(source.get("url"))}
        if source.get("type") == "file":
            return {"type": "file", "modality": modality, "file_id": _s(source.get("file_id"))}
    return _generic(block)


# OpenAI Chat Completions and legacy Completions ----------------------------------------------


def _chat(body: JSON, response: JSON) -> Content:
    messages = [_chat_message(m) for m in listed(body.get("messages")) if isinstance(m, dict)]
    tools = []
    for tool in listed(body.get("tools")):
        if not isinstance(tool, dict):
            continue
        function = tool.get("function")
        if isinstance(function, dict):
            tools.append(
                _tool(function.get("name"), function.get("description"), function.get("parameters"))
            )
        else:
            kind = _s(tool.get("type"), "unknown")
            tools.append({"type": kind, "name": _s(tool.get("name"), kind)})
    output = []
    for choice in listed(response.get("choices")):
        if not isinstance(choice, dict):
            continue
        message = _chat_message(_dict(choice.get("message")) or {"role": "assistant"})
        message["finish_reason"] = _s(choice.get("finish_reason"), "error")
        output.append(message)
    return {
        "gen_ai.input.messages": messages,
        "gen_ai.output.messages": output,
        "gen_ai.tool.definitions": tools,
    }


def _chat_message(message: JSON) -> JSON:
    """Instructions in the history (system, developer) stay in it, as the conventions say."""
    role = _s(message.get("role"), "assistant")
    parts: list[JSON] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        parts.append({"type": "reasoning", "content": reasoning})
    content = message.get("content")
    if role == "tool":
        if isinstance(content, list):
            content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": message.get("tool_call_id"),
                    "response": content,
                }
            ],
        }
    if isinstance(content, str):
        parts.append(_text(content))
    for part in listed(content):
        if isinstance(part, dict):
            parts.append(_chat_part(part))
    if isinstance(message.get("refusal"), str):
        parts.append({"type": "refusal", "content": message["refusal"]})
    for call in listed(message.get("tool_calls")):
        if not isinstance(call, dict):
            continue
        function = _dict(call.get("function"))
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": _s(function.get("name")),
                "arguments": _arguments(function.get("arguments")),
            }
        )
    out: JSON = {"role": role, "parts": parts}
    if isinstance(message.get("name"), str):
        out["name"] = message["name"]
    return out


def _chat_part(part: JSON) -> JSON:
    kind = part.get("type")
    if kind == "text":
        return _text(part.get("text"))
    if kind == "image_url":
        url = _dict(part.get("image_url")).get("url")
        if isinstance(url, str):
            return _data_url(url, "image")
    if kind == "input_audio":
        audio = _dict(part.get("input_audio"))
        fmt = audio.get("format")
        return {
            "type": "blob",
            "modality": "audio",
            "mime_type": f"audio/{fmt}" if isinstance(fmt, str) else None,
            "content": _s(audio.get("data")),
        }
    if kind == "file":
        file = _dict(part.get("file"))
        if isinstance(file.get("file_id"), str):
            return {"type": "file", "modality": "document", "file_id": file["file_id"]}
        if isinstance(file.get("file_data"), str):
            return _data_url(file["file_data"], "document")
    return _generic(part)


def _completions(body: JSON, response: JSON) -> Content:
    prompt = body.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else listed(prompt)
    messages = [{"role": "user", "parts": [_text(p)]} for p in prompts if isinstance(p, str)]
    output = [
        {
            "role": "assistant",
            "parts": [_text(str(choice.get("text") or ""))],
            "finish_reason": _s(choice.get("finish_reason"), "error"),
        }
        for choice in listed(response.get("choices"))
        if isinstance(choice, dict)
    ]
    return {"gen_ai.input.messages": messages, "gen_ai.output.messages": output}


# OpenAI Responses ----------------------------------------------------------------------------


def _responses(body: JSON, response: JSON) -> Content:
    instructions = body.get("instructions")
    messages: list[JSON] = []
    given = body.get("input")
    if isinstance(given, str):
        messages.append({"role": "user", "parts": [_text(given)]})
    for item in listed(given):
        if isinstance(item, dict):
            messages.append(_responses_input(item))
    tools = []
    for tool in listed(body.get("tools")):
        if not isinstance(tool, dict):
            continue
        if tool.get("type") == "function":
            tools.append(_tool(tool.get("name"), tool.get("description"), tool.get("parameters")))
        else:
            kind = _s(tool.get("type"), "unknown")
            tools.append({"type": kind, "name": _s(tool.get("name"), kind)})
    output = []
    if "output" in response:
        parts: list[JSON] = []
        for item in listed(response.get("output")):
            if isinstance(item, dict):
                parts.extend(_responses_output(item))
        output.append(
            {"role": "assistant", "parts": parts, "finish_reason": responses_finish(response)}
        )
    system = [_text(instructions)] if isinstance(instructions, str) else []
    return genai_content(system, messages, output, tools)


def responses_finish(response: JSON) -> str:
    """Why a Responses answer ended: the incomplete reason, else its status."""
    details = _dict(response.get("incomplete_details"))
    reason = details.get("reason") or response.get("status")
    return reason if isinstance(reason, str) else "error"


def _responses_input(item: JSON) -> JSON:
    kind = item.get("type")
    if kind == "function_call_output":
        return {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": item.get("call_id"),
                    "response": item.get("output"),
                }
            ],
        }
    if "role" in item and kind in (None, "message"):
        content = item.get("content")
        if isinstance(content, str):
            parts = [_text(content)]
        else:
            parts = [_responses_part(p) for p in listed(content) if isinstance(p, dict)]
        return {"role": _s(item.get("role"), "user"), "parts": parts}
    return {"role": "assistant", "parts": _responses_output(item)}


def _responses_output(item: JSON) -> list[JSON]:
    kind = item.get("type")
    if kind == "message":
        return [_responses_part(p) for p in listed(item.get("content")) if isinstance(p, dict)]
    if kind == "function_call":
        return [
            {
                "type": "tool_call",
                "id": item.get("call_id"),
                "name": _s(item.get("name")),
                "arguments": _arguments(item.get("arguments")),
            }
        ]
    if kind == "reasoning":
        texts = [
            str(p.get("text", ""))
            for p in listed(item.get("content")) or listed(item.get("summary"))
            if isinstance(p, dict)
        ]
        return [{"type": "reasoning", "content": "\n\n".join(texts)}]
    return [_generic(item)]


def _responses_part(part: JSON) -> JSON:
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return _text(part.get("text"))
    if kind == "refusal":
        return {"type": "refusal", "content": part.get("refusal")}
    if kind in ("input_image", "input_file"):
        modality = "image" if kind == "input_image" else "document"
        if isinstance(part.get("file_id"), str):
            return {"type": "file", "modality": modality, "file_id": part["file_id"]}
        url = part.get("image_url") or part.get("file_url") or part.get("file_data")
        if isinstance(url, str):
            return _data_url(url, modality)
    return _generic(part)


# Amazon Bedrock Converse, and InvokeModel's text models ----------------------------------


def _converse(body: JSON, response: JSON) -> Content:
    instructions = [
        _text(block["text"])
        for block in listed(body.get("system"))
        if isinstance(block, dict) and isinstance(block.get("text"), str)
    ]
    messages = [
        {"role": _s(m.get("role"), "user"), "parts": _converse_parts(m.get("content"))}
        for m in listed(body.get("messages"))
        if isinstance(m, dict)
    ]
    tools = []
    for tool in listed(_dict(body.get("toolConfig")).get("tools")):
        spec = _dict(tool).get("toolSpec")
        if isinstance(spec, dict):
            schema = _dict(spec.get("inputSchema")).get("json")
            tools.append(_tool(spec.get("name"), spec.get("description"), schema))
    output = []
    message = _dict(_dict(response.get("output")).get("message"))
    if message:
        output.append(
            {
                "role": _s(message.get("role"), "assistant"),
                "parts": _converse_parts(message.get("content")),
                "finish_reason": _s(response.get("stopReason"), "error"),
            }
        )
    return genai_content(instructions, messages, output, tools)


def _converse_parts(content: Any) -> list[JSON]:
    parts: list[JSON] = []
    for block in listed(content):
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            parts.append(_text(block["text"]))
        elif "toolUse" in block:
            use = _dict(block["toolUse"])
            parts.append(
                {
                    "type": "tool_call",
                    "id": use.get("toolUseId"),
                    "name": _s(use.get("name")),
                    "arguments": use.get("input"),
                }
            )
        elif "toolResult" in block:
            result = _dict(block["toolResult"])
            parts.append(
                {
                    "type": "tool_call_response",
                    "id": result.get("toolUseId"),
                    "response": result.get("content"),
                }
            )
        elif "reasoningContent" in block:
            text = _dict(_dict(block["reasoningContent"]).get("reasoningText")).get("text")
            parts.append({"type": "reasoning", "content": text if isinstance(text, str) else ""})
        else:
            kind = next(iter(block), "unknown")
            parts.append({"type": kind, **block})
    return parts


def _invoke_text(body: JSON, response: JSON) -> Content:
    """InvokeModel's own text models: Llama `prompt`/`generation`, Titan `inputText`/`results`,
    Mistral `outputs`, Cohere `generations`."""
    prompt = body.get("prompt") if isinstance(body.get("prompt"), str) else body.get("inputText")
    messages = [{"role": "user", "parts": [_text(prompt)]}] if isinstance(prompt, str) else []
    output = []
    if isinstance(response.get("generation"), str):
        output.append((response["generation"], response.get("stop_reason")))
    for key, text_key, reason_key in (
        ("results", "outputText", "completionReason"),
        ("outputs", "text", "stop_reason"),
        ("generations", "text", "finish_reason"),
    ):
        for result in listed(response.get(key)):
            if isinstance(result, dict) and isinstance(result.get(text_key), str):
                output.append((result[text_key], result.get(reason_key)))
    return {
        "gen_ai.input.messages": messages,
        "gen_ai.output.messages": [
            {"role": "assistant", "parts": [_text(text)], "finish_reason": _s(reason, "error")}
            for text, reason in output
        ],
    }
