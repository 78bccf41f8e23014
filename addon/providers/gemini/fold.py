"""Gemini `streamGenerateContent`: the streamed chunks folded into one response.

Every chunk is a whole `GenerateContentResponse` holding what is new since the last one. The
same fold serves Google AI Studio (`generativelanguage.googleapis.com`), Vertex AI
(`{region}-aiplatform.googleapis.com`, `.../publishers/google/models/{m}`), any host that
serves those paths, and the Gemini CLI's Code Assist API (`cloudcode-pa.googleapis.com/
v1internal`), whose chunks wrap each response as `{"response": {...}, "traceId": ...}`. With
`?alt=sse` the chunks come as Server-Sent Events, without it as one streamed JSON array
(`GeminiProvider.framing_for` picks the framing by content type). google-genai has no merging
helper to compare with: `generate_content_stream` yields the chunks, and a chat session's
history keeps one `Content` per chunk, unmerged (`chats.py`, `send_message_stream`).

Merge rules, to the shape of the non-streamed `generateContent` answer:

- Candidates by `index` (missing means 0), in index order; `index` is written back only where
  the chunks sent it (Vertex leaves it out of its answers, AI Studio puts it in).
- Parts in the order they came. Consecutive text parts of the same kind (`thought: true` or
  not) are joined into one. A `thoughtSignature` stays on the part it arrived with, so a text
  part with a signature starts a new part unless it is an empty text that only carries the
  signature: that one joins the preceding text part of its kind when that part has no
  signature yet. Evidence: gemini-2.5-pro sends the signature on the first answer chunk
  (`pydantic-ai__test_google_model_thinking_part_iter__0`), gemini-3 and 3.5 on a last empty
  text part (`openinference__test_streaming_reasoning__0`, `pydantic-ai__test_native_output_
  with_builtin_tools_stream__0`); the non-streamed gemini-3-pro answers carry it on the one
  answer text part (`pydantic-ai__test_google_model_thinking_part__0`). An empty text part
  that carries nothing else (gemini-3 sends one after a function call) is left out: the
  non-streamed answers of the same model have none.
- Every other part (`functionCall`, `executableCode`, `codeExecutionResult`, `inlineData`,
  `fileData`, `toolCall`, `toolResponse`, unknown ones) and text parts with other fields are
  kept whole, in order.
- Candidate fields: `groundingMetadata` is the last non-empty one (an empty `{}` comes with
  every chunk of a grounded answer); all others (`finishReason`, `finishMessage`,
  `safetyRatings`, `citationMetadata`, `logprobsResult`, `urlContextMetadata`, unknown ones)
  are the last that came. Top-level fields (`usageMetadata`, a running total that can go
  down and is never summed, `modelVersion`, `responseId`, `createTime`, `promptFeedback`,
  unknown ones) are the last that came. Enum values stay as sent (Vertex's
  `enum-encoding=int` sends integers).

There is no terminal event. The answer is done when every candidate has a `finishReason`, or
when `promptFeedback.blockReason` says the prompt was blocked (an answer with no candidates,
complete, which `summarize` says). Whether the body itself ended cleanly (a whole last SSE
event, a closed JSON array) is the framing's to report.

Numbers stay exact: orjson turns integers wider than 64 bits into floats, so when a chunk with
a part that is not text (function arguments, tool responses) has a run of 19 digits in its
text (`holds_wide_integers`, one pass in C), that part is taken from a second, exact parse of
the chunk with pydantic-core (`from_json`, the parser the anthropic SDK uses). Text parts and
token counts never need it.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Final

import orjson
import pydantic_core

from addon.providers.base import JSON, Accumulator, Summary, Usage
from addon.providers.gemini.summary import describe_error, summarize_response, usage_of
from addon.wire.events import Event

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError

_TEXT_KEYS: Final = frozenset({"text", "thought", "thoughtSignature"})
"""A text part with only these fields joins a run of text parts; any other is kept whole."""
_EMPTY_KEYS: Final = frozenset({"text", "thought"})
_CONTENT: Final = object()  # where `content` goes among a candidate's fields


class _TextRun:
    """Consecutive text parts of one kind: the first part's fields, and fragments joined once."""

    __slots__ = ("fragments", "part", "signed", "thought")

    def __init__(self, part: JSON, thought: bool) -> None:
        self.part = dict(part)
        self.thought = thought
        self.signed = "thoughtSignature" in part
        self.fragments: list[str] = [part["text"]]

    def export(self) -> JSON | None:
        """The joined part (None when it is empty and carries nothing else)."""
        fragments = self.fragments
        if len(fragments) > 1:  # joined in place: `feed_all` holds this list
            fragments[:] = ("".join(fragments),)
        part = dict(self.part)
        part["text"] = text = fragments[0]
        if not text and part.keys() <= _EMPTY_KEYS:
            return None
        return part


