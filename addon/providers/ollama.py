"""Ollama's native API: fold `/api/chat` and `/api/generate` NDJSON streams into one answer.

Each line is a JSON object carrying a piece of the answer: `message.content` and
`message.thinking` (chat) or `response` and `thinking` (generate), and the last line says
`done: true` with the statistics. The rebuilt object is what the same request with
`"stream": false` returns: the pieces joined once, `tool_calls` kept in the order they came
(across lines), `logprobs` joined in order, and every other field as the last line that had it
sent it (`model`, `created_at`, `done_reason`, `total_duration`, `load_duration`,
`prompt_eval_count`, `prompt_eval_duration`, `eval_count`, `eval_duration`, `context` for
generate, unknown ones). `message.role` comes with every line; the first is kept.

A line `{"error": ...}` (Ollama sends one when the model fails mid-answer) is an error of the
record, kept among the unknown events, and everything that arrived before it is kept.
Integers wider than 64 bits in tool-call arguments are kept exact: a tool-call line whose text
has a run of 19 digits is parsed again with pydantic-core (orjson makes floats of them).
"""

from __future__ import annotations

from itertools import islice
from typing import Any, Final

import orjson
import pydantic_core

from addon.providers.base import (
    JSON,
    Accumulator,
    Part,
    Provider,
    Route,
    Sample,
    Summary,
    Usage,
    compact_json,
    count,
)
from addon.providers.gemini import holds_wide_integers
from addon.wire.events import Event
from addon.wire.ndjson import NDJSONDecoder

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError

STREAM_TYPES: Final = ("application/x-ndjson",)


class _OllamaStream(Accumulator):
    """What chat and generate share: line numbers, errors, `done`, the top-level fields."""

    def __init__(self) -> None:
        super().__init__()
        self._lines = 0
        self._top: JSON = {}
        """Every top-level field, as the last line that had it sent it."""
        self._text: list[str] = []  # `message.content` or `response` pieces
        self._thinking: list[str] = []
        self._thinks = False  # a line had a `thinking` field
        self._logprobs: list[Any] | None = None

    def _feed(self, event: Event) -> None:
        self._lines += 1
        data = event.data
        try:
            line = _loads(data)
        except _JSONDecodeError as exc:
            self._not_json(event, exc)
            return
        self._apply(line, data, event)

    def _not_json(self, event: Event, exc: Exception) -> None:
        if event.data.strip():
            self.errors.append(f"line #{self._lines}: not JSON ({exc}); skipped")
            self.unknown.append({"event": event.event, "data": event.data})

    def _apply(self, line: Any, data: str, event: Event) -> None:
        """Merge one parsed line, whatever it holds."""
        if type(line) is not dict:
            self.errors.append(f"line #{self._lines}: JSON but not an object; skipped")
            self.unknown.append({"event": event.event, "data": line})
            return
        if "error" in line:
            self.errors.append(f"line #{self._lines}: error: {describe_error(line)}")
            self.unknown.append({"event": event.event, "data": line})
            return
        if self.done:
            self.errors.append(f"line #{self._lines}: arrived after the line with done: true")
        self._merge(line, data)
        logprobs = line.get("logprobs")
        if logprobs is not None:
            self._add_logprobs(logprobs)
        self._top.update(line)
        if line.get("done") is True:
            self.done = True

    def _merge(self, line: JSON, data: str) -> None:
        raise NotImplementedError

    def _note_fast(self, last: JSON | None, started: bool, thinks: bool, first: int) -> None:
        """What the loop in `feed_all` merged: the last line's top-level fields, the flags.
        The loop appends every text piece, empty ones too; content has started once one of
        those from `first` on is not empty."""
        if last is not None:
            self._top.update(last)
        if started or (not self.content_started and any(islice(self._text, first, None))):
            self.content_started = True
        if thinks:
            self._thinks = True

    def _add_logprobs(self, logprobs: Any) -> None:
        if type(logprobs) is not list:
            self.errors.append(f"line #{self._lines}: `logprobs` is not a list; ignored")
            return
        if self._logprobs is None:
            self._logprobs = []
        self._logprobs.extend(logprobs)

    def _answer(self) -> JSON:
        answer: JSON = _copy(self._top)
        if self._logprobs is not None:
            answer["logprobs"] = _copy(self._logprobs)
        return answer

    def finish(self) -> None:
        if not self.done:
            self.errors.append("stream ended before the line with done: true")

    @staticmethod
    def usage(response: JSON) -> Usage:
        """Ollama counts the prompt it evaluated and the tokens it made; nothing else."""
        return Usage(
            input_tokens=count(response.get("prompt_eval_count")),
            output_tokens=count(response.get("eval_count")),
        )

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        return [f"error in body: {describe_error(response)}"] if "error" in response else []


