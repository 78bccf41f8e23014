"""Google's Interactions API (`/v1beta/interactions`): fold its event stream into one Interaction.

The stream (`stream: true`) is Server-Sent Events whose `event_type` names the kind:
`interaction.created` (the interaction so far: id, status, model), `interaction.status_update`,
then per step `step.start` (the step's type and first fields), `step.delta`s and `step.stop`,
then `interaction.completed` (status, usage, times) and `done` (`[DONE]`, skipped). The
rebuilt object is the non-streamed `Interaction` resource: the created interaction, updated by
every status update and by the completed one, with `steps` rebuilt from the step events in
index order.

google-genai 3.6.1 types the events and the resource (`_gaos.types.interactions`) but has no
helper that folds a stream; how deltas land in a step follows those types and the recordings:

- `text` deltas grow the step's `content`: consecutive ones are one `{"type": "text"}` item;
  `text_annotation_delta` adds its `annotations` to that item; `image`, `audio`, `video` and
  `document` deltas are content items of their own, kept whole.
- `thought_summary` deltas grow a thought step's `summary` the same way (their `content` is a
  content item); `thought_signature` deltas are joined into its `signature` (the recordings
  send empty ones before the real one).
- `arguments_delta` strings are joined and parsed (exactly: integers wider than 64 bits stay)
  into a function call's `arguments`, which `step.start` sends empty. Any other event whose
  text holds such an integer is parsed exactly too (`holds_wide_integers`).
- Any other delta (tool call and result deltas, unknown ones) sets its fields on the step.

`interaction.completed` ends the answer (its `status` may still be `incomplete`,
`requires_action` or `failed`). Usage in an event's `metadata` is a
running total (the types call it `total_usage`, the API sends `usage`): the last one is kept
in `extras["running_usage"]`; the interaction's own `usage` comes from the events that carry it.
"""

from __future__ import annotations

from contextlib import suppress
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
from addon.providers.gemini import describe_error, holds_wide_integers
from addon.wire.events import Event

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError

_MEDIA: Final = frozenset({"image", "audio", "video", "document"})
_STATUS_FIELDS: Final = ("status", "continuation_token", "usage")


class _Items:
    """A list of content items whose trailing text items grow by fragments, joined once."""

    __slots__ = ("items", "texts")

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.texts: list[str] | None = None  # fragments of the last item, when it is text

    def add_text(self, text: str) -> None:
        if self.texts is None:
            self.items.append({"type": "text", "text": ""})
            self.texts = []
        self.texts.append(text)

    def add_item(self, item: Any) -> None:
        if type(item) is dict and item.get("type") == "text" and type(item.get("text")) is str:
            if self.texts is not None and item.keys() <= {"type", "text"}:
                self.texts.append(item["text"])
                return
            self._settle()
            self.items.append(dict(item))
            self.texts = [self.items[-1]["text"]]
            return
        self._settle()
        self.items.append(item)
        self.texts = None

    def last_text(self) -> JSON | None:
        self._settle()
        return self.items[-1] if self.texts is not None else None

    def _settle(self) -> None:
        if self.texts is not None:
            joined = "".join(self.texts)
            self.items[-1]["text"] = joined
            self.texts = [joined]

    def export(self) -> list[Any]:
        self._settle()
        items: list[Any] = _copy(self.items)
        return items


class _Step:
    """One step so far: its fields, and the pieces that grow it."""

    __slots__ = ("arguments", "content", "fields", "signature", "summary")

    def __init__(self, fields: JSON) -> None:
        self.fields = fields
        content = fields.get("content")
        summary = fields.get("summary")
        self.content = _Items(content if type(content) is list else [])
        self.summary = _Items(summary if type(summary) is list else [])
        self.signature: list[str] | None = None
        self.arguments: list[str] | None = None

    def export(self, index: int, problems: list[str]) -> JSON:
        step = dict(self.fields)
        if self.content.items or "content" in step:
            step["content"] = self.content.export()
        if self.summary.items or "summary" in step:
            step["summary"] = self.summary.export()
        if self.signature is not None:
            step["signature"] = str(step.get("signature") or "") + "".join(self.signature)
        if self.arguments is not None:
            text = "".join(self.arguments)
            try:
                arguments = pydantic_core.from_json(text) if text else {}
            except ValueError:
                problems.append(f"step #{index}: arguments are not JSON: {text!r}")
            else:
                if step.get("arguments"):
                    problems.append(f"step #{index}: arguments came whole and as deltas")
                step["arguments"] = arguments
        exported: JSON = _copy(step)
        return exported


