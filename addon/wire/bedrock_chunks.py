"""Bedrock InvokeModel's stream framing: AWS event-stream `chunk` frames unwrapped.

Each `chunk` frame carries `{"bytes": base64(JSON), "p": padding}`; each becomes one event
whose data is the inner JSON text, named by the inner object's leading `type` when it has one
(so an Anthropic stream reads exactly like its SSE events) and "chunk" otherwise. Exception
frames pass through as events named by their exception type, already written to `errors`.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

import orjson

from addon.wire import Event
from addon.wire.eventstream import EVENT, EventStreamDecoder

_loads = orjson.loads
_a2b_base64 = binascii.a2b_base64
_new_tuple = tuple.__new__

METRICS_KEY = "amazon-bedrock-invocationMetrics"
_BEDROCK_PREFIX = "amazon-bedrock-"

_BYTES_PREFIX = b'{"bytes":"'
_BYTES_AT = len(_BYTES_PREFIX)
_CHUNK_TAIL = re.compile(rb'"(?:,"p":"[^"\\]*")?\}')
"""What may follow the base64 text in a `chunk` payload for the fast path: padding only."""
_TYPE_PREFIX = b'{"type":"'
_TYPE_AT = len(_TYPE_PREFIX)
_LEADING_TYPE = re.compile(rb'\{\s*"type"\s*:\s*"([^"\\]+)"')

ANTHROPIC_EVENTS = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    }
)
CONVERSE_EVENTS = frozenset(
    {
        "messageStart",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    }
)


class InvokeStreamDecoder:
    """A framing: AWS event-stream frames in, the inner JSON of each `chunk` out as an event."""

    def __init__(self) -> None:
        self._frames = EventStreamDecoder()
        self._names: dict[bytes, str] = {}
        self._extra_keys_noted = False

    @property
    def errors(self) -> list[str]:
        return self._frames.errors

    @property
    def warnings(self) -> list[str]:
        return self._frames.warnings

    @property
    def bytes_seen(self) -> int:
        return self._frames.bytes_seen

    @property
    def frames(self) -> int:
        return self._frames.frames

    def feed(self, chunk: bytes) -> list[Event]:
        frames = self._frames
        data, found = frames.scan(chunk)
        events: list[Event] = []
        append = events.append
        view = memoryview(data)
        names = self._names
        for kind, start, stop, at in found:
            if kind.name != "chunk" or kind.kind != EVENT:
                append(frames.event_for(kind, view[start:stop], at))
                continue
            # The usual payload, {"bytes":"…"} or {"bytes":"…","p":"…"}, is read in place.
            quote = data.find(b'"', start + _BYTES_AT, stop)
            if data.startswith(_BYTES_PREFIX, start) and _CHUNK_TAIL.fullmatch(data, quote, stop):
                encoded: Any = view[start + _BYTES_AT : quote]
            else:
                encoded = self._bytes_field(data[start:stop], at)
                if encoded is None:
                    append(Event("chunk", frames.text(view[start:stop], at)))
                    continue
            try:
                raw = _a2b_base64(encoded, strict_mode=True)
            except (binascii.Error, ValueError) as exc:
                self.errors.append(f"chunk at byte {at}: `bytes` is not base64 ({exc}); kept")
                append(Event("chunk", frames.text(view[start:stop], at)))
                continue
            name = "chunk"
            if raw.startswith(_TYPE_PREFIX):
                name = names.get(raw[_TYPE_AT : raw.find(b'"', _TYPE_AT)]) or self._name(raw)
            elif not raw.startswith(b'{"') or raw.startswith(b'{"type"'):
                name = self._name(raw)  # spaces in the JSON: the regex decides
            try:
                text = str(raw, "utf-8")
            except UnicodeDecodeError:
                text = frames.text(raw, at)
            append(_new_tuple(Event, (name, text, None, None)))
        return events

    def close(self) -> list[Event]:
        return self._frames.close()

    def _bytes_field(self, payload: bytes, at: int) -> Any:
        """`bytes` of a chunk payload the fast path did not take (other layout, other keys)."""
        try:
            outer = _loads(payload)
        except orjson.JSONDecodeError as exc:
            self.errors.append(f"chunk at byte {at}: payload is not JSON ({exc}); kept as sent")
            return None
        encoded = outer.get("bytes") if isinstance(outer, dict) else None
        if not isinstance(encoded, str):
            self.errors.append(f"chunk at byte {at}: payload has no `bytes` text; kept as sent")
            return None
        others = sorted(set(outer) - {"bytes", "p"})
        if others and not self._extra_keys_noted:
            self._extra_keys_noted = True
            self.warnings.append(f"chunk at byte {at}: keys beside `bytes` were left out: {others}")
        return encoded

    def _name(self, raw: bytes) -> str:
        """The inner object's leading `type` (remembered), or "chunk"."""
        match = _LEADING_TYPE.match(raw)
        if match is None:
            return "chunk"
        name = match.group(1).decode("utf-8", "replace")
        if raw.startswith(_TYPE_PREFIX) and len(self._names) < 256:
            self._names[match.group(1)] = name
        return name


# Family folds ---------------------------------------------------------------------------------
