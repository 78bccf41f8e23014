"""What one API is to llm-rebuild: a descriptor (routes, framing, accumulator) and a fold.

A provider module holds everything about its API: the `Provider` descriptor (id, routes with
their methods, the framing of its streams, a sample request for `flows/`) and its
`Accumulator` (the fold, usage normalisation, the human summary). The registry in
`addon/providers/__init__.py` lists the descriptors; nothing else names an API.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from addon.wire import Event, Framing
from addon.wire.jsonvalue import dumps
from addon.wire.sse import SSEDecoder

JSON = dict[str, Any]


@dataclass(slots=True)
class Part:
    """One piece of an answer, in order, for people to read (log line, mitmweb view)."""

    kind: str  # "text", "thinking", "tool_call", "refusal", "error", or a block/item type
    text: str
    name: str | None = None  # tool name for tool calls


@dataclass(slots=True)
class Summary:
    """The readable gist of a rebuilt response; derived from the API object, never stored in it."""

    model: str | None = None
    stop_reason: str | None = None
    usage: JSON = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)

    @property
    def tool_calls(self) -> list[str]:
        return [p.name or "?" for p in self.parts if p.kind == "tool_call"]


@dataclass(slots=True)
class Usage:
    """Token counts in one vocabulary for every API; None where the API does not say.

    `input_tokens` counts every input token, cached ones included (as OpenTelemetry and OpenAI
    count them): Anthropic reports cache reads and writes apart, so its provider adds them.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }


def count(value: Any) -> int | None:
    """A token count as the API sent it, or None when it is not a number."""
    return value if type(value) is int else None


class Accumulator(ABC):
    """Folds one stream's events into the API's non-streaming response object.

    Pure data in and out: no mitmproxy, no I/O, and no knowledge of the framing the events
    came in. `feed` never raises; whatever could not be used is written to `errors` and the
    partial object is kept.
    """

    provider: ClassVar[str]

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.unknown: list[JSON] = []
        """Events this accumulator does not know, kept as they came: {"event", "data"}."""
        self.extras: JSON = {}
        """What the stream carried beside the API object (e.g. Bedrock's invocation metrics)."""
        self.done = False
        """The stream's terminal event arrived."""
        self.content_started = False
        """The first content delta arrived (for time to first token)."""

    def feed(self, event: Event) -> None:
        try:
            self._feed(event)
        except Exception as exc:  # one bad event must not lose the rest of the stream
            self._not_applied(event, exc)

    def feed_all(self, events: list[Event]) -> None:
        """`feed` each event in turn: one call per chunk instead of one more per event."""
        feed = self._feed
        for event in events:
            try:
                feed(event)
            except Exception as exc:  # as in `feed`
                self._not_applied(event, exc)

    def _not_applied(self, event: Event, exc: Exception) -> None:
        """What an event that raised in a fold leaves: one error, and the stream goes on."""
        self.errors.append(f"{event.event}: could not apply event: {exc!r}")

    @abstractmethod
    def _feed(self, event: Event) -> None: ...

    @abstractmethod
    def result(self) -> JSON | None:
        """The API-exact object so far (None before anything usable arrived)."""

    def finish(self) -> None:
        """End of stream: note what was left unfinished (the default notes a missing end)."""
        if not self.done:
            self.errors.append("stream ended before its terminal event")

    @staticmethod
    @abstractmethod
    def summarize(response: JSON) -> Summary:
        """Readable gist of a response object of this API (streamed or not)."""

    @staticmethod
    def usage(response: JSON) -> Usage:
        """The response's token counts in the shared vocabulary (all None by default)."""
        return Usage()

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        """Errors carried inside a complete non-streamed response body (none by default)."""
        return []

    @staticmethod
    def read_request(body: Any) -> Conversation:
        """The request body as a person reads it (the report); a generic reading by default."""
        return read_generic(body)


# Requests, for people to read -----------------------------------------------------------------


@dataclass(slots=True)
class Tool:
    """A tool the request offers the model."""

    name: str
    kind: str = "function"
    """"function", or the API's type of a built-in tool (`web_search_20250305`, …)."""
    description: str = ""
    schema: Any = None
    """The input schema as sent."""


@dataclass(slots=True)
class Message:
    """One turn of the context: who said it and what, as `Part`s (tool calls, results, …)."""

    role: str
    parts: list[Part] = field(default_factory=list)


@dataclass(slots=True)
class Conversation:
    """What a request asks, for people: system parts, tools offered, messages by role."""

    system: list[Part] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    settings: JSON = field(default_factory=dict)
    """The request's other small fields (model, max_tokens, temperature, …), as sent."""


def json_text(value: Any) -> str:
    """Compact JSON for a Part's text (integers of any width kept); a string as it is."""
    if isinstance(value, str):
        return value
    return compact_json(value)


def compact_json(value: Any) -> str:
    """Compact JSON of any value, strings quoted; integers of any width kept exact."""
    return dumps(value).decode("utf-8", "replace")