class GeminiInteractions(Accumulator):
    provider = "gemini-interactions"

    def __init__(self) -> None:
        super().__init__()
        self._interaction: JSON = {}
        self._steps: dict[int, _Step] = {}
        self._events = 0

    def _feed(self, event: Event) -> None:
        self._events += 1
        data = event.data
        try:
            body = _loads(data)
        except _JSONDecodeError as exc:
            if data.strip() not in ("[DONE]", ""):  # `done` carries `[DONE]`: nothing to fold
                self.errors.append(f"event #{self._events}: not JSON ({exc}); skipped")
                self.unknown.append({"event": event.event, "data": data})
            return
        if type(body) is not dict:
            self.errors.append(f"event #{self._events}: JSON but not an object; skipped")
            self.unknown.append({"event": event.event, "data": body})
            return
        kind = body.get("event_type", event.event)
        metadata = body.get("metadata")
        if type(metadata) is dict:
            self.extras["running_usage"] = metadata.get("usage", metadata.get("total_usage"))
        if kind == "step.delta":
            try:  # the common case: more text for the text the step's content ends with
                delta = body["delta"]
                texts = self._steps[body["index"]].content.texts
                text = delta["text"]
                if (
                    texts is not None
                    and delta["type"] == "text"
                    and type(text) is str
                    and self.content_started
                ):
                    texts.append(text)
                    return
            except (KeyError, TypeError):
                pass
        if holds_wide_integers(data):  # orjson made floats of them: parse again, exactly
            with suppress(ValueError):  # kept as orjson read it if the exact parser fails
                body = pydantic_core.from_json(data)
        if kind == "step.delta":
            self._delta(body)
        elif kind == "step.start":
            self._start(body)
        elif kind == "step.stop":
            self._stop(body)
        elif kind == "interaction.created" or kind == "interaction.completed":
            interaction = body.get("interaction")
            if type(interaction) is dict:
                self._interaction.update(interaction)
            else:
                self.errors.append(f"event #{self._events}: {kind} without an interaction")
            if kind == "interaction.completed":
                if self.done:
                    self.errors.append(f"event #{self._events}: a second interaction.completed")
                self.done = True
                if self._interaction.get("status") == "failed":
                    self.errors.append(
                        f"interaction failed: {_describe_failure(self._interaction)}"
                    )
        elif kind == "interaction.status_update":
            for key in _STATUS_FIELDS:
                if key in body:
                    self._interaction[key] = body[key]
        elif kind == "error":
            self.errors.append(f"event #{self._events}: error: {describe_error(body)}")
            self.unknown.append({"event": event.event, "data": body})
        else:
            self.unknown.append({"event": event.event, "data": body})

    def _index(self, body: JSON) -> int | None:
        index = body.get("index")
        if type(index) is not int:
            self.errors.append(f"event #{self._events}: step index {index!r}; skipped")
            return None
        return index

    def _start(self, body: JSON) -> None:
        index = self._index(body)
        step = body.get("step")
        if index is None:
            return
        if type(step) is not dict:
            self.errors.append(f"event #{self._events}: step.start #{index} without a step")
            return
        if index in self._steps:
            self.errors.append(f"event #{self._events}: step #{index} started again; replaced")
        self._steps[index] = _Step(dict(step))
        if step.get("type") not in ("thought", "model_output"):
            self.content_started = True  # a tool call, its result, or another kind of step

    def _delta(self, body: JSON) -> None:
        index = self._index(body)
        if index is None:
            return
        step = self._steps.get(index)
        delta = body.get("delta")
        if step is None or type(delta) is not dict:
            why = "before its step.start" if step is None else "without a delta object"
            self.errors.append(f"event #{self._events}: step.delta #{index} {why}; kept unknown")
            self.unknown.append({"event": "step.delta", "data": body})
            return
        kind = delta.get("type")
        if kind == "text":
            text = delta.get("text")
            if type(text) is str:
                step.content.add_text(text)
                if text:
                    self.content_started = True
                return
        elif kind == "thought_summary":
            item = delta.get("content")
            if item is not None:
                step.summary.add_item(item)
                self.content_started = True
            return
        elif kind == "thought_signature":
            signature = delta.get("signature")
            if type(signature) is str:
                if step.signature is None:
                    step.signature = []
                step.signature.append(signature)
                return
        elif kind == "arguments_delta":
            arguments = delta.get("arguments")
            if type(arguments) is str:
                if step.arguments is None:
                    step.arguments = []
                step.arguments.append(arguments)
                self.content_started = True
                return
        elif kind == "text_annotation_delta":
            target = step.content.last_text()
            annotations = delta.get("annotations")
            if target is not None and type(annotations) is list:
                target.setdefault("annotations", []).extend(annotations)
                return
        elif kind in _MEDIA:
            step.content.add_item(dict(delta))
            self.content_started = True
            return
        # Tool call and result deltas, and any delta this fold does not know: set its fields.
        for key, value in delta.items():
            if key != "type":
                step.fields[key] = value
        self.content_started = True

    def _stop(self, body: JSON) -> None:
        index = self._index(body)
        if index is None:
            return
        if index not in self._steps:
            self.errors.append(f"event #{self._events}: step.stop #{index} without a start")
        for key in ("usage", "step_usage"):
            if body.get(key) is not None:
                self.extras.setdefault("step_usage", {})[str(index)] = body[key]

    def result(self) -> JSON | None:
        if not self._interaction and not self._steps:
            return None
        return self._export([])

    def _export(self, problems: list[str]) -> JSON:
        interaction: JSON = _copy(self._interaction)
        if self._steps or "steps" not in interaction:
            steps = self._steps
            interaction["steps"] = [steps[i].export(i, problems) for i in sorted(steps)]
        return interaction

    def finish(self) -> None:
        self._export(self.errors)  # what could not be rebuilt, e.g. arguments that are not JSON
        if not self.done:
            status = self._interaction.get("status")
            self.errors.append(
                "stream ended before interaction.completed"
                + (f" (status {status!r})" if status else "")
            )

    @staticmethod
    def summarize(response: JSON) -> Summary:
        summary = Summary(
            model=_str(response.get("model")) or _str(response.get("agent")),
            stop_reason=_str(response.get("status")),
        )
        usage = response.get("usage")
        if type(usage) is dict:
            summary.usage = usage
        steps = response.get("steps")
        for step in steps if type(steps) is list else []:
            if type(step) is dict:
                summary.parts.extend(_step_parts(step))
        return summary

    @staticmethod
    def usage(response: JSON) -> Usage:
        """`total_input_tokens` counts the cached ones too; thoughts are output (as in gemini)."""
        usage = response.get("usage")
        if type(usage) is not dict:
            return Usage()
        output = count(usage.get("total_output_tokens"))
        thoughts = count(usage.get("total_thought_tokens"))
        return Usage(
            input_tokens=count(usage.get("total_input_tokens")),
            output_tokens=None
            if output is None and thoughts is None
            else (output or 0) + (thoughts or 0),
            cache_read_tokens=count(usage.get("total_cached_tokens")),
            reasoning_tokens=thoughts,
        )

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        if "error" in response:
            return [f"error in body: {describe_error(response)}"]
        if response.get("status") == "failed":
            return [f"interaction failed: {_describe_failure(response)}"]
        return []


