"""An incremental Server-Sent Events decoder: bytes in, events out, no I/O.

Follows the WHATWG event-stream rules (UTF-8, LF/CRLF/CR line ends, a leading BOM, comments,
`field:value` with an optional space, `data` lines joined with "\\n", `event`, `id`, `retry`).
Any split of the same bytes into chunks gives the same events. Where the spec silently drops
something, this decoder keeps it and says so, because a debugging tool must not lose data:
an event with an `event:` field but no `data:` is still reported, and a final event with no
blank line after it is reported with `unterminated` set.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

_BOM = "\ufeff"


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event. `event` is "message" when the stream named none."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed chunks with `feed`, then call `close` once at the end of the stream."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self._started = False
        self._skip_lf = False  # the previous chunk ended in "\r": a following "\n" is its pair
        self._partial: list[str] = []  # pieces of a line not yet ended, joined once it ends
        self._event: str | None = None
        self._data: list[str] = []
        self._has_fields = False
        self._last_id: str | None = None
        self._retry: int | None = None
        self.invalid_utf8_at: int | None = None
        """Byte offset of the first byte that was not valid UTF-8 (decoded as U+FFFD)."""
        self.unterminated = False
        """True when the stream ended inside an event (no blank line after it)."""
        self.bytes_seen = 0

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk; returns the events it completed."""
        text = self._decode(chunk, final=False)
        self.bytes_seen += len(chunk)
        if not text:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if "\r" in text:
            if text[-1] == "\r":
                self._skip_lf = True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            if text:
                self._partial.append(text)
            return []
        lines = text.split("\n")
        if self._partial:
            self._partial.append(lines[0])
            lines[0] = "".join(self._partial)
            self._partial.clear()
        last = lines.pop()
        if last:
            self._partial.append(last)
        return self._lines(lines)

    def close(self) -> list[ServerSentEvent]:
        """End of stream: flush a last line and a last event that had no blank line after it."""
        text = self._decode(b"", final=True)
        if text:  # only replacement characters for a cut UTF-8 sequence
            self._partial.append(text)
        events: list[ServerSentEvent] = []
        if self._partial:
            line = "".join(self._partial)
            self._partial.clear()
            events.extend(self._lines([line]))
        if self._has_fields:
            self.unterminated = True
            events.extend(self._lines([""]))
        return events

    def _decode(self, chunk: bytes, final: bool) -> str:
        try:
            text = self._utf8.decode(chunk, final)
        except UnicodeDecodeError as exc:
            # Keep going with replacement characters, and remember where it first went wrong.
            pending: bytes = getattr(self._utf8, "buffer", b"")
            self.invalid_utf8_at = self.bytes_seen - len(pending) + exc.start
            self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
            text = self._utf8.decode(pending + chunk, final)
        if not self._started and text:
            self._started = True
            if text[0] == _BOM:
                text = text[1:]
        return text

    def _lines(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if not line:
                if self._has_fields:
                    events.append(
                        ServerSentEvent(
                            self._event or "message",
                            "\n".join(data),
                            self._last_id,
                            self._retry,
                        )
                    )
                    self._event = None
                    data.clear()
                    self._retry = None
                    self._has_fields = False
                continue
            if line[0] == ":":
                continue
            field, _, value = line.partition(":")
            if value and value[0] == " ":
                value = value[1:]
            if field == "data":
                data.append(value)
                self._has_fields = True
            elif field == "event":
                self._event = value
                self._has_fields = True
            elif field == "id":
                if "\0" not in value:
                    self._last_id = value
            elif field == "retry" and value.isascii() and value.isdigit():
                self._retry = int(value)
            # Other field names are ignored, as the spec says.
        return events
