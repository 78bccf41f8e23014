"""An incremental Server-Sent Events decoder: bytes in, events out, no I/O.

Follows the WHATWG event-stream rules (UTF-8, LF/CRLF/CR line ends, a leading BOM, comments,
`field:value` with an optional space, `data` lines joined with "\\n", `event`, `id`, `retry`).
Any split of the same bytes into chunks gives the same events. Where the spec silently drops
something, this decoder keeps it and says so, because a debugging tool must not lose data:
an event with an `event:` field but no `data:` is still reported, and a final event with no
blank line after it is reported with `unterminated` set.

It runs on every chunk of every answer, so the common case is made cheap: bytes are split at
the last blank line of a chunk, and when every line of the finished part has one of the shapes
LLM APIs send, all its events are checked and built by C code (see `_uniform`); only other
chunks go line by line. UTF-8 is checked by decoding the event fields strictly, with no pass
of its own (see `_found_invalid`).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import itemgetter, methodcaller

from addon.wire.events import Event

_BOM = b"\xef\xbb\xbf"


ServerSentEvent = Event
"""SSE's name for the shared event tuple (`event` is "message" when the stream named none)."""

_new_tuple = tuple.__new__
_UTF8: type[codecs.BufferedIncrementalDecoder] = codecs.getincrementaldecoder("utf-8")  # type: ignore[assignment]
_startswith = bytes.startswith
_after_data = itemgetter(slice(len(b"data: "), None))
_between_data_cr = itemgetter(slice(len(b"data: "), -1))  # without the "\r" of the line end
_endswith = bytes.endswith
_FEW_LINES = 32  # up to about ten events: a plain loop costs less than building the C pipeline
_DECODERS: dict[str, Callable[[bytes], str]] = {
    "strict": bytes.decode,
    "replace": methodcaller("decode", "utf-8", "replace"),
}


def _only_crlf(chunk: bytes, after_cr: bool) -> bool:
    """Whether every "\r" of `chunk` is followed by "\n" and every "\n" follows a "\r" (a
    last "\r" pairs with the next chunk, a first "\n" with a "\r" before, if `after_cr`)."""
    pairs = chunk.count(b"\r\n")
    starts_lf = chunk[0] == 10
    return (
        starts_lf == after_cr
        and chunk.count(b"\r") == pairs + (chunk[-1] == 13)
        and chunk.count(b"\n") == pairs + starts_lf
    )