class OllamaChat(_OllamaStream):
    provider = "ollama-chat"

    def __init__(self) -> None:
        super().__init__()
        self._message: JSON = {}
        """`message` fields but the joined ones, the last value of each (`role`: the first)."""
        self._tool_calls: list[Any] | None = None

    def feed_all(self, events: list[Event]) -> None:
        """Most lines hold `model`, `created_at`, `done: false` and a message of `role` and
        `content` (and `thinking`): those are merged in this loop, with locals and no call per
        line; any other line goes through `feed`. Their top-level fields are the same four on
        every line: the first line of a run sets their order in `_top`, and then only the
        last one's values are kept (`_note_fast`, before any other line).
        """
        texts = self._text
        text = texts.append
        thinking = self._thinking.append
        loads = _loads
        last = None
        started = thinks = False
        first = len(texts)
        number = self._lines
        # Lines go the long way until one had a role (kept from the first), and after `done`.
        fast = bool(self._message) and not self.done
        for event in events:
            number += 1
            try:
                line = loads(event[1])  # `data`: an index costs less than the field's name
                message = line["message"]
                content = message["content"]
                if (
                    fast
                    and len(line) == 4
                    and line["done"] is False
                    and "created_at" in line
                    and "model" in line
                    and type(content) is str
                    and "role" in message
                ):
                    if last is None:
                        self._top.update(line)  # the first line of a run sets the key order
                    size = len(message)
                    if size == 2:
                        text(content)
                        last = line
                        continue
                    if size == 3 and type(message["thinking"]) is str:
                        text(content)
                        if message["thinking"]:
                            thinking(message["thinking"])
                            started = True
                        thinks = True
                        last = line
                        continue
            except (KeyError, TypeError, ValueError):
                pass
            self._note_fast(last, started, thinks, first)
            last = None
            self._lines = number - 1
            self.feed(event)
            first = len(texts)
            fast = bool(self._message) and not self.done
        self._note_fast(last, started, thinks, first)
        self._lines = number

    def _merge(self, line: JSON, data: str) -> None:
        message = line.get("message")
        if message is None:
            return
        if type(message) is not dict:
            self.errors.append(f"line #{self._lines}: `message` is not an object; ignored")
            return
        content = message.get("content")
        thinking = message.get("thinking")
        known = (content is not None) + (thinking is not None) + ("role" in message)
        rare = len(message) > known or not self._message  # `_merge_message` reads it all
        if content:
            if type(content) is str:
                self._text.append(content)
                self.content_started = True
            elif not rare:  # (`_merge_message` says so otherwise)
                self.errors.append(f"line #{self._lines}: `message.content` is not text")
        if thinking is not None:
            self._thinks = True
            if type(thinking) is not str:
                if not rare:
                    self.errors.append(f"line #{self._lines}: `message.thinking` is not text")
            elif thinking:
                self._thinking.append(thinking)
                self.content_started = True
        if rare:
            self._merge_message(message, line, data)

    def _merge_message(self, message: JSON, line: JSON, data: str) -> None:
        """The rarer fields: the first `role`, `tool_calls`, and any other."""
        fields = self._message
        for key, value in message.items():
            if key == "content" or key == "thinking":
                if type(value) is not str:
                    self.errors.append(f"line #{self._lines}: `message.{key}` is not text")
                fields.setdefault(key, None)  # keeps the field's place
            elif key == "role":
                fields.setdefault(key, value)
            elif key == "tool_calls":
                self._add_tool_calls(value, data)
            else:
                fields[key] = value

    def _add_tool_calls(self, calls: Any, data: str) -> None:
        if type(calls) is not list:
            self.errors.append(f"line #{self._lines}: `tool_calls` is not a list; ignored")
            return
        if holds_wide_integers(data):  # orjson may have made a float of one
            exact = pydantic_core.from_json(data).get("message", {}).get("tool_calls")
            calls = exact if type(exact) is list else calls
        if self._tool_calls is None:
            self._tool_calls = []
            self._message.setdefault("tool_calls", None)
        self._tool_calls.extend(calls)
        self.content_started = True

    def result(self) -> JSON | None:
        if not self._top:
            return None
        answer = self._answer()
        message: JSON = {}
        for key, value in self._message.items():
            message[key] = _copy(value)
        message["content"] = "".join(self._text)
        if self._thinks:
            message["thinking"] = "".join(self._thinking)
        else:
            message.pop("thinking", None)
        if self._tool_calls is not None:
            message["tool_calls"] = _copy(self._tool_calls)
        answer["message"] = message
        return answer

    @staticmethod
    def summarize(response: JSON) -> Summary:
        summary = _summary(response)
        message = response.get("message")
        if type(message) is dict:
            _add_text(summary, message.get("thinking"), message.get("content"))
            calls = message.get("tool_calls")
            for call in calls if type(calls) is list else []:
                function = call.get("function") if type(call) is dict else None
                if type(function) is dict:
                    arguments = compact_json(function.get("arguments", {}))
                    summary.parts.append(Part("tool_call", arguments, _str(function.get("name"))))
        return summary