def settings_of(body: JSON, skip: tuple[str, ...], limit: int = 300) -> JSON:
    """The fields beside the conversation that fit on a line: the call's settings."""
    out: JSON = {}
    for key, value in body.items():
        if key not in skip and len(json_text(value)) <= limit:
            out[key] = value
    return out


_MEDIA_TYPE_KEYS = ("media_type", "mimeType", "mime_type", "format")
_ADDRESS_KEYS = ("url", "image_url", "fileUri", "file_uri", "file_url", "uri", "file_id", "name")
_DATA_KEYS = ("data", "bytes", "file_data", "image_url", "url")


def media_text(block: Any, depth: int = 0) -> str:
    """An image, document or audio part by its type, name, address or size: never its bytes."""
    if isinstance(block, str):
        return _data_text(block) or block
    if not isinstance(block, dict) or depth > 3:
        return ""
    words: list[str] = []
    for keys in (_MEDIA_TYPE_KEYS, _ADDRESS_KEYS):
        for key in keys:
            value = block.get(key)
            if isinstance(value, str) and value and not value.startswith("data:"):
                words.append(value if len(value) <= 200 else value[:200] + "…")
                break
    for key in _DATA_KEYS:
        value = block.get(key)
        if isinstance(value, str) and (len(value) > 200 or value.startswith("data:")):
            words.append(_data_text(value) or f"{len(value):,} characters")
            break
    for value in block.values():
        if isinstance(value, dict):
            words.append(media_text(value, depth + 1))
    return " · ".join(w for w in words if w)


def _data_text(value: str) -> str:
    """`image/png, 12 kB` for a data: URL or base64 payload."""
    media = ""
    if value.startswith("data:"):
        media, _, value = value[5:].partition(",")
        media = media.split(";", 1)[0]
    elif len(value) <= 200:
        return ""
    size = len(value) * 3 // 4
    shown = f"{size / 1000:.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"
    return f"{media}, {shown}" if media else shown


_MEDIA = ("image", "audio", "document", "file", "video", "inlineData", "fileData", "input_audio")
_SYSTEM_KEYS = ("system", "instructions", "systemInstruction", "system_instruction")
_MESSAGE_KEYS = ("messages", "input", "contents", "prompt", "inputText")
_GENERIC_SKIP = (*_SYSTEM_KEYS, *_MESSAGE_KEYS, "tools", "images")


def read_generic(body: Any) -> Conversation:
    """A reading of the shapes most LLM APIs share (system, tools, messages of content parts;
    Gemini's `contents` of `parts`, Ollama's `images` and `tool_calls`), for an API without its
    own `read_request`."""
    conversation = Conversation()
    if not isinstance(body, dict):
        if body is not None and body != "":
            conversation.messages.append(Message("user", generic_parts(body)))
        return conversation
    inner = body.get("request")
    if isinstance(inner, dict) and any(key in inner for key in _MESSAGE_KEYS):
        # a request wrapped in an envelope (Gemini Code Assist: {model, project, request})
        conversation = read_generic(inner)
        conversation.settings = settings_of(body, ("request",)) | conversation.settings
        return conversation
    for key in _SYSTEM_KEYS:
        conversation.system.extend(generic_parts(body.get(key)))
    tools = body.get("tools")
    for tool in tools if isinstance(tools, list) else ():
        conversation.tools.extend(generic_tools(tool))
    for key in _MESSAGE_KEYS:
        value = body.get(key)
        if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
            conversation.messages.extend(generic_message(m) for m in value)
        elif value is not None:
            conversation.messages.append(Message("user", generic_parts(value)))
    images = body.get("images")
    if isinstance(images, list) and conversation.messages:
        conversation.messages[-1].parts.extend(Part("image", media_text(i)) for i in images)
    conversation.settings = settings_of(body, _GENERIC_SKIP)
    return conversation


def generic_tools(tool: Any) -> list[Tool]:
    """`{name, description, parameters}`, nested under `function` or `toolSpec`, or Gemini's
    `functionDeclarations`; a built-in tool by its type or key."""
    if not isinstance(tool, dict):
        return [Tool(json_text(tool), "unknown")]
    declared = tool.get("functionDeclarations") or tool.get("function_declarations")
    if isinstance(declared, list):
        return [t for d in declared for t in generic_tools(d)]
    inner = tool.get("function") or tool.get("toolSpec") or tool
    if not isinstance(inner, dict):
        inner = tool
    name = inner.get("name")
    kind = tool.get("type")
    if not isinstance(name, str):
        name = str(kind or next(iter(tool), "tool"))
    schema = next(
        (inner[k] for k in ("input_schema", "parameters", "inputSchema") if k in inner), None
    )
    description = inner.get("description")
    return [
        Tool(
            name,
            str(kind or "function"),
            description if isinstance(description, str) else "",
            schema,
        )
    ]


