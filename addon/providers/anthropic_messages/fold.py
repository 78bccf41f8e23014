"""The Messages fold: `message_start` … `message_stop` into the non-streaming Message.

Mirrors `accumulate_event` of anthropic-sdk-python (`lib/streaming/_beta_messages.py`, which
knows every block and delta of the plain helper plus `compaction`, `fallback` and
`mcp_tool_use`), with these decisions where the SDK raises, drops data or cannot know:

- Blocks are addressed by the event's `index`. A start at an unexpected index is still appended
  (as the SDK does) and the index keeps pointing at it; the mismatch is written to `errors`.
- Tool input: `input_json_delta` fragments of every block that carries `input` (not only the
  SDK's three tool-use classes) are joined and parsed once, when the block stops or the result
  is read. Parsing follows the SDK's default (`jiter` partial mode, through pydantic-core's
  `from_json`, the same parser): empty JSON leaves `input` as `content_block_start` sent it;
  incomplete JSON keeps the values that are complete and drops a trailing unfinished string or
  number; JSON that does not parse at all (the SDK raises) leaves `input` as it was. Both of the
  latter are written to `errors` with the raw JSON text, so nothing is lost. The SDK's
  `fine-grained-tool-streaming` mode (trailing strings kept) depends on a request header an
  accumulator never sees, so it is not followed.
- A delta that does not fit its block (or whose type is unknown) is not applied: it goes to
  `unknown` and `errors`, and the block stays as it was. Unknown event types go to `unknown` only.
- `message_delta`: `stop_reason`, `stop_sequence`, `stop_details` are overwritten (missing means
  null, as in the SDK); every other `delta` field (`container`, future ones) and the event's
  `context_management` / `input_transformations` only when not null. Usage counts overwrite;
  any other usage field only when present and not null.
"""

from __future__ import annotations

from typing import Any, TypeGuard

import orjson

from addon.providers.anthropic_messages import request, summary
from addon.providers.anthropic_messages.block import (
    _EVENT_LEVEL_FIELDS,
    _STOP_FIELDS,
    KNOWN_DELTA_TYPES,
    _Block,
)
from addon.providers.base import JSON, Accumulator, Summary, Usage, count
from addon.wire.sse import ServerSentEvent

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_USAGE_KEYS = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
)


