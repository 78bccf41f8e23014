"""The Chat Completions merge rules: one delta into the message built so far, in place.

The openai SDK's `accumulate_delta` rules, with the corrections the module docstring of
`fold.py` lists (identifiers kept whole, content parts, reasoning details, executed tools).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from addon.providers.base import JSON

# Keys whose delta value replaces the accumulated one (the SDK does this for these two).
_REPLACED_KEYS = frozenset(("index", "type"))
# Identifiers that chunks repeat whole: the SDK concatenates or adds them up; the API has one.
_IDENTIFIER_KEYS = frozenset(("role", "id", "expires_at", "signature", "format", "channel"))
# String values that arrive whole: kept as plain strings rather than as fragments.
_WHOLE_STRING_KEYS = _REPLACED_KEYS | _IDENTIFIER_KEYS | {"name"}
# Top-level chunk keys that are not copied as they are into the completion.
_NOT_COPIED_KEYS = frozenset(("choices", "object", "obfuscation"))
# Choice keys with their own rules; any other choice key keeps its latest non-null value.
_STREAMED_CHOICE_KEYS = frozenset(("index", "delta", "finish_reason", "logprobs"))
_CHUNK = "chat.completion.chunk"
# Fields of Groq's `x_groq` that its non-streamed answer has at the top level.
_X_GROQ_LIFTED = ("usage", "usage_breakdown")


class _Fragments(list[str]):
    """Pieces of one string, joined once when the result is built (appending stays linear)."""

    __slots__ = ()


def _has_indexed_entries(value: object) -> bool:
    return type(value) is list and any(type(e) is dict and "index" in e for e in value)


def _merge_delta(acc: JSON, delta: JSON, problems: list[str]) -> None:
    """Merge one delta object into its accumulated object, in place (the SDK's rules).

    What cannot be merged is described in `problems` (the caller says where).
    """
    for key, value in delta.items():
        current: Any = acc.get(key)
        current_type = type(current)
        if current_type is _Fragments:
            if type(value) is str:
                current.append(value)
            elif type(value) is list and key in _PART_LISTS:
                acc[key] = _text_as_parts(current)
                _merge_parts(acc[key], value, problems)
            # else: like the SDK, a null or a value of another type leaves the text alone
        elif current_type is dict and type(value) is dict:
            _merge_delta(current, value, problems)
        elif current_type is list and type(value) is list:
            _merge_list(current, value, problems, key)
        elif key in _REPLACED_KEYS:
            if value is not None or key not in acc:
                acc[key] = value
        else:
            _merge_value(acc, key, current, value, problems)


def _merge_value(acc: JSON, key: str, current: Any, value: Any, problems: list[str]) -> None:
    """Merge one delta value into `acc[key]` (currently `current`, never fragments)."""
    if current is None:
        if value is None:
            acc.setdefault(key, None)
            return
        if type(value) is str:
            acc[key] = value if key in _WHOLE_STRING_KEYS else _Fragments((value,))
            return
        if not _has_indexed_entries(value) and not (type(value) is list and key in _OWN_LISTS):
            acc[key] = value
            return
        acc[key] = current = []
    elif value is None:
        return
    elif key in _REPLACED_KEYS:
        acc[key] = value
        return
    elif key in _IDENTIFIER_KEYS:
        if value != "":
            acc[key] = value
        return

    value_type = type(value)
    current_type = type(current)
    if value_type is str:
        if current_type is str:
            if key == "name" and current == value:
                return  # a name repeated whole by a compatible server, not a second part
            acc[key] = _Fragments((current, value))
        elif current_type is list and key in _PART_LISTS:
            _add_text_part(current, value)
    elif value_type is dict:
        if current_type is dict:
            _merge_delta(current, value, problems)
    elif value_type is list:
        if current_type is list:
            _merge_list(current, value, problems, key)
    elif value_type is int or value_type is float:
        if current_type is int or current_type is float:
            acc[key] = current + value
    elif value_type is bool:
        acc[key] = value


def _merge_list(acc: list[Any], delta: list[Any], problems: list[str], key: str) -> None:
    """Plain lists grow; lists of `index`ed objects merge each entry into the one of its index."""
    own = _OWN_LISTS.get(key)
    if own is not None:
        own(acc, delta, problems)
        return
    # The SDK checks every accumulated entry; the first tells the same for a homogeneous list
    # and keeps a growing list of scalars linear.
    if (type(acc[0]) in (str, int, float)) if acc else not _has_indexed_entries(delta):
        acc.extend(delta)
        return
    for entry in delta:
        if type(entry) is not dict:
            problems.append(f"`{key}` entry is not an object, ignored: {entry!r}")
            continue
        index = entry.get("index")
        if type(index) is not int:
            _merge_unindexed(acc, entry, problems, key)
            continue
        if index < len(acc) and acc[index].get("index") == index:
            _merge_delta(acc[index], entry, problems)
            continue
        for existing in acc:
            if existing.get("index") == index:
                _merge_delta(existing, entry, problems)
                break
        else:
            position = sum(1 for existing in acc if existing.get("index", 0) < index)
            acc.insert(position, entry)


def _merge_unindexed(acc: list[Any], entry: JSON, problems: list[str], key: str) -> None:
    """An entry without `index` (Gemini's tool calls have none): the SDK raises; kept here.

    A tool-call fragment that starts no call (no `id`, no name) continues the last call;
    anything else is a new entry.
    """
    if key == "tool_calls" and acc and type(acc[-1]) is dict and "id" not in entry:
        function = entry.get("function")
        if type(function) is not dict or "name" not in function:
            _merge_delta(acc[-1], entry, problems)
            return
    acc.append(entry)


def _text_as_parts(text: _Fragments) -> list[Any]:
    """Plain text so far, as the first part of a content list (nothing when it was empty)."""
    joined = "".join(text)
    return [{"type": "text", "text": joined}] if joined else []


def _add_text_part(parts: list[Any], text: str) -> None:
    """A plain text delta after content parts: it continues a last text part or starts one."""
    if not text:
        return
    last = parts[-1] if parts else None
    if type(last) is not dict or last.get("type") != "text":
        parts.append({"type": "text", "text": text})
        return
    current = last.get("text")
    if type(current) is _Fragments:
        current.append(text)
    elif type(current) is str:
        last["text"] = _Fragments((current, text))
    else:
        last["text"] = text


def _merge_parts(acc: list[Any], delta: list[Any], problems: list[str]) -> None:
    """Content parts (Mistral's `thinking` and `text`) have no index: a part of the same type
    as the last one continues it, anything else is a new part."""
    for part in delta:
        if type(part) is str:
            _add_text_part(acc, part)
            continue
        last = acc[-1] if acc else None
        if (
            type(part) is dict
            and type(last) is dict
            and part.get("type") in _JOINED_PART_TYPES
            and part.get("type") == last.get("type")
        ):
            _merge_delta(last, part, problems)
        else:
            acc.append(part)


def _merge_reasoning_details(acc: list[Any], delta: list[Any], problems: list[str]) -> None:
    """OpenRouter's reasoning details: one entry per `index` and `type`; two entries with
    different ids (Gemini's encrypted signatures per tool call) stay apart."""
    for entry in delta:
        if type(entry) is not dict:
            problems.append(f"`reasoning_details` entry is not an object, ignored: {entry!r}")
            continue
        index = entry.get("index")
        kind = entry.get("type")
        entry_id = entry.get("id")
        for existing in reversed(acc):
            if (
                existing.get("index") == index
                and (kind is None or existing.get("type") == kind)
                and not (entry_id and existing.get("id") and existing.get("id") != entry_id)
            ):
                _merge_delta(existing, entry, problems)
                break
        else:
            acc.append(entry)


def _merge_executed_tools(acc: list[Any], delta: list[Any], problems: list[str]) -> None:
    """Groq's executed tools come whole, then again with their output: per `index`, each
    field's latest value wins (the SDK's rule would double the `arguments`)."""
    for entry in delta:
        if type(entry) is not dict:
            problems.append(f"`executed_tools` entry is not an object, ignored: {entry!r}")
            continue
        index = entry.get("index")
        for existing in acc:
            if index is not None and existing.get("index") == index:
                existing.update((k, v) for k, v in entry.items() if v is not None)
                break
        else:
            acc.append(entry)


# Lists with rules of their own, by key; any other list follows the SDK's `index` rule.
_OWN_LISTS: dict[str, Callable[[list[Any], list[Any], list[str]], None]] = {
    "content": _merge_parts,
    "thinking": _merge_parts,
    "reasoning_details": _merge_reasoning_details,
    "executed_tools": _merge_executed_tools,
}
# Keys whose value may switch from plain text to a list of content parts.
_PART_LISTS = frozenset(("content", "thinking"))
# Content part types whose consecutive pieces are one part.
_JOINED_PART_TYPES = frozenset(("text", "thinking"))


def _copy(value: JSON) -> JSON:
    """A deep copy of plain JSON (orjson is far faster at it than `copy.deepcopy`)."""
    copied: JSON = orjson.loads(orjson.dumps(value))
    return copied


def _export(value: Any) -> Any:
    """A plain-JSON copy of accumulated state: fragments joined, nothing shared with it."""
    value_type = type(value)
    if value_type is _Fragments:
        return "".join(value)
    if value_type is dict:
        return {k: _export(v) for k, v in value.items()}
    if value_type is list:
        return [_export(v) for v in value]
    return value


def missing_done(choices: dict[int, JSON]) -> str:
    """Why a chunk stream that ended without `[DONE]` is not known to be whole."""
    if not choices:
        return "stream ended with no [DONE] and no choice"
    unfinished = [i for i, c in sorted(choices.items()) if not c.get("finish_reason")]
    if unfinished:
        return f"stream ended with no [DONE]; choice(s) {unfinished} had no finish_reason"
    return (
        "stream ended with no [DONE], though every choice had a finish_reason "
        "(some OpenAI-compatible servers never send [DONE])"
    )
