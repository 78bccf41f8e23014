"""Bedrock InvokeModel's stream framing: AWS event-stream `chunk` frames unwrapped.

Each `chunk` frame carries `{"bytes": base64(JSON), "p": padding}`; each becomes one event
whose data is the inner JSON text, named by the inner object's leading `type` when it has one
(so an Anthropic stream reads exactly like its SSE events) and "chunk" otherwise. Exception
frames pass through as events named by their exception type, already written to `errors`.

Speed: the frames come from `EventStreamDecoder.collect`; the usual payload is read with a
`find`, a lookup of the text after the base64 among the tails seen before (Bedrock's padding is
a prefix of one alphabet) and a lookup of the inner `{"type":"…"` start seen before.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

import orjson

from addon.wire import Event
from addon.wire.eventstream import EventStreamDecoder

_loads = orjson.loads
_a2b_base64 = binascii.a2b_base64
_new_tuple = tuple.__new__
_utf8 = bytes.decode
_TAILS_SIZE = 1024

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
        self._types: dict[bytes, str] = {}  # `{"type":"…"` starts of inner JSON -> the name
        self._type_size = 0
        self._tails: set[bytes] = set()  # what followed the base64 when it was padding only
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
        base, names, payloads, starts = frames.collect(chunk)
        events: list[Event] = []
        append = events.append
        tails = self._tails
        types = self._types
        a2b = _a2b_base64
        type_size = self._type_size
        for name, payload, start in zip(names, payloads, starts, strict=True):
            if name != "chunk":
                if isinstance(name, str):
                    append(Event(name, frames.text(payload, base + start)))
                else:
                    append(frames.event_for(name, payload, base + start))
                continue
            # The usual payload, {"bytes":"…"} or {"bytes":"…","p":"…"}, is read in place.
            quote = payload.find(b'"', _BYTES_AT)
            if (
                quote > 0
                and payload.startswith(_BYTES_PREFIX)
                and (payload[quote:] in tails or self._plain_tail(payload[quote:]))
            ):
                encoded: Any = payload[_BYTES_AT:quote]
            else:
                encoded = self._bytes_field(payload, base + start)
                if encoded is None:
                    append(Event("chunk", frames.text(payload, base + start)))
                    continue
            try:
                raw = a2b(encoded, strict_mode=True)
            except (binascii.Error, ValueError) as exc:
                at = base + start
                self.errors.append(f"chunk at byte {at}: `bytes` is not base64 ({exc}); kept")
                append(Event("chunk", frames.text(payload, at)))
                continue
            inner = types.get(raw[:type_size])
            if inner is None:
                inner = self._inner_name(raw)
                type_size = self._type_size
            try:
                text = _utf8(raw)
            except UnicodeDecodeError:
                text = frames.text(raw, base + start)
            append(_new_tuple(Event, (inner, text, None, None)))
        return events

    def _plain_tail(self, tail: bytes) -> bool:
        """Whether the text after the base64 is padding only (remembered: Bedrock's `p` is a
        prefix of one alphabet, so a stream has few of them)."""
        if _CHUNK_TAIL.fullmatch(tail) is None:
            return False
        if len(self._tails) >= _TAILS_SIZE:
            self._tails.clear()
        self._tails.add(tail)
        return True

    def _inner_name(self, raw: bytes) -> str:
        """The event name of an inner JSON text that `types` did not know.

        The name is its leading `type` when it has one, and "chunk" otherwise; a plain
        `{"type":"…"` start is remembered with its closing quote, so the same start next time
        is one lookup (`_type_size` is the length of the start last remembered).
        """
        name = "chunk"
        if raw.startswith(_TYPE_PREFIX):
            end = raw.find(b'"', _TYPE_AT)
            name = self._names.get(raw[_TYPE_AT:end]) or self._name(raw)
            kind = raw[_TYPE_AT:end]
            if end > _TYPE_AT and b"\\" not in kind:
                if len(self._types) >= 256:
                    self._types.clear()
                self._types[raw[: end + 1]] = name
                self._type_size = end + 1
        elif not raw.startswith(b'{"') or raw.startswith(b'{"type"'):
            name = self._name(raw)  # spaces in the JSON: the regex decides
        return name

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