class OllamaGenerate(_OllamaStream):
    provider = "ollama-generate"

    def feed_all(self, events: list[Event]) -> None:
        """Lines of `model`, `created_at`, `response` (and `thinking`) and `done: false` are
        merged in this loop, as in `OllamaChat.feed_all`; any other line goes through `feed`."""
        texts = self._text
        text = texts.append
        thinking = self._thinking.append
        loads = _loads
        last = None
        started = thinks = False
        first = len(texts)
        run = 0  # the key count of the lines since the last call of `feed`
        number = self._lines
        fast = not self.done
        for event in events:
            number += 1
            try:
                line = loads(event[1])  # `data`: an index costs less than the field's name
                response = line["response"]
                size = len(line)
                if (
                    fast
                    and (size == 4 or size == 5)
                    and line["done"] is False
                    and "created_at" in line
                    and "model" in line
                    and type(response) is str
                ):
                    if size != run:
                        # The first line of a run of one key set sets the key order, and the
                        # run before it is applied first (its last line, as in `_note_fast`).
                        if last is not None:
                            self._top.update(last)
                        self._top.update(line)
                        run = size
                    if size == 4:
                        text(response)
                        last = line
                        continue
                    if type(line["thinking"]) is str:
                        text(response)
                        if line["thinking"]:
                            thinking(line["thinking"])
                            started = True
                        thinks = True
                        last = line
                        continue
            except (KeyError, TypeError, ValueError):
                pass
            self._note_fast(last, started, thinks, first)
            last = None
            self._lines = number - 1
            self.feed(event)
            first = len(texts)
            run = 0
            fast = not self.done
        self._note_fast(last, started, thinks, first)
        self._lines = number

    def _merge(self, line: JSON, data: str) -> None:
        response = line.get("response")
        thinking = line.get("thinking")
        if response:
            if type(response) is str:
                self._text.append(response)
                self.content_started = True
            else:
                self.errors.append(f"line #{self._lines}: `response` is not text; ignored")
        if thinking is not None:
            self._thinks = True
            if thinking and type(thinking) is str:
                self._thinking.append(thinking)
                self.content_started = True

    def result(self) -> JSON | None:
        if not self._top:
            return None
        answer = self._answer()
        answer["response"] = "".join(self._text)
        if self._thinks:
            answer["thinking"] = "".join(self._thinking)
        return answer

    @staticmethod
    def summarize(response: JSON) -> Summary:
        summary = _summary(response)
        _add_text(summary, response.get("thinking"), response.get("response"))
        return summary


def _summary(response: JSON) -> Summary:
    return Summary(
        model=_str(response.get("model")),
        stop_reason=_str(response.get("done_reason")),
        usage={k: response[k] for k in ("prompt_eval_count", "eval_count") if k in response},
    )


def _add_text(summary: Summary, thinking: Any, text: Any) -> None:
    if type(thinking) is str and thinking:
        summary.parts.append(Part("thinking", thinking))
    if type(text) is str and text:
        summary.parts.append(Part("text", text))


def describe_error(body: JSON) -> str:
    """Ollama's errors are a string (`{"error": "model 'x' not found"}`); some proxies nest."""
    error = body.get("error")
    if type(error) is dict:
        return str(error.get("message") or compact_json(error))
    return str(error)


def _str(value: Any) -> str | None:
    return value if type(value) is str else None


def _copy(value: Any) -> Any:
    """A copy of plain JSON sharing nothing (by hand where orjson cannot: wide integers)."""
    if type(value) is not dict and type(value) is not list:
        return value
    try:
        return _loads(orjson.dumps(value))
    except TypeError:
        if type(value) is dict:
            return {k: _copy(v) for k, v in value.items()}
        return [_copy(v) for v in value]


def _sample(path: str, request: JSON, answer: str) -> Sample:
    return Sample(
        host="127.0.0.1:11434",
        path=path,
        request=request,
        answer=answer,
        content_type=STREAM_TYPES[0],
    )


CHAT_PROVIDER = Provider(
    id=OllamaChat.provider,
    title="Ollama chat (/api/chat)",
    accumulator=OllamaChat,
    routes=(Route("*:11434", r"^/api/chat$"), Route("*", r"/api/chat$")),
    framing=NDJSONDecoder,
    stream_types=STREAM_TYPES,
    samples=(
        _sample(
            "/api/chat",
            {
                "model": "qwen3.6:latest",
                "messages": [{"role": "user", "content": "Count from 1 to 5, digits only."}],
                "stream": True,
            },
            "ollama/stream/openinference__test_chat_stream__0.ndjson",
        ),
    ),
)

GENERATE_PROVIDER = Provider(
    id=OllamaGenerate.provider,
    title="Ollama generate (/api/generate)",
    accumulator=OllamaGenerate,
    routes=(Route("*:11434", r"^/api/generate$"), Route("*", r"/api/generate$")),
    framing=NDJSONDecoder,
    stream_types=STREAM_TYPES,
    samples=(
        _sample(
            "/api/generate",
            {"model": "gemma3:1b", "prompt": "Tell me a joke about OpenTelemetry", "stream": True},
            "ollama/stream/openllmetry__test_ollama_streaming_metrics__0.ndjson",
        ),
    ),
)
