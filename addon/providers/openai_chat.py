"""OpenAI Chat Completions: fold `chat.completion.chunk` events into one `chat.completion`.

Mirrors the openai SDK's stream helper (`openai/lib/streaming/chat/_completions.py`,
`_accumulate_chunk`, and `openai/lib/streaming/_deltas.py`, `accumulate_delta`): each
choice's deltas are merged into its message by key (strings concatenated, numbers added,
objects merged, lists of `index`ed entries merged by that index), `finish_reason` and
`logprobs` are kept per choice, and the top-level fields come from the chunks.

Where the SDK is wrong, the API's non-streaming shape wins instead:
- a repeated `role`, `id` or `expires_at` (audio chunks repeat them) is kept, not
  concatenated or added up; a tool or function `name` repeated whole is not doubled;
- a later `null` (`usage`, `system_fingerprint`, ...) never erases a value already seen,
  and the latest non-null top-level and choice-level value wins (Azure/Copilot open with an
  empty `id` and `created: 0`, and update `content_filter_*` per chunk);
- chunks without `object` (Copilot) or without `choices` (usage-only, recorder-trimmed) are
  merged, not skipped or fatal; `finish_reason: length` is an ordinary ending;
- choices and indexed entries are matched by their `index`, whatever order they arrive in.

OpenAI-compatible servers stretch the format further; their own non-streamed shape wins:
- a `signature`, `format` or Groq `channel` repeated in every delta is kept once, and the
  chunk that opens the first choice gives the completion its `id` and `created` when its
  `id` is not empty (Groq's compound model changes both per chunk and ends with `id:
  "stub"`; Azure and Copilot open with a choice-less `id: ""`, `created: 0` chunk);
- OpenRouter's `reasoning_details` are merged by `index` and `type` (and `id` where both
  have one): `text`, `summary` and `data` joined, `signature`, `format`, `id` kept whole;
- Mistral's content parts (`[{"type": "thinking", ...}]` between plain text deltas) become
  the list of parts its non-streamed answer has: consecutive parts of one type joined;
- Groq's `executed_tools` entries arrive whole and again with their output: latest wins;
- Groq's `x_groq` of the first chunk and of the last are merged key by key, and its `usage`
  (and `usage_breakdown`) also stand at the top level when the stream sent none there, as
  in Groq's non-streamed answer;
- a choice's other fields keep their latest value, and an empty object erases none (Azure
  closes with `content_filter_results: {}`);
- an `error` inside a chunk (OpenRouter mid-stream) is reported and the chunk still merged;
  Azure's opening chunk (`object: ""`, `prompt_filter_results`) is merged, not skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from addon.providers.base import (
    JSON,
    Accumulator,
    Part,
    Provider,
    Route,
    Sample,
    Summary,
    Usage,
    count,
)
from addon.wire.sse import ServerSentEvent

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


class OpenAIChat(Accumulator):
    provider = "openai-chat"

    def __init__(self) -> None:
        super().__init__()
        self._chunks = 0
        self._top: JSON = {}
        """Top-level fields of the completion (no `choices`), latest non-null value each."""
        self._choices: dict[int, JSON] = {}
        """Choice index → choice fields, with the accumulated `message` in place of `delta`."""
        self._problems: list[str] = []
        """Reused for what one delta could not merge (empty between chunks)."""
        self._opening: JSON | None = None
        """The chunk that opened the first choice: its `id`, `created` and `x_groq` count."""

    def _feed(self, event: ServerSentEvent) -> None:
        data = event.data
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            self._not_json(event, exc)
            return
        self._chunks += 1
        if type(chunk) is not dict:
            self.errors.append(f"chunk #{self._chunks}: JSON but not an object; skipped")
            self.unknown.append({"event": event.event, "data": chunk})
            return
        if (
            "error" in chunk or self.done or chunk.get("object", _CHUNK) != _CHUNK
        ) and not self._merge_unusual_chunk(event, chunk):
            return

        top = self._top
        for key, value in chunk.items():
            if value is not None:
                top[key] = value  # `choices`, `object`, `obfuscation` are left out later
        choices = chunk.get("choices")
        if not choices:
            return
        if type(choices) is not list:
            self.errors.append(f"chunk #{self._chunks}: `choices` is not a list; ignored")
            return
        states = self._choices
        problems = self._problems
        for choice in choices:
            state = states.get(choice.get("index", 0)) if type(choice) is dict else None
            if state is None:
                if self._opening is None:
                    self._opening = chunk
                self._first_choice(choice)
                continue
            delta = choice.get("delta")
            if delta:
                if not self.content_started:
                    self._note_content(delta)
                if type(delta) is dict:
                    _merge_delta(state["message"], delta, problems)
                    if problems:
                        self._report(problems, state["index"])
                else:
                    self._error(state["index"], "`delta` is not an object; ignored")
            finish_reason = choice.get("finish_reason")
            if finish_reason:  # a later null never erases a real finish_reason
                state["finish_reason"] = finish_reason
            logprobs = choice.get("logprobs")
            if logprobs is not None:
                self._apply_logprobs(state, logprobs)
            if not choice.keys() <= _STREAMED_CHOICE_KEYS:
                # The latest value wins, but neither a null nor an empty object (Azure closes
                # with `content_filter_results: {}`) erases one.
                for key, value in choice.items():
                    if not (
                        value is None
                        or key in _STREAMED_CHOICE_KEYS
                        or (type(value) is dict and not value)
                    ):
                        state[key] = value

    def _not_json(self, event: ServerSentEvent, exc: orjson.JSONDecodeError) -> None:
        data = event.data
        if data.startswith("[DONE]"):
            if self.done:
                self.errors.append("a second [DONE] arrived")
            self.done = True
        elif data.strip():  # an empty keep-alive event carries nothing
            self._chunks += 1
            self.errors.append(f"chunk #{self._chunks}: not JSON ({exc}); skipped")
            self.unknown.append({"event": event.event, "data": data})

    def _merge_unusual_chunk(self, event: ServerSentEvent, chunk: JSON) -> bool:
        """An error, a foreign object, or a chunk after [DONE]: True if it is still merged.

        An error inside a chunk (OpenRouter's mid-stream error, with `choices` and `usage`)
        is an error of the stream, and the chunk is merged so nothing it carried is lost; a
        bare `{"error": ...}` event has nothing to merge and is kept aside.
        """
        error = chunk.get("error")
        if error:
            self.errors.append(f"chunk #{self._chunks}: error chunk: {_describe_error(error)}")
            if "choices" not in chunk:
                self.unknown.append({"event": event.event, "data": chunk})
                return False
        kind = chunk.get("object", _CHUNK)
        if kind != _CHUNK and not (kind == "" and "prompt_filter_results" in chunk):
            # e.g. Azure's asynchronous content-filter events (`object: ""`), which the SDK
            # skips; Azure's opening chunk has the same `object` and is merged for its
            # `prompt_filter_results` (the SDK drops them)
            self.unknown.append({"event": event.event, "data": chunk})
            return False
        if self.done:
            self.errors.append(f"chunk #{self._chunks}: arrived after [DONE]")
        return True

    def _error(self, choice_index: int, text: str) -> None:
        self.errors.append(f"chunk #{self._chunks} choice {choice_index}: {text}")

    def _report(self, problems: list[str], choice_index: int) -> None:
        for text in problems:
            self._error(choice_index, text)
        problems.clear()

    def _note_content(self, delta: Any) -> None:
        """Content starts with the first delta that carries more than a role or nulls."""
        self.content_started = type(delta) is not dict or any(
            v is not None and v != "" for k, v in delta.items() if k != "role"
        )

    def _first_choice(self, choice: Any) -> None:
        """A choice seen for the first time: its fields as they came, `delta` as `message`."""
        if type(choice) is not dict:
            self.errors.append(f"chunk #{self._chunks}: a choice is not an object; ignored")
            return
        index = choice.get("index", 0)
        if type(index) is not int:
            self.errors.append(
                f"chunk #{self._chunks}: choice index {index!r} is not an integer; ignored"
            )
            return
        state = {k: v for k, v in choice.items() if k != "delta"}
        state["index"] = index
        message: JSON = {}
        state["message"] = message
        self._choices[index] = state
        delta = choice.get("delta")
        if delta:
            if not self.content_started:
                self._note_content(delta)
            if type(delta) is dict:
                problems: list[str] = []
                _merge_delta(message, delta, problems)
                if problems:
                    self._report(problems, index)
            else:
                self._error(index, "`delta` is not an object; ignored")

    def _apply_logprobs(self, state: JSON, logprobs: Any) -> None:
        """The SDK's rule: the first non-null `logprobs` is taken, later token lists extend it."""
        current = state.get("logprobs")
        if type(logprobs) is not dict or (current is not None and type(current) is not dict):
            self._error(state["index"], "`logprobs` is not an object; ignored")
            return
        if current is None:
            state["logprobs"] = logprobs
            return
        for key, value in logprobs.items():
            if key == "content" or key == "refusal":
                if value:
                    tokens = current.get(key)
                    if tokens is None:
                        current[key] = tokens = []
                    tokens.extend(value)
            elif value is not None:
                current[key] = value

    def result(self) -> JSON | None:
        if not self._top and not self._choices:
            return None
        fields = {k: v for k, v in self._top.items() if k not in _NOT_COPIED_KEYS}
        if self._opening is not None:
            self._opening_fields(self._opening, fields)
        x_groq = fields.get("x_groq")
        if type(x_groq) is dict:
            for key in _X_GROQ_LIFTED:  # where Groq's non-streamed answer has them
                if key in x_groq and fields.get(key) is None:
                    fields[key] = x_groq[key]
        completion: JSON = {"id": None, "object": "chat.completion", **_copy(fields)}
        completion["object"] = "chat.completion"
        if completion["id"] is None:
            del completion["id"]
        completion["choices"] = [self._export_choice(i) for i in sorted(self._choices)]
        return completion

    @staticmethod
    def _opening_fields(opening: JSON, fields: JSON) -> None:
        """What the chunk that opened the first choice says over the latest values: its
        non-empty `id` and its `created`, and its `x_groq` keys that later ones lack (Groq's
        first chunk says `id` and `seed`, its last `id` and `usage`). Taken here, not per
        chunk, so the common chunk pays nothing for it."""
        opening_id = opening.get("id")
        if type(opening_id) is str and opening_id:
            fields["id"] = opening_id
            if opening.get("created") is not None:
                fields["created"] = opening["created"]
        first = opening.get("x_groq")
        latest = fields.get("x_groq")
        if type(first) is dict and type(latest) is dict and first is not latest:
            fields["x_groq"] = {**first, **{k: v for k, v in latest.items() if v is not None}}

    def _export_choice(self, index: int) -> JSON:
        state = self._choices[index]
        message = _export(state["message"])
        tool_calls = message.get("tool_calls")
        if type(tool_calls) is list:
            for call in tool_calls:
                # The API's shape: every tool call says its type; a few servers leave it out.
                if type(call) is dict and "function" in call and call.get("type") is None:
                    call["type"] = "function"
        fields = _copy({k: v for k, v in state.items() if k != "message"})
        return {"index": index, "message": message, **fields}

    def finish(self) -> None:
        if self.done:
            return
        if not self._choices:
            self.errors.append("stream ended with no [DONE] and no choice")
            return
        unfinished = [i for i, c in sorted(self._choices.items()) if not c.get("finish_reason")]
        if unfinished:
            self.errors.append(
                f"stream ended with no [DONE]; choice(s) {unfinished} had no finish_reason"
            )
        else:
            self.errors.append(
                "stream ended with no [DONE], though every choice had a finish_reason "
                "(some OpenAI-compatible servers never send [DONE])"
            )

    @staticmethod
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

    @staticmethod
    def usage(response: JSON) -> Usage:
        """OpenAI's `prompt_tokens` already count the cached ones. DeepSeek says
        `prompt_cache_hit_tokens` (read) and `prompt_cache_miss_tokens`: a miss is an ordinary
        input token, not a billed cache write, so only OpenRouter's `cache_write_tokens` are."""
        usage = response.get("usage")
        if type(usage) is not dict:
            return Usage()
        prompt = usage.get("prompt_tokens_details")
        prompt = prompt if type(prompt) is dict else {}
        completion = usage.get("completion_tokens_details")
        completion = completion if type(completion) is dict else {}
        cache_read = count(prompt.get("cached_tokens"))
        if cache_read is None:
            cache_read = count(usage.get("prompt_cache_hit_tokens"))
        return Usage(
            input_tokens=count(usage.get("prompt_tokens")),
            output_tokens=count(usage.get("completion_tokens")),
            cache_read_tokens=cache_read,
            cache_write_tokens=count(prompt.get("cache_write_tokens")),
            reasoning_tokens=count(completion.get("reasoning_tokens")),
        )

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        error = response.get("error")
        return [f"error in body: {_describe_error(error)}"] if error else []


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


def _describe_error(error: Any) -> str:
    """'server_error: The server had an error' from the error shapes servers send."""
    if type(error) is dict:
        kind = error.get("type") or error.get("code")
        message = error.get("message")
        text = ": ".join(str(p) for p in (kind, message) if p)
        return text or orjson.dumps(error).decode()
    return str(error)


PROVIDER = Provider(
    id=OpenAIChat.provider,
    title="OpenAI Chat Completions",
    accumulator=OpenAIChat,
    routes=(
        Route("api.openai.com", r"^/v1/chat/completions$"),
        # Compatible servers and gateways, also below a prefix (Azure's `/openai/deployments/…`).
        Route("*", r"/chat/completions$"),
    ),
    samples=tuple(
        Sample(
            "api.openai.com",
            "/v1/chat/completions",
            {"model": "model", "messages": [{"role": "user", "content": "Hello"}], "stream": True},
            answer,
            headers=(("authorization", "Bearer sk-proj-FAKE-flows-key-1111111111"),),
        )
        for answer in (
            "ccproxy/copilot_chat_completions.sse",
            "ccproxy/copilot_chat_completions_tools.sse",
            "sdk/openai-chat/test_parse_pydantic_model_multiple_choices.a491adda08c3.sse",
            "sdk/openai-chat/test_content_logprobs_events.83b060bae42e.sse",
            "sdk/openai-chat/test_parse_max_tokens_reached.4cc50a6135d2.sse",
        )
    ),
)
