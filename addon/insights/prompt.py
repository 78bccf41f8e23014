"""A request as the prompt cache sees it: tools, system and messages in cache order, each
piece as a digest (never its text), with the breakpoints and TTLs it asked for."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

import orjson

JSON = dict[str, Any]

MAX_THREADS = 256
MAX_SESSIONS = 4096

FIVE_MINUTES = 300
ONE_HOUR = 3600
ONE_DAY = 86400
OPENAI_MINIMUM = 1024
OPENAI_STEP = 128

ANTHROPIC_APIS = frozenset(
    {"anthropic-messages", "anthropic-bedrock", "bedrock-invoke", "anthropic-vertex"}
)
OPENAI_APIS = frozenset({"openai-chat", "openai-responses"})

# Anthropic's minimum cacheable prompt lengths (prompt-caching docs, "Cache limitations",
# as of 2026-09), by family-major[-minor]; newer Opus, Fable and Mythos: 512; others: 1,024.
_ANTHROPIC_MINIMUMS: dict[str, int] = {
    "fable-5": 512,
    "fable-5-1": 512,
    "mythos-5": 512,
    "mythos-5-1": 512,
    "opus-5": 512,
    "opus-5-5": 512,
    "opus-4-8": 1024,
    "opus-4-7": 2048,
    "opus-4-6": 4096,
    "opus-4-5": 4096,
    "haiku-4-5": 4096,
    "haiku-3-5": 2048,
    "haiku-3": 2048,
}
_NEW_NAME = re.compile(r"claude-(opus|sonnet|haiku|fable|mythos)-(\d+)(?:[-.](\d{1,2})(?!\d))?")
_OLD_NAME = re.compile(r"claude-(\d+)(?:[-.](\d))?-(opus|sonnet|haiku)")
_DIGITS = re.compile(rb"\d")


def anthropic_minimum(model: str) -> int:
    """The minimum cacheable prompt length of an Anthropic model, by its name."""
    name = model.lower()
    if "mythos-preview" in name:
        return 2048
    if match := _NEW_NAME.search(name):
        family, major, minor = match.group(1), match.group(2), match.group(3)
    elif match := _OLD_NAME.search(name):
        major, minor, family = match.group(1), match.group(2), match.group(3)
    else:
        return 1024
    key = f"{family}-{major}" + (f"-{minor}" if minor else "")
    if key in _ANTHROPIC_MINIMUMS:
        return _ANTHROPIC_MINIMUMS[key]
    if family in ("opus", "fable", "mythos") and int(major) >= 5:
        return 512
    return 1024


class Last(NamedTuple):
    """What is kept of a session's previous call to tell a model change."""

    model: str
    turn: int | None
    allowance: int


@dataclass(frozen=True, slots=True)
class Piece:
    """Digests of one prompt element: as sent, with keys sorted, with digits masked."""

    label: str
    name: str | None
    exact: bytes
    ordered: bytes
    digits: bytes
    parts: tuple[bytes, ...] = ()
    """Exact digests of a message's content blocks."""


@dataclass(slots=True)
class Prompt:
    """What one call put in front of the cache, and what the cache did with it."""

    family: str  # "anthropic" or "openai"
    model: str
    tools: tuple[Piece, ...]
    system: tuple[Piece, ...]
    messages: tuple[Piece, ...]
    settings: dict[str, bytes]
    ttls: tuple[int, ...]
    retention: int
    previous_response_id: str | None
    response_id: str | None
    started: float | None
    answered_at: float | None
    turn: int | None
    read: int
    written: int | None
    input: int | None

    @property
    def allowance(self) -> int:
        """The tokens this call left in the cache for its successor."""
        if self.family == "anthropic":
            return self.read + (self.written or 0)
        size = self.input or 0
        if size < OPENAI_MINIMUM:
            return 0
        # Cached in 128-token steps; the tail of the prompt may fall short of a step.
        steps = (size - OPENAI_MINIMUM) // OPENAI_STEP
        return OPENAI_MINIMUM + (steps - 1) * OPENAI_STEP


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=8).digest()


def _without_cache_control(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache_control(v) for v in value]
    return value


def _dumps(value: Any, option: int = 0) -> bytes:
    try:
        return orjson.dumps(value, option=option)
    except (TypeError, orjson.JSONEncodeError):
        return repr(value).encode()


def _piece(label: str, value: Any, name: str | None = None, parts: Iterable[Any] = ()) -> Piece:
    clean = _without_cache_control(value)
    exact = _dumps(clean)
    return Piece(
        label=label,
        name=name,
        exact=_digest(exact),
        ordered=_digest(_dumps(clean, orjson.OPT_SORT_KEYS)),
        digits=_digest(_DIGITS.sub(b"0", exact)),
        parts=tuple(_digest(_dumps(_without_cache_control(p))) for p in parts),
    )


