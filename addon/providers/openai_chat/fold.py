"""The Chat Completions fold: `chat.completion.chunk` events into one `chat.completion`.

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

from typing import Any, ClassVar

import orjson

from addon.providers.base import JSON, Summary, Usage, count
from addon.providers.openai_chat import request, summary
from addon.providers.openai_chat.chunks import ChunkStream
from addon.providers.openai_chat.fast import Shape, make_shape
from addon.providers.openai_chat.merge import (
    _CHUNK,
    _NOT_COPIED_KEYS,
    _STREAMED_CHOICE_KEYS,
    _X_GROQ_LIFTED,
    _copy,
    _export,
    _merge_delta,
)
from addon.wire import Event
from addon.wire.sse import ServerSentEvent


class _NotCommon(Exception):
    """A chunk that the shortcut's last checks turn away (to the full merge)."""


class OpenAIChat(ChunkStream):
    provider = "openai-chat"
    chunk_object = _CHUNK
    shape_backoff_cap: ClassVar[int] = 63
    """The most chunks merged the long way that make no shape after a try nothing used."""

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
        self._shape: Shape | None = None
        """What a chunk must look like to take `feed_all`'s shortcut (None: none may)."""
        self._shape_tried: int | None = None
        """The chunk number a shape was last made after (None: not since the last check)."""
        self._shape_backoff = 0
        self._shape_wait = 0
        """Chunks merged the long way that make no shape before the next try."""

    def feed_all(self, events: list[Event]) -> None:
        """The common chunk (`fast.py` says which) only appends its fragment, here, with
        locals and a few C-level comparisons; any other chunk is merged the long way by
        `_merge`, and the shape of the shortcut is then made again from it."""
        loads = orjson.loads
        not_json = orjson.JSONDecodeError
        number = self._chunks
        shape = self._shape
        if shape is not None:
            (top_size, top_values, top_reference, typed_key, typed_type, extra_key,
             choice_size, choice_values, choice_reference, delta_size, delta_nulls,
             delta_null_reference, leaf, call_index, append, logprob_keys,
             extend_tokens) = shape  # fmt: skip
        for event in events:
            try:
                chunk = loads(event.data)
            except not_json as exc:
                self._chunks = number
                try:
                    self._not_json(event, exc)
                except Exception as error:  # as in `Accumulator.feed_all`
                    self._not_applied(event, error)
                number = self._chunks
                if self.done:
                    shape = self._shape = None
                continue
            except Exception as error:  # as in `Accumulator.feed_all`
                self._not_applied(event, error)
                continue
            if shape is not None:
                try:
                    if (
                        len(chunk) == top_size
                        and top_values(chunk) == top_reference
                        and type(chunk[typed_key]) is typed_type
                        and extra_key in chunk
                    ):
                        (choice,) = chunk["choices"]  # ValueError unless one choice
                        delta = choice["delta"]
                        if (
                            len(choice) == choice_size
                            and choice_values(choice) == choice_reference
                            and len(delta) == delta_size
                            and (delta_nulls is None or delta_nulls(delta) == delta_null_reference)
                        ):
                            value = delta[leaf]
                            if call_index is None:
                                if type(value) is str:
                                    if extend_tokens is not None:
                                        logprobs = choice["logprobs"]
                                        tokens = logprobs["content"]
                                        if not (
                                            logprobs.keys() == logprob_keys
                                            and logprobs.get("refusal") is None
                                            and type(tokens) is list
                                        ):
                                            raise _NotCommon
                                        extend_tokens(tokens)
                                    append(value)
                                    number += 1
                                    continue
                            else:
                                (entry,) = value
                                index = entry["index"]
                                function = entry["function"]
                                if (
                                    len(entry) == 2
                                    and index == call_index
                                    and type(index) is int
                                    and len(function) == 1
                                    and type(function["arguments"]) is str
                                ):
                                    append(function["arguments"])
                                    number += 1
                                    continue
                except Exception:  # not the common shape: the long way says what it is
                    pass
            self._chunks = number
            try:
                self._merge(event, chunk)
            except Exception as error:  # as in `Accumulator.feed_all`
                self._not_applied(event, error)
            number = self._chunks
            shape = self._shape = self._next_shape(chunk)
            if shape is not None:
                (top_size, top_values, top_reference, typed_key, typed_type, extra_key,
                 choice_size, choice_values, choice_reference, delta_size, delta_nulls,
                 delta_null_reference, leaf, call_index, append, logprob_keys,
                 extend_tokens) = shape  # fmt: skip
        self._chunks = number

    def _next_shape(self, chunk: Any) -> Shape | None:
        """The shortcut's shape after a chunk merged the long way (None: no shortcut yet).

        Where most chunks differ (logprobs, Azure's content filters per chunk), a shape made
        after each would cost more than the shortcut saves: after a try that no chunk used,
        the next 1, 3, 7, ... 63 chunks merged the long way make none."""
        if self.done or not self.content_started:
            return None
        tried = self._shape_tried
        if tried is not None:
            self._shape_tried = None
            if self._chunks == tried + 1:  # the last try took no chunk
                self._shape_wait = self._shape_backoff = min(
                    2 * self._shape_backoff + 1, self.shape_backoff_cap
                )
            else:
                self._shape_backoff = 0
        if self._shape_wait:
            self._shape_wait -= 1
            return None
        self._shape_tried = self._chunks
        return make_shape(chunk, self._choices)

    def _feed(self, event: ServerSentEvent) -> None:
        try:
            chunk = orjson.loads(event.data)
        except orjson.JSONDecodeError as exc:
            self._not_json(event, exc)
            return
        self._merge(event, chunk)
        self._shape = None  # `feed` does not keep the shortcut's shape up to date

    def _merge(self, event: ServerSentEvent, chunk: Any) -> None:
        """One parsed chunk, merged by the full rules."""
        choices = self._choices_of(event, chunk)
        if choices is None:
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

    def _merges_object(self, kind: Any, chunk: JSON) -> bool:
        # Azure's asynchronous content-filter events (`object: ""`) are kept aside, as the SDK
        # skips them; Azure's opening chunk has the same `object` and is merged for its
        # `prompt_filter_results` (the SDK drops them).
        return bool(kind == _CHUNK or (kind == "" and "prompt_filter_results" in chunk))

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

    @staticmethod
    def summarize(response: JSON) -> Summary:
        return summary.summarize(response)

    read_request = staticmethod(request.read_request)

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
        return [f"error in body: {summary.describe_error(error)}"] if error else []