def generic_message(message: JSON) -> Message:
    role = message.get("role")
    if not isinstance(role, str):
        role = str(message.get("type") or "item")
    parts: list[Part] = []
    for key in ("thinking", "reasoning_content", "reasoning"):
        if isinstance(message.get(key), str) and message[key]:
            parts.append(Part("thinking", message[key]))
    content = next((message[k] for k in ("content", "parts") if k in message), None)
    if content is None and "role" not in message:  # an item such as a Responses function_call
        parts.extend(generic_block(message))
    else:
        parts.extend(generic_parts(content))
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else ():
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            parts.append(Part("tool_call", json_text(function.get("arguments")), _name(function)))
    images = message.get("images")
    for image in images if isinstance(images, list) else ():
        parts.append(Part("image", media_text(image)))
    if role in ("tool", "function"):
        name = _name(message) or message.get("tool_name") or message.get("tool_call_id")
        parts = [
            Part("tool_result", p.text, str(name) if name else None) if p.kind == "text" else p
            for p in parts
        ]
    return Message(role, parts)


def generic_parts(value: Any) -> list[Part]:
    if value is None:
        return []
    if isinstance(value, str):
        return [Part("text", value)] if value else []
    if isinstance(value, list):
        return [part for item in value for part in generic_block(item)]
    if isinstance(value, dict) and isinstance(value.get("parts"), list):
        return generic_parts(value["parts"])
    return generic_block(value)


def generic_block(block: Any) -> list[Part]:
    """One content block of any of the common shapes as Parts."""
    if isinstance(block, str):
        return [Part("text", block)]
    if not isinstance(block, dict):
        return [Part("value", json_text(block))]
    kind = block.get("type")
    kind = kind if isinstance(kind, str) else None
    for key, part_kind in (("functionCall", "tool_call"), ("functionResponse", "tool_result")):
        inner = block.get(key)
        if isinstance(inner, dict):
            value = inner.get("args") if key == "functionCall" else inner.get("response")
            return [Part(part_kind, json_text(value), _name(inner))]
    if isinstance(block.get("thinking"), str):
        return [Part("thinking", block["thinking"])]
    if isinstance(block.get("text"), str):
        thought = block.get("thought") is True or kind in ("thinking", "reasoning")
        return [Part("thinking" if thought else "text", block["text"])]
    if kind in ("tool_use", "server_tool_use", "function_call", "custom_tool_call"):
        value = next((block[k] for k in ("input", "arguments") if k in block), None)
        return [Part("tool_call", json_text(value), _name(block))]
    if kind in ("tool_result", "function_call_output", "custom_tool_call_output"):
        value = next((block[k] for k in ("content", "output") if k in block), None)
        name = block.get("tool_use_id") or block.get("call_id")
        text = "\n".join(p.text for p in generic_parts(value)) if value is not None else ""
        return [Part("tool_result", text, str(name) if name else None)]
    media = next((k for k in _MEDIA if k in block or (kind or "").endswith(k)), None)
    if media is not None:
        inner = block.get(media)
        inner = inner if isinstance(inner, dict) else block
        mime = next((inner[k] for k in ("mimeType", "mime_type") if k in inner), None)
        major = mime.split("/", 1)[0] if isinstance(mime, str) and "/" in mime else None
        return [Part(kind or major or media, media_text(inner))]
    rest = {k: v for k, v in block.items() if k not in ("type", "cache_control")}
    return [Part(kind or next(iter(block), "block"), json_text(rest))]


def _name(value: JSON) -> str | None:
    name = value.get("name")
    return name if isinstance(name, str) else None


@dataclass(frozen=True, slots=True)
class Route:
    """Where an API is called: a host glob, a path pattern, the methods, maybe a query."""

    host: str
    """A glob over "host" or "host:port", lower case ("*" for any host)."""
    path: str
    """A regex searched in the path without its query string."""
    methods: tuple[str, ...] = ("POST",)
    query: str | None = None
    """A regex the query string must contain (e.g. `stream=true`), or None."""


@dataclass(frozen=True, slots=True)
class Sample:
    """A recorded answer of this API as a client would get it: for `flows/` and tests."""

    host: str
    path: str
    request: JSON
    """The request body a client sends."""
    answer: str
    """A file under `tests/corpus/` holding the recorded (streamed) answer."""
    content_type: str = "text/event-stream"
    headers: tuple[tuple[str, str], ...] = ()
    """Request headers a client sends, fake credentials included."""


@dataclass(frozen=True)
class Provider:
    """Everything about one API that the pipeline needs; subclass to override `framing_for`."""

    id: str
    title: str
    accumulator: type[Accumulator]
    routes: tuple[Route, ...]
    framing: Callable[[], Framing] = SSEDecoder
    """How its streamed answers are cut into events."""
    stream_types: tuple[str, ...] = ("text/event-stream",)
    """Content types (prefixes, lower case) of a streamed answer."""
    samples: tuple[Sample, ...] = ()
    usage_headers: tuple[str, str] | None = None
    """Response headers with input and output token counts, for bodies that carry none
    (Bedrock's `x-amzn-bedrock-input-token-count` / `-output-token-count`)."""

    def framing_for(self, content_type: str, path: str) -> Callable[[], Framing] | None:
        """The framing of an answer with this content type, or None for a plain JSON body."""
        if content_type.lower().startswith(self.stream_types):
            return self.framing
        return None