def _blocks(content: Any) -> list[Any]:
    """Content as a list of blocks: a plain string is one text block (the same tokens)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return content
    return [] if content is None else [content]


def _tool_name(tool: Any) -> str | None:
    if not isinstance(tool, dict):
        return None
    function = tool.get("function")
    name = function.get("name") if isinstance(function, dict) else tool.get("name")
    if isinstance(name, str):
        return name
    kind = tool.get("type")
    return kind if isinstance(kind, str) else None


def _cache_controls(value: Any) -> Iterable[Any]:
    if isinstance(value, dict):
        if "cache_control" in value:
            yield value["cache_control"]
        for v in value.values():
            if isinstance(v, dict | list):
                yield from _cache_controls(v)
    elif isinstance(value, list):
        for v in value:
            yield from _cache_controls(v)


def _ttl(control: Any) -> int:
    return ONE_HOUR if isinstance(control, dict) and control.get("ttl") == "1h" else FIVE_MINUTES


def _message_label(prefix: str, index: int, item: Any) -> str:
    role = item.get("role") if isinstance(item, dict) else None
    kind = item.get("type") if isinstance(item, dict) else None
    what = role if isinstance(role, str) else kind if isinstance(kind, str) else None
    return f"{prefix}[{index}] ({what})" if what else f"{prefix}[{index}]"


def _count(usage: Any, key: str) -> int | None:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def request_model(record: JSON) -> str | None:
    """The model the request asked for (body, else the URL path as Bedrock and Vertex put
    it), else the one the response names."""
    request = record.get("request")
    if isinstance(request, dict):
        body = request.get("body")
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            return str(body["model"])
        url = request.get("url")
        parts = unquote(urlsplit(url).path).split("/") if isinstance(url, str) else []
        for marker in ("model", "models"):
            if marker in parts and parts.index(marker) + 1 < len(parts):
                model = parts[parts.index(marker) + 1].split(":")[0]
                if model:
                    return model
    named = _dict(record.get("response")).get("model")
    return named if isinstance(named, str) else None


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def build_prompt(record: JSON) -> Prompt | None:
    """The prompt of an Anthropic or OpenAI call, as digests; None for other APIs."""
    provider = record.get("provider")
    request = record.get("request")
    body = request.get("body") if isinstance(request, dict) else None
    if not isinstance(body, dict):
        return None
    usage = _dict(record.get("usage"))
    session = _dict(record.get("session"))
    timing = _dict(record.get("timing"))
    value = timing.get("started")
    started = float(value) if isinstance(value, int | float) else None
    first = timing.get("time_to_first_byte") or timing.get("time_to_headers")
    rid = _dict(record.get("response")).get("id")
    tools_in = _list(body.get("tools"))
    tools = tuple(
        _piece(f"tools[{i}] ({_tool_name(t)})", t, _tool_name(t)) for i, t in enumerate(tools_in)
    )
    common: JSON = {
        "model": request_model(record) or "?",
        "tools": tools,
        "response_id": rid if isinstance(rid, str) else None,
        "started": started,
        "answered_at": started + first if started is not None and first else None,
        "turn": session.get("turn"),
        "read": _count(usage, "cache_read_tokens") or 0,
        "written": _count(usage, "cache_write_tokens"),
        "input": _count(usage, "input_tokens"),
    }
    if provider in ANTHROPIC_APIS:
        system = tuple(
            _piece(f"system[{i}]", block) for i, block in enumerate(_blocks(body.get("system")))
        )
        messages = _list(body.get("messages"))
        pieces = tuple(
            _piece(
                _message_label("messages", i, m),
                {**m, "content": _blocks(m.get("content"))} if isinstance(m, dict) else m,
                parts=_blocks(m.get("content")) if isinstance(m, dict) else (),
            )
            for i, m in enumerate(messages)
        )
        controls = [*_cache_controls([tools_in, body.get("system"), messages])]
        if "cache_control" in body:
            controls.append(body["cache_control"])
        settings = {
            key: _digest(_dumps(body.get(key)))
            for key in ("speed", "tool_choice", "thinking")
            if key in body
        }
        return Prompt(
            family="anthropic",
            system=system,
            messages=pieces,
            settings=settings,
            ttls=tuple(_ttl(c) for c in controls),
            retention=0,
            previous_response_id=None,
            **common,
        )
    if provider in OPENAI_APIS:
        instructions = body.get("instructions")
        if provider == "openai-chat":
            items = body.get("messages")
            prefix = "messages"
            instructions = None  # Chat has its system messages in `messages`
        else:
            items = body.get("input")
            prefix = "input"
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
        pieces = tuple(
            _piece(
                _message_label(prefix, i, m),
                m,
                parts=_blocks(m.get("content")) if isinstance(m, dict) else (),
            )
            for i, m in enumerate(_list(items))
        )
        key = body.get("prompt_cache_key")
        settings = {"prompt_cache_key": _digest(_dumps(key))} if key is not None else {}
        previous = body.get("previous_response_id")
        return Prompt(
            family="openai",
            system=(_piece("instructions", instructions),) if instructions else (),
            messages=pieces,
            settings=settings,
            ttls=(),
            retention=ONE_DAY if body.get("prompt_cache_retention") == "24h" else ONE_HOUR,
            previous_response_id=previous if isinstance(previous, str) else None,
            **common,
        )
    return None
