"""The Responses fold (`POST /v1/responses`, `stream: true`): events in, `Response` out.

Mirrors openai-python's `lib/streaming/responses/_responses.py` (`accumulate_event`): items are
addressed by `output_index`, their content parts by `content_index`, and an item's
`output_item.done` replaces everything streamed for it. The terminal `response.completed` /
`.incomplete` / `.failed` snapshot is the API's own final object and wins when its `output` is
not empty; otherwise (and while streaming, and for a stream cut short) the output is rebuilt
from the item, part and delta events on top of the last lifecycle snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import orjson

from addon.providers.base import JSON, Summary, Usage, count
from addon.providers.openai_responses import request, summary
from addon.providers.openai_responses.addressing import Addressing
from addon.providers.openai_responses.state import (
    _AUDIO_EVENTS,
    _DELTA_PART_TYPE,
    _FIELD_DELTAS,
    _INLINED,
    _PROGRESS_EVENTS,
    _error_text,
    _identity,
    _Item,
    _Part,
)
from addon.wire.sse import ServerSentEvent


class OpenAIResponses(Addressing):
    """Rebuilds a Responses API `Response` from its stream.

    Terminal events: `response.completed`, `response.incomplete` and `response.failed` all end
    the stream (`done`). `response.failed` adds its `response.error` to `errors`.
    `response.incomplete` is a whole, well-formed answer that the API chose to stop (e.g.
    `max_output_tokens`, `content_filter`): it is not an error and the record stays complete;
    the reason is where the API puts it, `response.status == "incomplete"` and
    `response.incomplete_details.reason`, and `summarize` shows it in `stop_reason`
    ("incomplete: max_output_tokens").

    A flat `error` event (`{"type": "error", "code", "message", "param"}`) has no slot in the
    Response object: it is written to `errors` and the raw event is kept in `unknown`, which the
    record shows as `unknown_events`.

    Resumed background streams (`GET /responses/{id}?stream=true&starting_after=N`) have no
    `response.created`; a later lifecycle event (`response.in_progress`) is the base instead.

    Logprobs of `output_text.delta` events are appended to their part, where the finished item
    and the snapshot keep them too (those round the values to 6 decimals; the deltas' full
    precision is what a cut stream shows).
    """

    provider = "openai-responses"

    def __init__(self) -> None:
        super().__init__()
        self._base: JSON | None = None  # the last created/queued/in_progress snapshot
        self._final: JSON | None = None  # the terminal snapshot
        self._response_id: Any = None
        self._items: dict[int, _Item] = {}  # by output_index, as added
        self._done_items: dict[int, JSON] = {}  # by output_index, from output_item.done
        self._reported: set[Any] = set()  # problems already reported once (not per delta)
        # Events for items or a base we never saw: expected in a resumed stream, harmless when
        # the terminal snapshot carries the whole output, errors otherwise (decided in finish).
        self._gaps: list[str] = []

    # -- feeding ---------------------------------------------------------------------------

    def feed_parsed(self, event: ServerSentEvent, data: JSON) -> None:
        """`feed` for an event whose JSON the caller has parsed already, from `event.data`
        (a WebSocket message is parsed once, to route it): the same fold, one parse fewer."""
        try:
            self._feed(event, data)
        except Exception as exc:  # as in `feed`
            self._not_applied(event, exc)

    def _feed(self, event: ServerSentEvent, data: Any = None) -> None:
        try:
            if data is None:
                data = orjson.loads(event.data)
            kind = data["type"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self._odd_event(event)
            return
        if kind == "response.output_text.delta":  # by far the most frequent event: inlined
            self.content_started = True
            delta = data.get("delta")
            part: _Part | None
            try:
                content: Any = self._items[data["output_index"]].content  # None: TypeError
                part = content[data["content_index"]]
            except (KeyError, TypeError):  # not added (yet): the slow path says what is missing
                part = None
            if part is None or part.type != "output_text" or delta.__class__ is not str:
                part = self._part(data, self._items_content, "output_text")
                if part is None:
                    return
                delta = self._string(data, "delta")
                if delta is None:
                    return
            part.pieces.append(delta)
            logprobs = data.get("logprobs")
            if logprobs:
                if logprobs.__class__ is not list:
                    self._problem(data, "logprobs is not a list; not kept on the part")
                elif part.logprobs is None:
                    part.logprobs = list(logprobs)
                else:
                    part.logprobs.extend(logprobs)
            return
        try:
            field = _FIELD_DELTAS.get(kind)
        except TypeError:  # a `type` that is a list or an object
            self.unknown.append({"event": event.event, "data": data})
            return
        if field is not None:  # tool arguments, code: next most frequent, also inlined
            self.content_started = True
            delta = data.get("delta")
            if delta.__class__ is str:
                try:
                    self._items[data["output_index"]].fields[field[1]].append(delta)
                    return
                except (KeyError, TypeError):  # the first delta of the field, or a problem
                    pass
            self._field_delta(data)
            return
        handler = self._HANDLERS.get(kind)
        if handler is None:
            self.unknown.append({"event": event.event, "data": data})
            return
        handler(self, data)

    def _odd_event(self, event: ServerSentEvent) -> None:
        """Data that is not JSON, not an object, or has no `type`: report and keep it."""
        raw = event.data
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if raw.strip() not in ("", "[DONE]"):  # neither is a Responses event, nor broken
                self.errors.append(f"{event.event}: data is not JSON ({exc}): {raw[:80]!r}")
            self.unknown.append({"event": event.event, "data": raw})
            return
        if not isinstance(data, dict):
            self.errors.append(f"{event.event}: data is not a JSON object: {raw[:80]!r}")
            self.unknown.append({"event": event.event, "data": data})
            return
        kind = event.event
        if kind not in self._HANDLERS and kind not in _INLINED:
            self.unknown.append({"event": kind, "data": data})
            return
        # Named only by the SSE `event:` line: the same event again, with its type inside.
        data["type"] = kind
        self._feed(ServerSentEvent(event.event, orjson.dumps(data).decode(), event.id))

    # -- lifecycle ---------------------------------------------------------------------------

    def _snapshot(self, data: JSON) -> JSON | None:
        response = data.get("response")
        if not isinstance(response, dict):
            self._problem(data, "has no response object; event kept")
            self.unknown.append({"event": data.get("type"), "data": data})
            return None
        response_id = response.get("id")
        if self._response_id is None:
            self._response_id = response_id
        elif response_id != self._response_id:
            self._problem(data, f"response id changed from {self._response_id} to {response_id}")
        return response

    def _lifecycle(self, data: JSON) -> None:
        response = self._snapshot(data)
        if response is None:
            return
        first = self._base is None
        self._base = response
        output = response.get("output")
        if not output or not isinstance(output, list):
            return
        if first and not self._items:
            # As the SDK: a first snapshot that already has items starts the output with them.
            for index, item in enumerate(output):
                if isinstance(item, dict):
                    self._items[index] = _Item(item)
            return
        # As the SDK: a later snapshot replaces finished items that it also carries.
        done_at = {_identity(item): i for i, item in self._done_items.items()}
        for item in output:
            if isinstance(item, dict):
                done_index = done_at.get(_identity(item))
                if done_index is not None:
                    self._done_items[done_index] = item

    def _terminal(self, data: JSON) -> None:
        response = self._snapshot(data)
        if response is None:
            return
        self._final = response
        self.done = True
        kind = data.get("type")
        if kind == "response.failed":
            self.errors.append(f"response.failed: {_error_text(response.get('error'))}")
        elif kind == "response.completed" and not response.get("output"):
            unfinished = sorted(set(self._items) - set(self._done_items))
            if unfinished:
                self._problem(
                    data,
                    "has no output and output items "
                    + ", ".join(map(str, unfinished))
                    + " never finished",
                )

    def _error_event(self, data: JSON) -> None:
        # Over a WebSocket the details are nested: {"type": "error", "status", "error": {...}}.
        nested = data.get("error")
        details = nested if isinstance(nested, dict) and "message" not in data else data
        status = data.get("status")
        shown = f"HTTP {status}: " if isinstance(status, int) else ""
        self.errors.append(f"error event: {shown}{_error_text(details)}")
        self.unknown.append({"event": "error", "data": data})

    # -- items -------------------------------------------------------------------------------

    def _item_added(self, data: JSON) -> None:
        self._no_base_yet(data)
        item = data.get("item")
        if item is None:  # the SDK skips an empty added event; its index stays a gap
            return
        if not isinstance(item, dict):
            self._wrong_target(data, "given an item that is not an object")
            return
        index = data.get("output_index")
        if not isinstance(index, int):
            self._problem(data, f"output_index {index!r} is not a number; event kept")
            self.unknown.append({"event": data.get("type"), "data": data})
            return
        if index in self._items:
            self._problem(data, f"output_index {index} was added twice; the later one is kept")
        self._items[index] = _Item(item)

    def _item_done(self, data: JSON) -> None:
        self._no_base_yet(data)
        item = data.get("item")
        index = data.get("output_index")
        if not isinstance(item, dict) or not isinstance(index, int):
            self._problem(data, "has no item object or output_index; event kept")
            self.unknown.append({"event": data.get("type"), "data": data})
            return
        added = self._items.get(index)
        if added is not None and _identity(added.item)[:2] != _identity(item)[:2]:
            before = f"{added.item.get('type')} {added.item.get('id')}"
            self._problem(
                data,
                f"output_index {index} was added as {before} but finished as "
                f"{item.get('type')} {item.get('id')}; the finished item is kept",
            )
        self._done_items[index] = item

    def _progress(self, data: JSON) -> None:
        item_type, status = _PROGRESS_EVENTS[data["type"]]
        item = self._item(data)
        # Only an item of the event's own type that has a status moves on; anything else is
        # left as it came (its output_item.done will carry the truth).
        if (
            item is not None
            and status is not None
            and "status" in item.item
            and item.item.get("type") == item_type
        ):
            item.item["status"] = status

    def _audio(self, data: JSON) -> None:
        if data["type"].endswith(".delta"):
            self.content_started = True

    # -- parts -------------------------------------------------------------------------------

    def _part_added(self, data: JSON) -> None:
        self._add_part(data, self._items_content, "content_index", "without content parts")

    def _part_done(self, data: JSON) -> None:
        self._replace_part(data, self._items_content, "content_index")

    def _summary_part_added(self, data: JSON) -> None:
        self._add_part(data, self._items_summary, "summary_index", "without a summary")

    def _summary_part_done(self, data: JSON) -> None:
        self._replace_part(data, self._items_summary, "summary_index")

    def _add_part(
        self,
        data: JSON,
        parts_of: Callable[[_Item], dict[int, _Part] | None],
        index_key: str,
        lacking: str,
    ) -> None:
        target = self._part_slot(data, parts_of, index_key, lacking)
        if target is not None:
            parts, index, part = target
            parts[index] = _Part(part)

    def _replace_part(
        self, data: JSON, parts_of: Callable[[_Item], dict[int, _Part] | None], index_key: str
    ) -> None:
        """A part's done event carries the whole part; it replaces the streamed one.

        Except logprobs: the API sends `content_part.done` with `logprobs: []` even when the
        deltas carried them, while the finished item keeps them on the part; so an empty list
        here does not erase the streamed ones.
        """
        target = self._part_slot(data, parts_of, index_key, "without such parts")
        if target is None:
            return
        parts, index, part = target
        done = _Part(part)
        streamed = parts.get(index)
        if streamed is not None and streamed.logprobs and not done.logprobs:
            done.logprobs = streamed.logprobs
        parts[index] = done

    def _part_slot(
        self,
        data: JSON,
        parts_of: Callable[[_Item], dict[int, _Part] | None],
        index_key: str,
        lacking: str,
    ) -> tuple[dict[int, _Part], int, JSON] | None:
        """Where a part event's whole `part` goes: its item's parts and its index (None: the
        event does not fit, and `errors` says why)."""
        part = data.get("part")
        item = self._item(data)
        if item is None:
            return None
        parts = parts_of(item)
        if parts is None or not isinstance(part, dict):
            self._wrong_target(data, f"a {item.item.get('type')!r} item, {lacking}")
            return None
        index = self._index(data, index_key)
        return None if index is None else (parts, index, part)

    def _part_text_delta(self, data: JSON) -> None:
        self.content_started = True
        part = self._part(data, self._items_content, _DELTA_PART_TYPE[data["type"]])
        if part is None:
            return
        delta = self._string(data, "delta")
        if delta is not None:
            part.pieces.append(delta)

    def _part_text_done(self, data: JSON) -> None:
        kind = data["type"]
        part = self._part(data, self._items_content, _DELTA_PART_TYPE[kind])
        if part is None:
            return
        text = self._string(data, "refusal" if kind == "response.refusal.done" else "text")
        if text is None:
            return
        part.pieces = [text]
        logprobs = data.get("logprobs")
        if logprobs and isinstance(logprobs, list):  # [] here does not erase the streamed ones
            part.logprobs = list(logprobs)

    def _summary_text_delta(self, data: JSON) -> None:
        self.content_started = True
        part: _Part | None
        try:
            parts: Any = self._items[data["output_index"]].summary  # None: TypeError
            part = parts[data["summary_index"]]
        except (KeyError, TypeError):
            part = None
        delta = data.get("delta")
        if part is None or part.type != "summary_text" or delta.__class__ is not str:
            part = self._part(data, self._items_summary, "summary_text", "summary_index")
            if part is None:
                return
            delta = self._string(data, "delta")
            if delta is None:
                return
        part.pieces.append(delta)

    def _summary_text_done(self, data: JSON) -> None:
        part = self._part(data, self._items_summary, "summary_text", "summary_index")
        if part is None:
            return
        text = self._string(data, "text")
        if text is not None:
            part.pieces = [text]

    def _annotation_added(self, data: JSON) -> None:
        part = self._part(data, self._items_content, "output_text")
        if part is None:
            return
        annotations = part.part.get("annotations")
        if not isinstance(annotations, list):
            annotations = part.part["annotations"] = []
        index = data.get("annotation_index")
        if isinstance(index, int) and 0 <= index < len(annotations):
            annotations[index] = data.get("annotation")
        else:
            annotations.append(data.get("annotation"))

    # -- item fields: arguments, input, code ---------------------------------------------

    # -- results ---------------------------------------------------------------------------

    def result(self) -> JSON | None:
        final = self._final
        if final is not None and final.get("output"):
            return final
        base = final if final is not None else self._base
        if base is None and not self._items and not self._done_items:
            return None
        response = dict(base) if base is not None else {}
        response["output"] = self._output()
        return response

    def _output(self) -> list[JSON]:
        """Finished items as the API sent them, unfinished ones as streamed, by output_index."""
        done = self._done_items
        items = self._items
        return [
            done[i] if i in done else items[i].build() for i in sorted(items.keys() | done.keys())
        ]

    def finish(self) -> None:
        final = self._final
        if not (final is not None and final.get("output")):
            self.errors[:0] = self._gaps
        if self.done:
            return
        unfinished = sorted(set(self._items) - set(self._done_items))
        message = "stream ended before its terminal event"
        if unfinished:
            message += f"; output items {', '.join(map(str, unfinished))} unfinished"
        self.errors.append(message)

    @staticmethod
    def summarize(response: JSON) -> Summary:
        return summary.summarize(response)

    read_request = staticmethod(request.read_request)

    @staticmethod
    def usage(response: JSON) -> Usage:
        """`input_tokens` already counts the cached ones (`input_tokens_details`)."""
        usage = response.get("usage")
        if not isinstance(usage, dict):
            return Usage()
        details_in = usage.get("input_tokens_details")
        details_out = usage.get("output_tokens_details")
        return Usage(
            count(usage.get("input_tokens")),
            count(usage.get("output_tokens")),
            count(details_in.get("cached_tokens")) if isinstance(details_in, dict) else None,
            None,
            count(details_out.get("reasoning_tokens")) if isinstance(details_out, dict) else None,
        )

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        """A failed response is an error; an incomplete one is not (see the class docstring)."""
        if response.get("status") == "failed" or response.get("error"):
            return [f"response failed: {_error_text(response.get('error'))}"]
        return []

    # Every event type but the inlined deltas, to its handler (one table for all instances).
    _HANDLERS: ClassVar[dict[str, Callable[[OpenAIResponses, JSON], None]]] = {
        "response.reasoning_summary_text.delta": _summary_text_delta,
        "response.reasoning_text.delta": _part_text_delta,
        "response.refusal.delta": _part_text_delta,
        "response.output_text.done": _part_text_done,
        "response.refusal.done": _part_text_done,
        "response.reasoning_text.done": _part_text_done,
        "response.reasoning_summary_text.done": _summary_text_done,
        "response.function_call_arguments.done": Addressing._field_done,
        "response.custom_tool_call_input.done": Addressing._field_done,
        "response.mcp_call_arguments.done": Addressing._field_done,
        "response.code_interpreter_call_code.done": Addressing._field_done,
        "response.content_part.added": _part_added,
        "response.content_part.done": _part_done,
        "response.reasoning_summary_part.added": _summary_part_added,
        "response.reasoning_summary_part.done": _summary_part_done,
        "response.output_text.annotation.added": _annotation_added,
        "response.output_item.added": _item_added,
        "response.output_item.done": _item_done,
        "response.created": _lifecycle,
        "response.queued": _lifecycle,
        "response.in_progress": _lifecycle,
        "response.completed": _terminal,
        "response.incomplete": _terminal,
        "response.failed": _terminal,
        "error": _error_event,
        "response.shell_call_command.added": Addressing._shell_command,
        "response.shell_call_command.delta": Addressing._shell_command,
        "response.shell_call_command.done": Addressing._shell_command,
        "response.shell_call_output_content.delta": Addressing._shell_output_delta,
        "response.shell_call_output_content.done": Addressing._shell_output_done,
        **dict.fromkeys(_PROGRESS_EVENTS, _progress),
        **dict.fromkeys(_AUDIO_EVENTS, _audio),
    }
