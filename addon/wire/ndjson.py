"""Incremental NDJSON framing (`application/x-ndjson`): one event per line, bytes in, no I/O.

Ollama streams one JSON object per line. Each line becomes `Event("message", line)`; any split
of the same bytes into chunks gives the same events. Lines end in LF or CRLF (the CR is dropped
with the surrounding white space); blank lines are skipped.

The last line needs no line end: JSON text is whole or it is not, so a last line that parses is
an event like the others, with a warning; one that does not parse was cut by the end of the
body and is reported in `errors`, not emitted (its bytes are what the flow keeps). Only that one
line is ever parsed here; every other line goes to the accumulator unparsed.

Bytes are split at the last line end of a chunk and the finished part is cut into lines and
decoded by C code: with no "\r" in it, decoded once and cut at "\n" (then checked to have
nothing to strip); otherwise `bytes.splitlines`, `bytes.strip`, `bytes.decode` over `map`. A
long line over many chunks is joined once, when its line end arrives.
"""

from __future__ import annotations

from itertools import repeat
from operator import methodcaller
from typing import Final

import orjson

from addon.wire.events import Event

_new_tuple = tuple.__new__
_strip: Final = methodcaller("strip")
_strip_text: Final = str.strip
_NAME: Final = "message"


class NDJSONDecoder:
    """Feed chunks with `feed`, then call `close` once at the end of the body (a `Framing`)."""

    def __init__(self) -> None:
        self.bytes_seen = 0
        self.lines = 0
        """Events emitted so far."""
        self._pending: list[bytes] = []  # bytes of a line not yet ended, joined once it ends
        self._errors: list[str] = []
        self._warnings: list[str] = []
        self._closed = False

    @property
    def errors(self) -> list[str]:
        return list(self._errors)

    @property
    def warnings(self) -> list[str]:
        return list(self._warnings)

    def feed(self, chunk: bytes) -> list[Event]:
        """Read one chunk; returns the lines it completed."""
        if not chunk or self._closed:
            return []
        offset = self.bytes_seen
        self.bytes_seen += len(chunk)
        end = chunk.rfind(b"\n")
        pending = self._pending
        if end < 0:
            pending.append(chunk)
            return []
        if pending:
            held = sum(map(len, pending))
            pending.append(chunk[: end + 1])
            done = b"".join(pending)
            pending.clear()
            offset -= held
        else:
            done = chunk[: end + 1]
        if end + 1 < len(chunk):
            pending.append(chunk[end + 1 :])
        return self._events(done, offset)

    def close(self) -> list[Event]:
        """End of body: the last line, if it had no line end and is whole JSON."""
        if self._closed:
            return []
        self._closed = True
        if not self._pending:
            return []
        rest = b"".join(self._pending).strip()
        self._pending.clear()
        if not rest:
            return []
        try:
            orjson.loads(rest)
        except orjson.JSONDecodeError:
            self._errors.append(
                f"the body was cut inside its last line ({len(rest)} bytes that are not "
                f"whole JSON: {rest[:60]!r}...); the {self.lines} line(s) before it are kept"
            )
            return []
        self._warnings.append("the last line had no line end after it")
        return self._events(rest, self.bytes_seen - len(rest))

    def _events(self, done: bytes, offset: int) -> list[Event]:
        """Events for whole lines (`done` ends with a line end or is one line)."""
        if b"\r" not in done:
            # The common case, in fewer steps per line: decoded once, cut at "\n" (what
            # `splitlines` cuts at when there is no "\r"), and checked to have nothing to strip
            # (`str.strip` returns the same object then; it strips all that `bytes.strip` does).
            try:
                texts = done.decode().split("\n")
            except UnicodeDecodeError:
                pass
            else:
                if not texts[-1]:
                    texts.pop()
                if list(map(_strip_text, texts)) == texts:
                    texts = list(filter(None, texts))
                    self.lines += len(texts)
                    fields = zip(repeat(_NAME), texts, repeat(None), repeat(None), strict=False)
                    return list(map(_new_tuple, repeat(Event), fields))
        lines = list(filter(None, map(_strip, done.splitlines())))
        try:
            texts = list(map(bytes.decode, lines))
        except UnicodeDecodeError:
            texts = self._decode_each(lines, offset, done)
        self.lines += len(texts)
        fields = zip(repeat(_NAME), texts, repeat(None), repeat(None), strict=False)
        return list(map(_new_tuple, repeat(Event), fields))

    def _decode_each(self, lines: list[bytes], offset: int, done: bytes) -> list[str]:
        texts = []
        for line in lines:
            try:
                texts.append(line.decode())
            except UnicodeDecodeError as exc:
                at = offset + done.find(line) + exc.start
                self._errors.append(f"invalid UTF-8 at byte {at}; decoded as U+FFFD")
                texts.append(line.decode("utf-8", "replace"))
        return texts
