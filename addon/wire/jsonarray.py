"""Incremental framing of a streamed JSON array: one event per element, bytes in, no I/O.

Google's APIs answer `:streamGenerateContent` without `alt=sse` with one JSON array whose
elements are sent as they are made, each pretty-printed on its own lines:
`[{\\n  "candidates": ...\\n}\\n,\\r\\n{\\n  ...\\n}\\n]`. Each element becomes
`Event("message", element_text)`; any split of the same bytes into chunks gives the same events.

The scan is linear and runs in C: each chunk's new bytes are read, never again an element's
earlier bytes (a chunk that ends inside nested objects has its tail tried once more per open
level, a bounded extra).

- An element that opens pretty-printed (`{`, a line end, then a line indented deeper than the
  line holding the `{`) ends at the first line that holds its closing `}` at the indentation
  of the `{` line. A raw line end never occurs inside a JSON string and pretty-printers
  indent nested closers deeper, so that line is the element's end, found by `bytes.find` over
  the new bytes. (A writer that put a nested `}` there would get an element cut short, which
  the accumulator then reports as not JSON: loud, never silent.) Once two such elements in a
  row showed the separator between them, the rest of a chunk is cut at every closing line in
  one call (`_batch`), with the same result as one element at a time.
- Any other element (compact `[{...},{...}]`, other layouts) is scanned exactly: the brace
  depth, whether the scan is inside a string and whether a backslash is pending carry over
  between chunks, and one regex call skips whole strings and whole nested objects at a time.

A body cut inside an element keeps every element that was whole and says so in `errors`; so do
a missing `]` and bytes that belong to no element ("junk", skipped up to the next `{`).
Elements are not parsed here (the accumulator parses each once); one that is not JSON after
all is the accumulator's to report. A JSON object instead of an array is read as a
one-element array, with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import repeat
from operator import add, getitem
from typing import Final, cast

from addon.wire.events import Event

_BOM: Final = b"\xef\xbb\xbf"
_NESTING: Final = 12
"""Objects nested up to this deep are skipped in one regex call; deeper ones go brace by brace."""

_STRING_BODY = rb'[^"\\]*+(?:\\.[^"\\]*+)*+'
_STRING = rb'"' + _STRING_BODY + rb'"'
_FILL = rb'[^"{}]++'


def _object(depth: int) -> bytes:
    """A regex for one complete `{...}` holding objects nested up to `depth` levels."""
    pattern = rb"\{(?:" + _FILL + rb"|" + _STRING + rb")*+\}"
    for _ in range(depth):
        pattern = rb"\{(?:" + _FILL + rb"|" + _STRING + rb"|" + pattern + rb")*+\}"
    return pattern


_WS: Final = re.compile(rb"[ \t\r\n]*+")
_SPACES: Final = re.compile(rb" *+")
_SEPARATOR: Final = re.compile(rb"[ \t\r\n]*+,[ \t\r\n]*+")
_INSIDE: Final = re.compile(
    rb"(?:" + _FILL + rb"|" + _STRING + rb"|" + _object(_NESTING) + rb")*+", re.DOTALL
)
"""Inside an object: everything up to the next brace, or a string or object not whole yet."""
_STRING_REST: Final = re.compile(_STRING_BODY, re.DOTALL)

# These patterns match the empty string, so their `match` never gives None.
_Matcher = Callable[..., "re.Match[bytes]"]
_ws = cast(_Matcher, _WS.match)
_spaces = cast(_Matcher, _SPACES.match)
_inside = cast(_Matcher, _INSIDE.match)
_string_rest = cast(_Matcher, _STRING_REST.match)

_new_tuple = tuple.__new__

# Where the scan is.
_START: Final = 0  # before the `[`
_OPEN: Final = 1  # after `[`: an element or `]`
_AFTER: Final = 2  # after an element: `,` or `]`
_NEXT: Final = 3  # after `,`: an element
_END: Final = 4  # after `]`
_JUNK: Final = 5  # skipping bytes that belong to no element, up to the next `{`
_ELEMENT: Final = 6  # inside an element

# How the end of the element being read is found.
_UNDECIDED: Final = 0  # only `{` and white space so far
_PRETTY: Final = 1
_EXACT: Final = 2

_QUOTE, _OPEN_BRACE, _CLOSE_BRACE = 0x22, 0x7B, 0x7D
_COMMA, _OPEN_BRACKET, _CLOSE_BRACKET = 0x2C, 0x5B, 0x5D
_CR, _LF = 0x0D, 0x0A


class JSONArrayDecoder:
    """Feed chunks with `feed`, then call `close` once at the end of the body (a `Framing`)."""

    def __init__(self) -> None:
        self.bytes_seen = 0
        self.elements = 0
        """Elements emitted so far."""
        self._errors: list[str] = []
        self._warnings: list[str] = []
        self._state = _START
        self._opened = False  # a `[` (or a top-level object) was seen
        self._bare = False  # the body is a JSON object, not an array
        self._trailing = False  # bytes after the `]` were noted
        self._closed = False
        self._head = b""  # the first bytes while they may be a split BOM
        # The line being scanned, from `_line_mark` in the current chunk: its indentation
        # (None: unknown, then an element opening on it is not read as pretty-printed) and
        # whether it held only spaces so far.
        self._line_indent: int | None = 0
        self._line_open = True
        self._line_mark = 0
        # The element being read.
        self._parts: list[bytes] = []
        self._size = 0
        self._mode = _UNDECIDED
        self._indent = -1  # indentation of the line holding its `{` (-1: unknown)
        self._marker = b""  # pretty: the line end, indentation and `}` that close it
        self._tail = b""  # pretty: its last bytes kept, where a closing line may start
        self._depth = 0  # exact: braces open outside strings
        self._in_string = False
        self._escape = False  # exact: the last chunk ended inside a string, on a backslash
        # The layout seen between two pretty-printed elements in a row, for `_batch`: their
        # closing line, and the separator plus opening bytes that led to the second one.
        self._batch_marker = b""
        self._batch_prefix = b""
        self._batch_skip = 0
        self._batch_spent = False  # `_batch` gave up once in this chunk
        self._previous_end = -1  # where the last element ended in this chunk (-1: not here)

    @property
    def errors(self) -> list[str]:
        return list(self._errors)

    @property
    def warnings(self) -> list[str]:
        return list(self._warnings)

    def feed(self, chunk: bytes) -> list[Event]:
        """Read one chunk; returns the elements it completed."""
        if not chunk or self._closed:
            return []
        offset = self.bytes_seen
        self.bytes_seen += len(chunk)
        data = chunk
        if offset < len(_BOM) and self._state == _START:
            data = self._drop_bom(data)
            offset = self.bytes_seen - len(data)
        if self._trailing or not data:
            return []
        self._line_mark = 0
        self._previous_end = -1
        self._batch_spent = False
        events: list[Event] = []
        n = len(data)
        i = 0
        if self._state == _ELEMENT:
            end = self._resume(data)
            if end < 0:
                return events
            events.append(self._element(data, 0, end))
            i = end
            if self._mode == _PRETTY and self._marker == self._batch_marker:
                i = self._batch(data, i, events)
        ws = _ws
        while True:
            i = ws(data, i).end()
            if i >= n:
                break
            byte = data[i]
            state = self._state
            if byte == _OPEN_BRACE and state != _END:
                if state != _OPEN and state != _NEXT:
                    self._out_of_place(state, offset + i)
                end = self._begin(data, i)
                if end < 0:
                    return events  # the element goes on in the next chunk
                events.append(self._element(data, i, end))
                i = end
                if self._mode == _PRETTY and self._marker == self._batch_marker:
                    i = self._batch(data, i, events)
            elif byte == _COMMA and state == _AFTER:
                self._state = _NEXT
                i += 1
            elif byte == _CLOSE_BRACKET and state in (_OPEN, _AFTER, _NEXT):
                if state == _NEXT:
                    self._warnings.append(f"a comma before the closing ] at byte {offset + i}")
                self._state = _END
                i += 1
            elif byte == _OPEN_BRACKET and state == _START:
                self._state = _OPEN
                self._opened = True
                i += 1
            elif state == _END:
                self._errors.append(f"bytes after the closing ] at byte {offset + i}; ignored")
                self._trailing = True
                return events
            else:
                i = self._junk(data, i, offset)
        self._note_line(data)
        return events

    def close(self) -> list[Event]:
        """End of body: a cut element or a missing `]` is noted in `errors`."""
        if self._closed:
            return []
        self._closed = True
        state = self._state
        if state == _ELEMENT:
            self._errors.append(
                f"the body was cut inside element #{self.elements + 1}, after {self._size} "
                f"bytes of it; the {self.elements} whole element(s) before it are kept"
            )
        elif not self._opened:
            if self.bytes_seen:
                self._errors.append("no JSON array in the body")
        elif state != _END and not (self._bare and state == _AFTER):
            self._errors.append(
                f"the body was cut after {self.elements} whole element(s): no closing ]"
            )
        self._parts.clear()
        return []

    # --- between elements -----------------------------------------------------------------

    def _drop_bom(self, chunk: bytes) -> bytes:
        """Drop a leading byte order mark, which may come split over the first chunks."""
        data = self._head + chunk
        if len(data) < len(_BOM) and _BOM.startswith(data):
            self._head = data
            return b""
        self._head = b""
        return data[len(_BOM) :] if data.startswith(_BOM) else data

    def _out_of_place(self, state: int, at: int) -> None:
        """An element where none was expected: still read, and noted."""
        if state == _START:
            self._warnings.append("the body is a JSON object, not an array: read as one")
            self._opened = self._bare = True
        elif self._bare:
            self._warnings.append(f"another top-level JSON object at byte {at}")
        elif state == _AFTER:
            self._errors.append(f"no comma before the element at byte {at}")

    def _junk(self, data: bytes, i: int, offset: int) -> int:
        """Bytes that belong to no element: noted once per run, skipped to the next `{`."""
        if self._state != _JUNK:
            self._errors.append(
                f"bytes that belong to no array element at byte {offset + i} "
                f"({data[i : i + 40]!r}); skipped to the next {{"
            )
            self._state = _JUNK
        found = data.find(b"{", i)
        if found < 0:
            return len(data)
        self._state = _NEXT
        return found

    def _note_line(self, data: bytes) -> None:
        """Carry the indentation of the line the chunk ends on into the next chunk."""
        start = self._line_mark
        n = len(data)
        newline = data.rfind(b"\n", start)
        if newline >= 0:
            spaces = _spaces(data, newline + 1).end()
            self._line_indent = spaces - newline - 1
            self._line_open = spaces == n
        elif self._line_open and self._line_indent is not None:
            spaces = _spaces(data, start).end()
            self._line_indent += spaces - start
            self._line_open = spaces == n

    def _indent_at(self, data: bytes, at: int) -> int:
        """The indentation of the line holding `data[at]` (-1 when not known)."""
        start = self._line_mark
        newline = data.rfind(b"\n", start, at)
        if newline >= 0:
            return _spaces(data, newline + 1, at).end() - newline - 1
        indent = self._line_indent
        if indent is None:
            return -1
        if self._line_open:
            indent += _spaces(data, start, at).end() - start
        return indent

    # --- inside an element ----------------------------------------------------------------

    def _begin(self, data: bytes, start: int) -> int:
        """An element opens at `data[start]`: its end in `data`, or -1 when it goes on."""
        self._state = _ELEMENT
        self._size = 0
        after = start + 1
        if after < len(data) and data[after] != _LF and data[after] != _CR:
            self._indent = -1  # compact (the common case), decided without looking back
            return self._start_exact(data, after, start)
        self._mode = _UNDECIDED
        self._indent = self._indent_at(data, start)
        return self._undecided(data, after, start)

    def _resume(self, data: bytes) -> int:
        """The element goes on in `data`: its end there, or -1 when it goes on further."""
        if self._mode == _PRETTY:
            return self._pretty(data, 0, 0)
        if self._mode == _EXACT:
            return self._exact(data, 0, 0)
        return self._undecided(data, 0, 0)

    def _undecided(self, data: bytes, at: int, start: int) -> int:
        """After `{` and white space only: read on until the layout is known."""
        n = len(data)
        i = at
        while i < n and (data[i] == _LF or data[i] == _CR):
            i += 1
        first = _spaces(data, i).end()
        if first >= n:  # white space only, so far
            self._keep(data, start)
            return -1
        # Pretty-printed when the first line inside is indented deeper than the `{` line.
        head = b"".join(self._parts) + data[start:first]
        newline = head.rfind(b"\n")
        deeper = newline >= 0 and 0 <= self._indent < len(head) - newline - 1
        if deeper and data[first] != _CLOSE_BRACE:
            marker = b"\n" + b" " * self._indent + b"}"
            if self._previous_end >= 0 and not self._parts:
                self._learn(data, start, first, marker)
            self._mode = _PRETTY
            self._marker = marker
            self._tail = head[-(len(marker) - 1) :]
            return self._pretty(data, first, start)
        return self._start_exact(data, first, start)

    def _pretty(self, data: bytes, at: int, start: int) -> int:
        """Find the element's closing line from `data[at]`: the element's end, or -1."""
        marker = self._marker
        if self._parts and at == 0:
            # The closing line may start in the bytes kept from earlier chunks.
            tail = self._tail
            found = (tail + data[: len(marker) - 1]).find(marker)
            if found >= 0:
                return found + len(marker) - len(tail)
        found = data.find(marker, at)
        if found < 0:
            self._keep(data, start)
            return -1
        return found + len(marker)

    def _start_exact(self, data: bytes, at: int, start: int) -> int:
        self._mode = _EXACT
        self._depth = 1
        self._in_string = False
        self._escape = False
        return self._exact(data, at, start)

    def _exact(self, data: bytes, at: int, start: int) -> int:
        """Scan braces and strings exactly from `data[at]`: the element's end, or -1."""
        n = len(data)
        i = at
        depth = self._depth
        if self._in_string:
            i = self._string(data, i)
        inside = _inside
        while i < n and not self._in_string:
            i = inside(data, i).end()
            if i >= n:
                break
            byte = data[i]
            i += 1
            if byte == _CLOSE_BRACE:
                depth -= 1
                if depth == 0:
                    return i
            elif byte == _OPEN_BRACE:
                depth += 1
            else:  # a string that is not whole in this chunk
                self._in_string = True
                i = self._string(data, i)
        self._depth = depth
        self._keep(data, start)
        return -1

    def _string(self, data: bytes, at: int) -> int:
        """Inside a string from `data[at]`: past its closing quote, or the chunk's end."""
        n = len(data)
        i = at
        if self._escape:
            if i >= n:
                return n
            self._escape = False
            i += 1  # the escaped byte
        i = _string_rest(data, i).end()
        if i >= n:
            return n
        if data[i] == _QUOTE:
            self._in_string = False
            return i + 1
        self._escape = True  # the chunk ends on a backslash
        return n

    def _learn(self, data: bytes, start: int, first: int, marker: bytes) -> None:
        """Two pretty elements in a row with the same closing line: note what led to this one."""
        previous = self._previous_end
        between = data[previous:start]
        if data[previous - len(marker) : previous] == marker and _SEPARATOR.fullmatch(between):
            self._batch_marker = marker
            self._batch_prefix = between + data[start : first + 1]
            self._batch_skip = len(between)

    def _batch(self, data: bytes, at: int, events: list[Event]) -> int:
        """Read on from `data[at]` (just after a pretty element) in C while the layout holds.

        Cutting the rest of the chunk at every closing line gives pieces that each start
        with the separator and the opening bytes seen before, exactly where `feed` would find
        each element's end one by one: the closing line cannot occur in those bytes, and the
        same opening leads to the same decision. The first piece that differs, and the last
        (an element not whole yet, or the `]`), are left to `feed`.
        """
        if self._batch_spent:
            return at
        marker = self._batch_marker
        prefix = self._batch_prefix
        pieces = data[at:].split(marker)
        if len(pieces) < 2:
            return at
        pieces.pop()
        whole = len(pieces)
        fits = list(map(bytes.startswith, pieces, repeat(prefix)))
        if not all(fits):
            # The layout changed: element by element for the rest of this chunk, so that
            # the rest is not cut again after every element (which would not be linear).
            self._batch_spent = True
            whole = fits.index(False)
            del pieces[whole:]
            if not whole:
                return at
        elements = map(getitem, pieces, repeat(slice(self._batch_skip, None)))
        raws = list(map(add, elements, repeat(marker)))
        try:
            texts = list(map(bytes.decode, raws))
        except UnicodeDecodeError:
            return at  # `feed` reports which element
        self.elements += whole
        fields = zip(repeat("message"), texts, repeat(None), repeat(None), strict=False)
        events.extend(map(_new_tuple, repeat(Event), fields))
        end = at + sum(map(len, pieces)) + whole * len(marker)
        self._line_mark = end
        self._previous_end = end
        return end

    def _keep(self, data: bytes, start: int) -> None:
        """The element goes on: keep its bytes from `data[start]` (joined once, at its end)."""
        piece = data[start:] if start else data
        self._parts.append(piece)
        self._size += len(piece)
        if self._mode == _PRETTY:
            keep = len(self._marker) - 1
            self._tail = piece[-keep:] if len(piece) >= keep else (self._tail + piece)[-keep:]

    def _element(self, data: bytes, start: int, end: int) -> Event:
        """The element that ends at `data[end]`: decoded and counted; the scan goes on."""
        if self._parts:
            self._parts.append(data[start:end])
            raw = b"".join(self._parts)
            self._parts.clear()
        else:
            raw = data[start:end]
        self._state = _AFTER
        self.elements += 1
        # The line the element ends on: its closing line when pretty-printed, else unknown.
        self._line_indent = self._indent if self._mode == _PRETTY else None
        self._line_open = False
        self._line_mark = end
        self._previous_end = end if self._mode == _PRETTY else -1
        try:
            text = raw.decode()
        except UnicodeDecodeError as exc:
            self._errors.append(
                f"element #{self.elements} is not valid UTF-8 (at byte {exc.start} of it); "
                "decoded with U+FFFD"
            )
            text = raw.decode("utf-8", "replace")
        return _new_tuple(Event, ("message", text, None, None))