class _Candidate:
    """One candidate so far: its fields in the order they came, and its parts."""

    __slots__ = ("content", "fields", "parts", "run")

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.content: JSON = {}  # the content's fields other than `parts`
        self.parts: list[Any] = []  # whole parts, and `_TextRun`s
        self.run: _TextRun | None = None  # the text run that a next text part may join


class GeminiGenerateContent(Accumulator):
    provider = "gemini"

    def __init__(self) -> None:
        super().__init__()
        self._chunks = 0
        self._top: JSON = {}
        """Top-level fields but `candidates`, the last value of each."""
        self._candidates: dict[int, _Candidate] = {}
        self._unfinished: set[int] = set()
        """Candidates without a `finishReason` yet."""
        self._blocked = False
        self._data = ""  # the current chunk's text, for an exact parse when one is needed
        self._exact: JSON | None = None
        self._wide: bool | None = None  # whether the current chunk may hold wide integers
        self._candidates_sent: list[Any] = []  # the current chunk's candidates

    def _feed(self, event: Event) -> None:
        data = event.data
        try:
            chunk = _loads(data)
        except _JSONDecodeError as exc:
            if data.strip():  # an empty event is a keep-alive
                self._chunks += 1
                self.errors.append(f"chunk #{self._chunks}: not JSON ({exc}); skipped")
                self.unknown.append({"event": event.event, "data": data})
            return
        self._chunks += 1
        if type(chunk) is not dict:
            self.errors.append(f"chunk #{self._chunks}: JSON but not an object; skipped")
            self.unknown.append({"event": event.event, "data": chunk})
            return
        response = self._unwrap(chunk) if self._wrapped else chunk
        if response is None:
            return
        if "error" in response:
            self.errors.append(f"chunk #{self._chunks}: error: {describe_error(response)}")
            self.unknown.append({"event": event.event, "data": chunk})
            return
        candidates = response.pop("candidates", None)
        self._top.update(response)
        if candidates:
            if type(candidates) is not list:
                self.errors.append(f"chunk #{self._chunks}: `candidates` is not a list; ignored")
            elif not self._more_text(candidates):
                self._data = data
                self._exact = None
                self._wide = None
                self._candidates_sent = candidates
                self._merge_candidates(candidates)
                self._arm(candidates, response)
        if "promptFeedback" in response:
            feedback = response["promptFeedback"]
            if type(feedback) is dict and feedback.get("blockReason"):
                self._blocked = self.done = True

    _wrapped = False
    """Whether chunks wrap the response (then `_unwrap` takes it out)."""

    def feed_all(self, events: list[Event]) -> None:
        """Chunks that only carry more text for the armed run (see `_arm`) are merged in this
        loop, with locals and no call per chunk: a chunk whose top-level keys are the armed
        chunk's and whose `candidates` equal the armed template, once the template holds the
        chunk's own text object (one comparison in C checks every field of the candidate).
        Their top-level fields are all in `_top` already (the armed chunk put them there), so
        updating it with the last such chunk of a run gives what updating with each gives.
        Any other chunk goes through `feed`, as do all chunks of a wrapped (Code Assist) API.
        """
        if self._wrapped:
            super().feed_all(events)
            return
        loads = _loads
        last: JSON | None = None
        fast = 0  # chunks merged here since `last` was last applied
        template = self._fast_template
        for event in events:
            if template is not None:
                part_template, candidates_template, keys, size, fragments, thought = template
                try:
                    chunk = loads(event[1])  # `data`: an index costs less than the name
                    candidates = chunk["candidates"]
                    part = candidates[0]["content"]["parts"][0]
                    text = part_template["text"] = part["text"]
                    keys(chunk)  # every armed key is there (or KeyError), and `size` says no more
                    if (
                        type(text) is str
                        and len(chunk) == size
                        and candidates == candidates_template
                        and (not thought or part["thought"] is True)
                    ):
                        fragments.append(text)
                        last = chunk
                        fast += 1
                        continue
                except (KeyError, TypeError, ValueError, IndexError):
                    pass
            if last is not None:
                self._note_fast(last, fast)
                last, fast = None, 0
            self.feed(event)
            template = self._fast_template
        if last is not None:
            self._note_fast(last, fast)

    def _note_fast(self, last: JSON, fast: int) -> None:
        """What the loop in `feed_all` merged: the last chunk's top-level fields, the count."""
        del last["candidates"]
        self._top.update(last)
        self._chunks += fast

    # Most chunks only carry more text for the text part the last chunk ended with. `_arm`
    # notes when the last chunk had that shape, and `_more_text` then takes the next one in
    # a few checks, with no call and no loop.
    _fast_run: _TextRun | None = None
    _fast_size = 0  # fields of the candidate: `content`, and `index` if it came
    _fast_index = 0
    _fast_role: Any = None
    _fast_part_size = 0  # fields of the part: `text`, and `thought` for thinking
    _fast_template: tuple[JSON, list[Any], itemgetter[Any], int, list[str], bool] | None = None
    """For `feed_all`: the armed chunk's part and `candidates` (the part's `text` is filled in
    per chunk), a getter of its top-level keys and their count, the run's fragments, and
    whether the run is thinking."""

    def _more_text(self, candidates: list[Any]) -> bool:
        """Join a chunk that only continues the text of the last one; False if it is not one."""
        run = self._fast_run
        if run is None:
            return False
        try:  # a chunk of another shape fails one of these, or raises, and goes the long way
            (candidate,) = candidates
            content = candidate["content"]
            (part,) = content["parts"]
            text = part["text"]
            if (
                len(candidate) != self._fast_size
                or len(content) != 2
                or len(part) != self._fast_part_size
                or type(text) is not str
                or content["role"] != self._fast_role
                or candidate.get("index", 0) != self._fast_index
                or (run.thought and part["thought"] is not True)
            ):
                return False
        except (KeyError, TypeError, ValueError):
            return False
        run.fragments.append(text)
        return True

    def _arm(self, candidates: list[Any], response: JSON) -> None:
        """After a chunk merged the long way: may the next one take `_more_text`?"""
        self._fast_run = None
        self._fast_template = None
        candidate = candidates[0]
        if len(candidates) != 1 or type(candidate) is not dict or not self.content_started:
            return
        content = candidate.get("content")
        has_index = "index" in candidate
        if type(content) is not dict or len(candidate) != 1 + has_index:
            return
        index = candidate.get("index", 0)
        state = self._candidates.get(index)
        if state is None or state.run is None or content.keys() != {"parts", "role"}:
            return
        self._fast_run = run = state.run
        self._fast_size = len(candidate)
        self._fast_index = index
        self._fast_role = role = content["role"]
        self._fast_part_size = 2 if run.thought else 1
        if type(role) is str and "promptFeedback" not in response:
            # `==` on these is what `_more_text` checks, but for `thought` (1 == True): the
            # loop checks that one with `is`. The role is text, so equal means the same.
            part: JSON = {"text": None, "thought": True} if run.thought else {"text": None}
            shape: JSON = {"content": {"parts": [part], "role": role}}
            if has_index:
                shape["index"] = index
            keys = itemgetter("candidates", *response)
            size = 1 + len(response)
            self._fast_template = (part, [shape], keys, size, run.fragments, run.thought)

    def _unwrap(self, chunk: JSON) -> JSON | None:
        """The `GenerateContentResponse` a chunk carries (Code Assist wraps it)."""
        return chunk

    def _exact_response(self) -> JSON:
        """The current chunk parsed again, exactly (integers wider than 64 bits kept)."""
        if self._exact is None:
            exact = pydantic_core.from_json(self._data)
            self._exact = (self._unwrap(exact) if self._wrapped else exact) or {}
        return self._exact

    def _merge_candidates(self, candidates: list[Any]) -> None:
        states = self._candidates
        for candidate in candidates:
            if type(candidate) is not dict:
                self.errors.append(f"chunk #{self._chunks}: a candidate is not an object")
                continue
            index = candidate.get("index", 0)
            state = states.get(index)
            content = candidate.get("content")
            has_index = "index" in candidate
            if (
                state is None
                or len(candidate) > has_index + (content is not None)
                or (has_index and "index" not in state.fields)
            ):
                # A new candidate, or fields besides its content: each in turn, in order.
                if state is None:
                    if type(index) is not int:
                        self.errors.append(f"chunk #{self._chunks}: candidate index {index!r}")
                        continue
                    states[index] = state = _Candidate()
                    self._unfinished.add(index)
                self._merge_fields(state, index, candidate)
            if content is not None:
                if type(content) is dict:
                    self._merge_content(state, content, candidate)
                else:
                    self.errors.append(f"chunk #{self._chunks}: `content` is not an object")

    def _merge_fields(self, state: _Candidate, index: int, candidate: JSON) -> None:
        fields = state.fields
        for key, value in candidate.items():
            if key == "content":
                if key not in fields:
                    fields[key] = _CONTENT
            elif key == "groundingMetadata":
                if value or key not in fields:
                    fields[key] = value
            else:
                fields[key] = value
                if key == "finishReason" and value is not None and value != "":
                    self._unfinished.discard(index)
        self.done = self._blocked or not self._unfinished

    def _merge_content(self, state: _Candidate, content: JSON, candidate: JSON) -> None:
        fields = state.content
        role = content.get("role")
        parts = content.get("parts")
        if len(content) > (role is not None) + (parts is not None):
            for key, value in content.items():
                if key != "parts":
                    fields[key] = value
        elif role is not None:
            fields["role"] = role
        if not parts:
            return
        if type(parts) is not list:
            self.errors.append(f"chunk #{self._chunks}: `parts` is not a list; ignored")
            return
        merged = state.parts
        for part in parts:
            if type(part) is dict:
                text = part.get("text")
                if type(text) is str:
                    size = len(part)
                    run = state.run
                    if run is not None and (
                        (size == 1 and not run.thought)
                        or (size == 2 and run.thought and part.get("thought") is True)
                    ):
                        run.fragments.append(text)  # the common case: more of the same text
                        if text and not self.content_started:
                            self.content_started = True
                        continue
                    if part.keys() <= _TEXT_KEYS:
                        self._merge_text(state, part, text)
                        continue
                if self._wide is None:
                    self._wide = holds_wide_integers(self._data)
                if self._wide:
                    part = self._exact_part(candidate, part)
            state.run = None
            merged.append(part)
            self.content_started = True

    def _merge_text(self, state: _Candidate, part: JSON, text: str) -> None:
        """A text part that may start a run, or join or sign the run before it."""
        thought = part.get("thought") is True
        run = state.run
        if run is not None and run.thought is thought:
            if "thoughtSignature" not in part:
                run.fragments.append(text)
                if text and not self.content_started:
                    self.content_started = True
                return
            if not text and not run.signed:
                run.part["thoughtSignature"] = part["thoughtSignature"]
                run.signed = True
                return
        state.run = _TextRun(part, thought)
        state.parts.append(state.run)
        if text and not self.content_started:
            self.content_started = True

    def _exact_part(self, candidate: JSON, part: JSON) -> Any:
        """The same part from an exact parse of its chunk (orjson made a float of it)."""
        candidates = self._candidates_sent
        position = next(i for i, c in enumerate(candidates) if c is candidate)
        parts = candidate["content"]["parts"]
        number = next(i for i, p in enumerate(parts) if p is part)
        try:
            exact = self._exact_response()["candidates"][position]["content"]["parts"][number]
        except (ValueError, LookupError, TypeError):
            return part  # the exact parser failed where orjson did not: keep orjson's
        return exact

    def result(self) -> JSON | None:
        if not self._top and not self._candidates:
            return None
        response: JSON = {}
        if self._candidates:
            response["candidates"] = [
                self._export(index, self._candidates[index]) for index in sorted(self._candidates)
            ]
        response.update(_copy(self._top))
        return self._wrap(response)

    def _wrap(self, response: JSON) -> JSON:
        """The record's object for a rebuilt response (Code Assist wraps it again)."""
        return response

    @staticmethod
    def _export(index: int, state: _Candidate) -> JSON:
        candidate: JSON = {}
        for key, value in state.fields.items():
            if value is _CONTENT:
                # Whole parts are copied in one go; joined text parts are new objects already.
                whole = iter(_clone([p for p in state.parts if type(p) is not _TextRun]))
                parts = []
                for part in state.parts:
                    if type(part) is _TextRun:
                        exported = part.export()
                        if exported is not None:
                            parts.append(exported)
                    else:
                        parts.append(next(whole))
                content: JSON = {"parts": parts}
                content.update(_copy(state.content))
                candidate[key] = content
            else:
                candidate[key] = _clone(value)
        return candidate

    def finish(self) -> None:
        if self.done:
            return
        if self._unfinished:
            self.errors.append(
                f"stream ended before candidate(s) {sorted(self._unfinished)} had a finishReason"
            )
        elif not self._candidates:
            self.errors.append("stream ended with no candidate and no promptFeedback.blockReason")

    @staticmethod
    def summarize(response: JSON) -> Summary:
        return summarize_response(response)

    @staticmethod
    def usage(response: JSON) -> Usage:
        return usage_of(response)

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        return [f"error in body: {describe_error(response)}"] if "error" in response else []


def holds_wide_integers(text: str) -> bool:
    """Whether JSON text may hold an integer orjson cannot keep exact (it makes a float of it).

    orjson reads integers from -2**63 to 2**64 - 1 exactly; any other has 19 digits or more.
    A run of 19 digits is found by C code (digits mapped to "0", then one search); a run
    inside a string only costs a needless exact parse.
    """
    return _DIGIT_RUN in text.encode().translate(_DIGITS_TO_ZERO)


_DIGITS_TO_ZERO: Final = bytes.maketrans(b"123456789", b"000000000")
_DIGIT_RUN: Final = b"0" * 19


def _clone(value: Any) -> Any:
    """A copy of plain JSON that shares nothing (orjson where it can, which is fastest)."""
    if type(value) is not dict and type(value) is not list:
        return value
    try:
        return _loads(orjson.dumps(value))
    except TypeError:  # an integer wider than 64 bits: copy by hand
        return _clone_slowly(value)


def _clone_slowly(value: Any) -> Any:
    if type(value) is dict:
        return {k: _clone_slowly(v) for k, v in value.items()}
    if type(value) is list:
        return [_clone_slowly(v) for v in value]
    return value


_copy = _clone