def _step_parts(step: JSON) -> list[Part]:
    kind = step.get("type")
    parts: list[Part] = []
    if kind == "thought":
        for item in step.get("summary") or []:
            if type(item) is dict and type(item.get("text")) is str:
                parts.append(Part("thinking", item["text"]))
    elif kind == "model_output":
        for item in step.get("content") or []:
            if type(item) is dict:
                text = item.get("text")
                parts.append(
                    Part("text", text)
                    if type(text) is str
                    else Part(str(item.get("type")), compact_json(item))
                )
    elif kind == "function_call":
        parts.append(
            Part("tool_call", compact_json(step.get("arguments", {})), _str(step.get("name")))
        )
    else:
        body = {k: v for k, v in step.items() if k not in ("type", "signature")}
        parts.append(Part(str(kind), compact_json(body)))
    return parts


def _describe_failure(interaction: JSON) -> str:
    errors = interaction.get("errors")
    if type(errors) is list and errors:
        return "; ".join(
            ": ".join(str(e[k]) for k in ("code", "message") if e.get(k))
            if type(e) is dict
            else str(e)
            for e in errors
        )
    return "no errors given"


def _str(value: Any) -> str | None:
    return value if type(value) is str else None


def _copy(value: Any) -> Any:
    """A copy of plain JSON sharing nothing (by hand where orjson cannot: wide integers)."""
    try:
        return _loads(orjson.dumps(value))
    except TypeError:
        if type(value) is dict:
            return {k: _copy(v) for k, v in value.items()}
        if type(value) is list:
            return [_copy(v) for v in value]
        return value


PROVIDER = Provider(
    id=GeminiInteractions.provider,
    title="Google Interactions API",
    accumulator=GeminiInteractions,
    routes=(
        Route("generativelanguage.googleapis.com", r"^/v1(?:beta|alpha)?/interactions$"),
        Route(
            "generativelanguage.googleapis.com",
            r"^/v1(?:beta|alpha)?/interactions/[^/]+$",
            methods=("GET",),
            query=r"(?:^|&)stream=true(?:&|$)",
        ),
        Route("*", r"/v1(?:beta|alpha)?/interactions$"),
    ),
    samples=(
        Sample(
            host="generativelanguage.googleapis.com",
            path="/v1beta/interactions",
            request={
                "model": "gemini-2.5-flash",
                "input": "Explain why the sky is blue in two sentences.",
                "generation_config": {"thinking_level": "low", "thinking_summaries": "auto"},
                "stream": True,
            },
            answer="gemini/interactions/openinference__test_interactions_with_thinking_stream__0.sse",
            headers=(("x-goog-api-key", "fake-key-for-tests"),),
        ),
    ),
)