class SSEDecoder:
    """Feed chunks with `feed`, then call `close` once at the end of the stream."""

    def __init__(self) -> None:
        self._utf8: codecs.BufferedIncrementalDecoder | None = None  # made when first needed
        self._errors = "strict"  # "replace" once invalid UTF-8 was seen, as browsers do
        self._lazy_utf8 = True  # see `_found_invalid`
        self._checked_to = 0  # stream offset of the first byte of `_pending` (lazy mode)
        self._started = False
        self._skip_lf = False  # the previous chunk ended in "\r": a following "\n" is its pair
        self._pending: list[bytes] = []  # bytes of an event not yet ended, joined once it ends
        self._pending_ends_lf = False  # the pending bytes end in "\n" (half an event end)
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
        self._closed = False
        self._events_seen = 0
        self._raw_crlf: bool | None = None  # see `_feed_crlf`; None until the first "\r"
        self._tail = b""  # the last bytes of `_pending` (up to 3), while `_raw_crlf`

    @property
    def errors(self) -> Sequence[str]:
        errors: tuple[str, ...] = ()
        if self.invalid_utf8_at is not None:
            errors += (f"invalid UTF-8 at byte {self.invalid_utf8_at}; decoded as U+FFFD",)
        if self._closed and not self._events_seen and self.bytes_seen:
            errors += ("no Server-Sent Events found in the body",)
        return errors

    @property
    def warnings(self) -> Sequence[str]:
        return ("the last event had no blank line after it",) if self.unterminated else ()

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk; returns the events it completed."""
        if not chunk:
            return []
        chunk_at = self.bytes_seen
        self.bytes_seen += len(chunk)
        if not self._lazy_utf8:
            self._check_utf8(chunk, chunk_at, final=False)
        if not self._started:
            chunk = self._drop_bom(chunk)
            if not chunk:
                return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 10:  # "\n"
                chunk = chunk[1:]
                if not chunk:
                    return []
        if b"\r" in chunk or self._raw_crlf:
            if self._raw_crlf is not False:
                events = self._feed_crlf(chunk)
                if events is not None:
                    return events
                if self._pending:  # back to rewriting line ends, from the pending bytes on
                    chunk = b"".join(self._pending) + chunk
                    self._pending.clear()
                if b"\r" not in chunk:
                    return self._feed_lf(chunk)
            if self._lazy_utf8:
                self._stop_lazy_utf8(chunk)
            if chunk[-1] == 13:  # "\r"
                self._skip_lf = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return self._feed_lf(chunk)

    def _feed_lf(self, chunk: bytes) -> list[ServerSentEvent]:
        """A chunk whose line ends are all "\n" (rewritten so, or sent so)."""
        pending = self._pending
        # Events end at a blank line, "\n\n" once line ends are normalised. Until one arrives,
        # bytes are only kept (a huge event in many chunks is joined once, not per chunk).
        if b"\n\n" not in chunk and not (self._pending_ends_lf and chunk[0] == 10):
            pending.append(chunk)
            self._pending_ends_lf = chunk[-1] == 10
            return []
        if pending:
            pending.append(chunk)
            chunk = b"".join(pending)
            pending.clear()
        end = chunk.rfind(b"\n\n")
        rest = chunk[end + 2 :]
        if rest:
            pending.append(rest)
            self._pending_ends_lf = rest[-1] == 10
        else:
            self._pending_ends_lf = False
        # Whole events only, without the last blank line. A UTF-8 sequence never contains
        # a "\n" byte, so these bytes hold no cut sequence.
        done = chunk[:end]
        try:
            events = self._events(done)
        except UnicodeDecodeError:  # only while checking lazily: find where, then go on
            self._found_invalid(done)
            events = self._events(done)
        self._checked_to += end + 2
        self._events_seen += len(events)
        return events

    # Google sends every line end as CRLF. Rewriting each chunk to LF costs two passes that
    # copy it, and once line ends are rewritten UTF-8 must be checked in a pass of its own.
    # While every "\r" of the stream is followed by "\n" and every "\n" follows a "\r", the
    # bytes are read as they are instead: events end at "\r\n\r\n", `_uniform` splits lines
    # at "\r\n", and the offsets stay the stream's (UTF-8 is still checked lazily). The first
    # chunk that breaks this hands the pending bytes and itself to the rewriting path.

    def _feed_crlf(self, chunk: bytes) -> list[ServerSentEvent] | None:
        """A chunk of a stream read with CRLF line ends; None if the stream is not (any more),
        with nothing of this chunk taken (`_pending` is as it was)."""
        pending = self._pending
        if self._raw_crlf is None:
            # Only from a clean start: nothing pending holds a line end (LF lines came first).
            if self._skip_lf or any(b"\n" in p for p in pending):
                self._raw_crlf = False
                return None
            self._raw_crlf = True
            self._tail = b"".join(pending)[-3:]
        tail = self._tail
        if b"\r\n\r\n" not in chunk and b"\r\n\r\n" not in tail + chunk[:3]:
            # No event ends here. Checked now, so a stream of bare "\r"s is found at once.
            if not _only_crlf(chunk, tail.endswith(b"\r")):
                self._raw_crlf = False
                return None
            pending.append(chunk)
            self._tail = (tail + chunk[-3:])[-3:]
            return []
        whole = b"".join([*pending, chunk]) if pending else chunk
        end = whole.rfind(b"\r\n\r\n")
        rest = whole[end + 4 :]
        done = whole[: end + 1]  # to the "\r" of its last line end: every line ends in "\r"
        lines = done.split(b"\n")
        if (
            done.count(b"\r") != len(lines)
            or not all(map(_endswith, lines, repeat(b"\r")))
            or (rest and not _only_crlf(rest, False))
        ):
            self._raw_crlf = False
            return None
        pending.clear()
        if rest:
            pending.append(rest)
        self._tail = rest[-3:]
        try:
            events = self._crlf_events(lines, done)
        except UnicodeDecodeError:
            self._found_invalid(done)
            events = self._crlf_events(lines, done)
        self._checked_to += end + 4
        self._events_seen += len(events)
        return events

    def _crlf_events(self, lines: list[bytes], done: bytes) -> list[ServerSentEvent]:
        """`_events` for lines that each end in "\r" (their "\n" split off)."""
        events = self._uniform_crlf(lines)
        if events is None:
            text = done[:-1].decode("utf-8", self._errors).replace("\r\n", "\n")
            events = self._blocks(text.split("\n\n"))
        return events

    def _uniform_crlf(self, lines: list[bytes]) -> list[ServerSentEvent] | None:
        """`_uniform` for lines that each end in "\r": the same two shapes, in C."""
        if self._retry is not None:
            return None
        count = len(lines)
        decode = _DECODERS[self._errors]
        blanks = count // 3
        if count % 3 == 2 and lines[2::3].count(b"\r") == blanks:
            names = lines[0::3]
            distinct = set(names)
            datas = lines[1::3]
            if all(map(_startswith, distinct, repeat(b"event: "))) and all(
                map(_startswith, datas, repeat(b"data: "))
            ):
                kinds = {name: decode(name[7:-1]) or "message" for name in distinct}
                fields = zip(
                    map(kinds.__getitem__, names),
                    map(decode, map(_between_data_cr, datas)),
                    repeat(self._last_id),
                    repeat(None),
                    strict=False,
                )
                return list(map(_new_tuple, repeat(ServerSentEvent), fields))
        blanks = count // 2
        if count % 2 == 1 and lines[1::2].count(b"\r") == blanks:
            datas = lines[0::2]
            if all(map(_startswith, datas, repeat(b"data: "))):
                fields = zip(
                    repeat("message"),
                    map(decode, map(_between_data_cr, datas)),
                    repeat(self._last_id),
                    repeat(None),
                    strict=False,
                )
                return list(map(_new_tuple, repeat(ServerSentEvent), fields))
        return None

    def close(self) -> list[ServerSentEvent]:
        """End of stream: flush a last event that had no blank line after it."""
        if not self._lazy_utf8:
            self._check_utf8(b"", self.bytes_seen, final=True)
        events: list[ServerSentEvent] = []
        if self._pending:
            rest = b"".join(self._pending)
            self._pending.clear()
            self._pending_ends_lf = False
            try:
                text = rest.decode("utf-8", self._errors)
            except UnicodeDecodeError:
                self._found_invalid(rest)
                text = rest.decode("utf-8", self._errors)
            if self._raw_crlf:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            lines = text.split("\n")
            if not lines[-1]:
                lines.pop()  # the text ended with a line end, which is not a blank line
            events.extend(self._lines(lines))
        if self._has_fields:
            self.unterminated = True
            events.extend(self._lines([""]))
        self._closed = True
        self._events_seen += len(events)
        return events

    def _events(self, done: bytes) -> list[ServerSentEvent]:
        events = self._uniform(done)
        if events is None:
            text = done.decode("utf-8", self._errors)
            if self._raw_crlf:
                text = text.replace("\r\n", "\n")
            events = self._blocks(text.split("\n\n"))
        return events

    # UTF-8 is checked lazily while the stream has no "\r": every byte of a finished part is
    # decoded strictly anyway (into event fields), so a chunk is checked by that decoding, not
    # by a pass of its own; only when it fails is the offset looked up. Offsets into the
    # normalised bytes are then offsets into the stream (less a BOM). Once a "\r" comes, line
    # ends are rewritten and offsets would drift, so each raw chunk is checked as it arrives.

    def _found_invalid(self, unchecked: bytes) -> None:
        """`unchecked` (starting at `_checked_to`) holds the stream's first invalid byte."""
        try:
            unchecked.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.invalid_utf8_at = self._checked_to + exc.start
        self._errors = "replace"
        self._lazy_utf8 = False

    def _stop_lazy_utf8(self, chunk: bytes) -> None:
        """A "\r" came: check what is pending and this chunk now, then every chunk eagerly."""
        self._lazy_utf8 = False
        pending = b"".join(self._pending)  # all unchanged so far: their offsets are exact
        self._check_utf8(pending, self._checked_to, final=False)
        self._check_utf8(chunk, self._checked_to + len(pending), final=False)

    def _check_utf8(self, chunk: bytes, chunk_at: int, final: bool) -> None:
        """Note where the stream first stops being UTF-8; from there decode with U+FFFD."""
        utf8 = self._utf8
        if utf8 is None:  # only checks the bytes; most streams never need it
            utf8 = self._utf8 = _UTF8("strict")
        if self.invalid_utf8_at is not None or (chunk.isascii() and not utf8.buffer and not final):
            return
        try:
            utf8.decode(chunk, final)
        except UnicodeDecodeError as exc:
            self.invalid_utf8_at = chunk_at - len(utf8.buffer) + exc.start
            self._errors = "replace"

    def _drop_bom(self, chunk: bytes) -> bytes:
        """Drop a leading byte order mark, which may come split over the first chunks."""
        if self._pending:
            chunk = b"".join(self._pending) + chunk
            self._pending.clear()
        if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
            self._pending.append(chunk)  # not yet known whether it is a BOM
            return b""
        self._started = True
        if chunk.startswith(_BOM):
            self._checked_to = len(_BOM)  # a BOM is valid UTF-8, and offsets count it
            return chunk[len(_BOM) :]
        return chunk

    def _uniform(self, done: bytes) -> list[ServerSentEvent] | None:
        """All events at once when every one has the shape LLM APIs send, else None.

        Anthropic and OpenAI Responses send `event: E`, `data: D` and a blank line; Chat
        Completions `data: D` and a blank line. When the lines of a whole chunk follow one of
        those patterns exactly, the checks, the UTF-8 decoding and the event tuples run in C
        (map, all, any), not in a Python loop per event. Anything else (comments, `id:`,
        several `data:` lines, no space after the colon) takes the general path.
        """
        if self._retry is not None:
            return None  # a `retry:` in a block without data belongs to the next event
        lines = done.split(b"\n")
        count = len(lines)
        decode = _DECODERS[self._errors]
        if count <= _FEW_LINES:
            return self._few(lines, decode)
        if count % 3 == 2:
            names = lines[0::3]
            distinct = set(names)  # a stream repeats a few event names: each checked once
            datas = lines[1::3]
            if (
                not any(lines[2::3])
                and all(map(_startswith, distinct, repeat(b"event: ")))
                and all(map(_startswith, datas, repeat(b"data: ")))
            ):
                kinds = {name: decode(name[7:]) or "message" for name in distinct}
                fields = zip(
                    map(kinds.__getitem__, names),
                    map(decode, map(_after_data, datas)),
                    repeat(self._last_id),
                    repeat(None),
                    strict=False,
                )
                return list(map(_new_tuple, repeat(ServerSentEvent), fields))
        if count % 2 == 1:
            datas = lines[0::2]
            if not any(lines[1::2]) and all(map(_startswith, datas, repeat(b"data: "))):
                fields = zip(
                    repeat("message"),
                    map(decode, map(_after_data, datas)),
                    repeat(self._last_id),
                    repeat(None),
                    strict=False,
                )
                return list(map(_new_tuple, repeat(ServerSentEvent), fields))
        return None

    def _few(
        self, lines: list[bytes], decode: Callable[[bytes], str]
    ) -> list[ServerSentEvent] | None:
        """`_uniform` for a live chunk of a few events, where a plain loop costs less."""
        events: list[ServerSentEvent] = []
        last_id = self._last_id
        count = len(lines)
        at = 0
        while at < count:
            line = lines[at]
            if line[:6] == b"data: ":
                name = "message"
                at += 1
            elif line[:7] == b"event: ":
                name = decode(line[7:]) or "message"
                if at + 1 == count or lines[at + 1][:6] != b"data: ":
                    return None
                line = lines[at + 1]
                at += 2
            else:
                return None
            if at < count:
                if lines[at]:
                    return None
                at += 1  # the blank line that ended the event
            events.append(_new_tuple(ServerSentEvent, (name, decode(line[6:]), last_id, None)))
        return events

    def _blocks(self, blocks: list[str]) -> list[ServerSentEvent]:
        """Whole events (their lines, without the blank line that ended each)."""
        events: list[ServerSentEvent] = []
        for block in blocks:
            if block:  # empty: more blank lines in a row
                events.extend(self._lines([*block.split("\n"), ""]))
        return events

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