class AnthropicMessages(Accumulator):
    """Rebuilds the Message object from a Messages API stream (`/v1/messages`)."""

    provider = "anthropic-messages"

    def __init__(self) -> None:
        super().__init__()
        self._message: JSON | None = None
        self._open: dict[int, _Block] = {}
        self._stopped: dict[int, _Block] = {}
        # Events are numbered for error messages without a counter on the fast path: a delta
        # taken there is counted by the fragment it left in its block.
        self._other_events = 0
        self._fragments_joined = 0
        self._reported_early = False

    def _feed(self, event: ServerSentEvent) -> None:
        try:
            data = _loads(event.data)
            kind = data["type"]
        except (_JSONDecodeError, TypeError, KeyError):
            self._other_events += 1
            self._on_untyped(event)
            return
        if kind == "content_block_delta":
            # Fast path: one more fragment of the block's own growing delta type.
            try:
                delta = data["delta"]
                block = self._open[data["index"]]
                if delta["type"] == block.fast_type:
                    block.parts.append(delta[block.delta_key])
                    return
            except (KeyError, TypeError):
                pass
            self._other_events += 1
            self._on_other_delta(event, data)
        else:
            self._other_events += 1
            self._dispatch(event, kind, data)

    @property
    def _event_number(self) -> int:
        pending = sum(len(block.parts) for block in self._open.values())
        return self._other_events + self._fragments_joined + pending

    def _join(self, block: _Block) -> None:
        self._fragments_joined += len(block.parts)
        block.materialize()

    def _dispatch(self, event: ServerSentEvent, kind: Any, data: Any) -> None:
        if kind == "content_block_start":
            self._on_block_start(event, data)
        elif kind == "content_block_stop":
            self._on_block_stop(event, data)
        elif kind == "ping":
            pass
        elif kind == "message_delta":
            self._on_message_delta(event, data)
        elif kind == "message_start":
            self._on_message_start(event, data)
        elif kind == "message_stop":
            if self._message is None:
                self._early(event, data)
            self.done = True
        elif kind == "error" or event.event == "error":
            self._on_error(event, data)
        elif kind == "content_block_delta":
            self._on_other_delta(event, data)
        else:  # new event types are announced as harmless; keep them for whoever reads
            self.unknown.append({"event": event.event, "data": data})

    # Problems -------------------------------------------------------------------------------

    def _where(self, event: ServerSentEvent) -> str:
        return f"{event.event} #{self._event_number}"

    def _reject(self, event: ServerSentEvent, data: Any, why: str) -> None:
        """Keep an event that could not be applied, and say why."""
        self.errors.append(f"{self._where(event)}: {why}; kept in unknown events")
        self.unknown.append({"event": event.event, "data": data})

    def _early(self, event: ServerSentEvent, data: Any) -> None:
        # Reported once: a stream missing its start would otherwise give one error per event.
        if self._reported_early:
            self.unknown.append({"event": event.event, "data": data})
        else:
            self._reported_early = True
            self._reject(event, data, "arrived before message_start (so do any later such events)")

    def _on_untyped(self, event: ServerSentEvent) -> None:
        """Data that is not JSON, or JSON without a `type`: fall back to the event name."""
        raw = event.data
        try:
            data = _loads(raw)
        except _JSONDecodeError as exc:
            if event.event == "ping" and not raw.strip():
                return
            if raw == "[DONE]":
                # OpenAI-style end marker some proxies (ccproxy) append; not an Anthropic event.
                self.unknown.append({"event": event.event, "data": raw})
                return
            if event.event == "error":
                self.errors.append(f"error event: {raw}")
                self.unknown.append({"event": event.event, "data": raw})
                return
            self._reject(event, raw, f"data is not JSON ({exc})")
            return
        if isinstance(data, dict):
            self._dispatch(event, event.event, data)
        else:
            self._reject(event, data, "data is not a JSON object")

    def _on_error(self, event: ServerSentEvent, data: Any) -> None:
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            described = [str(p) for p in (error.get("type"), error.get("message")) if p]
            text = ": ".join(described) or orjson.dumps(error).decode()
        else:
            text = orjson.dumps(data).decode()
        self.errors.append(f"error event: {text}")
        # A documented event, not an unknown one: kept whole beside the Message.
        self.extras.setdefault("error_events", []).append(data)

    # Events ---------------------------------------------------------------------------------

    def _on_message_start(self, event: ServerSentEvent, data: JSON) -> None:
        if self._message is not None:
            self._reject(event, data, "a second message_start was ignored")
            return
        message = data.get("message")
        if not isinstance(message, dict):
            self._reject(event, data, "message_start without a message object")
            return
        if not isinstance(message.get("content"), list):
            message["content"] = []
        self._message = message

    def _on_block_start(self, event: ServerSentEvent, data: JSON) -> None:
        message = self._message
        if message is None:
            self._early(event, data)
            return
        index = data.get("index")
        content_block = data.get("content_block")
        if not isinstance(content_block, dict):
            self._reject(event, data, "content_block_start without a content_block object")
            return
        content: list[Any] = message["content"]
        position = len(content)
        content.append(content_block)
        block = _Block(content_block)
        if not _is_index(index):
            self.errors.append(
                f"{self._where(event)}: index {index!r} is not an integer; the block is "
                f"appended as block {position} but later events cannot address it"
            )
        else:
            replaced = self._open.pop(index, None)
            if replaced is not None:
                self._join(replaced)  # it never stops now: keep what it got
            if replaced is not None or index in self._stopped:
                self.errors.append(
                    f"{self._where(event)}: index {index} was already started; the new "
                    f"block is appended as block {position} and the index now points to it"
                )
            elif index != position:
                self.errors.append(
                    f"{self._where(event)}: index {index} out of order ({position} blocks "
                    f"so far); appended as block {position}"
                )
            self._stopped.pop(index, None)
            self._open[index] = block
        if block.type == "fallback":
            # The final hop's fallback block names the model that answered (SDK relabels too).
            target = content_block.get("to")
            if isinstance(target, dict):
                message["model"] = target.get("model")
            else:
                self.errors.append(f"{self._where(event)}: fallback block without a `to` model")

    def _on_other_delta(self, event: ServerSentEvent, data: Any) -> None:
        """Every delta the fast path did not take: rarer types, mismatches and problems."""
        if self._message is None:
            self._early(event, data)
            return
        if not isinstance(data, dict):
            self._reject(event, data, "data is not a JSON object")
            return
        index = data.get("index")
        delta = data.get("delta")
        if not isinstance(delta, dict):
            self._reject(event, data, "content_block_delta without a delta object")
            return
        block = self._open.get(index) if _is_index(index) else None
        late = False
        if block is None:
            block = self._stopped.get(index) if _is_index(index) else None
            if block is None:
                self._reject(event, data, f"index {index!r} was never started")
                return
            late = True
        delta_type = delta.get("type")
        what = f"{delta_type!r} for block {index} ({block.type})"
        applied = True
        if delta_type == block.delta_type:
            fragment = delta.get(block.delta_key)
            if isinstance(fragment, str):
                block.parts.append(fragment)
                self._other_events -= 1  # counted by its fragment from now on
                self.content_started = True
                block.fast_type = delta_type
            else:
                self._reject(event, data, f"{what} has no text in {block.delta_key!r}")
                applied = False
        elif delta_type == "citations_delta" and block.type == "text":
            citations = block.block.get("citations")
            if isinstance(citations, list) and citations:
                citations.append(delta.get("citation"))
            else:
                block.block["citations"] = [delta.get("citation")]
        elif delta_type == "signature_delta" and block.type == "thinking":
            block.block["signature"] = delta.get("signature")
        elif delta_type == "compaction_delta" and block.type == "compaction":
            block.block["content"] = delta.get("content")
            block.block["encrypted_content"] = delta.get("encrypted_content")
            self.content_started = True
        elif delta_type in KNOWN_DELTA_TYPES:
            self._reject(event, data, f"{what} does not apply to that block type")
            applied = False
        else:
            self._reject(event, data, f"{what}: unknown delta type, not applied")
            applied = False
        if late and applied:
            # Applied as the SDK applies it, but the API promised no more deltas for the block.
            self._join(block)
            self.errors.append(f"{self._where(event)}: {what} arrived after its content_block_stop")

    def _on_block_stop(self, event: ServerSentEvent, data: JSON) -> None:
        if self._message is None:
            self._early(event, data)
            return
        index = data.get("index")
        if not _is_index(index) or (block := self._open.pop(index, None)) is None:
            if _is_index(index) and index in self._stopped:
                self._reject(event, data, f"index {index} was already stopped")
            else:
                self._reject(event, data, f"index {index!r} was never started")
            return
        self._stopped[index] = block
        self._join(block)
        if block.problem:
            where = self._where(event)
            self.errors.append(f"{where}: block {index} ({block.type}): {block.problem}")

    def _on_message_delta(self, event: ServerSentEvent, data: JSON) -> None:
        message = self._message
        if message is None:
            self._early(event, data)
            return
        delta = data.get("delta")
        if isinstance(delta, dict):
            for key in _STOP_FIELDS:
                message[key] = delta.get(key)
            for key, value in delta.items():
                if value is not None and key not in _STOP_FIELDS:
                    message[key] = value
        else:
            self.errors.append(f"{self._where(event)}: message_delta without a delta object")
        for key in _EVENT_LEVEL_FIELDS:
            value = data.get(key)
            if value is not None:
                message[key] = value
        usage = data.get("usage")
        if isinstance(usage, dict):
            # Counts here are cumulative totals: they overwrite. Optional ones are left out
            # when they do not apply, and then the message_start value must survive.
            total = message.get("usage")
            if not isinstance(total, dict):
                total = message["usage"] = {}
            for key, value in usage.items():
                if value is not None or key == "output_tokens":
                    total[key] = value

    # Results --------------------------------------------------------------------------------

    def result(self) -> JSON | None:
        message = self._message
        if message is None:
            return None
        for block in self._open.values():
            self._join(block)
        # Fresh containers, so a snapshot taken mid-stream does not change under its reader.
        response = dict(message)
        usage = message.get("usage")
        if isinstance(usage, dict):
            response["usage"] = dict(usage)
        response["content"] = [_copy_block(block) for block in message["content"]]
        return response

    def finish(self) -> None:
        for index, block in self._open.items():
            self._join(block)
            problem = f"; {block.problem}" if block.problem else ""
            self.errors.append(
                f"end of stream: block {index} ({block.type}) never got its "
                f"content_block_stop{problem}"
            )
        if self._message is None and self._event_number:
            self.errors.append("end of stream: no message_start arrived")
        super().finish()

    @staticmethod
    def summarize(response: JSON) -> Summary:
        return summary.summarize(response)

    read_request = staticmethod(request.read_request)

    @staticmethod
    def usage(response: JSON) -> Usage:
        """Anthropic counts cache reads and writes apart from `input_tokens`: all are input."""
        usage = response.get("usage")
        if not isinstance(usage, dict):
            return Usage()
        uncached, written, read, output = map(count, map(usage.get, _USAGE_KEYS))
        total = None if uncached is None else uncached + (written or 0) + (read or 0)
        return Usage(total, output, read, written)

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        if isinstance(response, dict) and response.get("type") == "error":
            return [f"error response: {summary.error_text(response)}"]
        return []


def _is_index(value: Any) -> TypeGuard[int]:
    return type(value) is int


def _copy_block(block: Any) -> Any:
    if not isinstance(block, dict):
        return block
    copy = dict(block)
    citations = copy.get("citations")
    if isinstance(citations, list):
        copy["citations"] = list(citations)
    return copy
