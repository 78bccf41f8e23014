"""An incremental AWS event-stream decoder (`application/vnd.amazon.eventstream`), no I/O.

Bedrock streams its answers in this binary framing. Each frame is a 12-byte prelude (total
length, headers length, CRC32 of the first 8 bytes), a block of typed headers, the payload and a
CRC32 of everything before it. Headers of every type the spec has are read (bool, byte, short,
int, long, byte array, string, timestamp as integer milliseconds, uuid as `uuid.UUID`).

As a `Framing`, each good frame becomes one `Event`: an `event` frame (`:message-type` event) is
named by its `:event-type`; an `exception` or `error` frame is named by its `:exception-type`
(`:error-code`), written to `errors` as "<type>: <message>" and still emitted, so an accumulator
can keep it. Payloads are decoded as UTF-8 text.

What cannot be read goes to `errors` and everything before it is kept: a frame whose message
CRC is wrong is dropped and decoding goes on with the next one (its length was checked by the
prelude CRC); a prelude whose CRC or lengths are wrong leaves no way to find the next frame, so
the rest of the body is not decoded; a body that ends inside a frame is reported by `close`.

Speed: a frame is checked with `zlib.crc32` and read with `struct`, in one tight loop per
run of ordinary frames (`_run`); the first frame of any new shape, and every frame that is not
ordinary (a bad checksum, a cut frame, an exception), is read by the careful `_one`, which then
teaches the loop that shape: a header block seen before (a stream repeats a few) is parsed once,
and the prelude CRC of two lengths seen before is looked up instead of computed again (the
checksum of the same 8 bytes, remembered). The payloads of a run are decoded in one `map`.
Chunks that end inside a frame are kept and joined once the frame is whole.
"""

from __future__ import annotations

import struct
from itertools import repeat
from types import MappingProxyType
from typing import NamedTuple
from zlib import crc32

import orjson

from addon.wire.events import Event
from addon.wire.eventstream_headers import (
    ERROR,
    EVENT,
    EXCEPTION,
    OTHER,
    FrameKind,
    Headers,
    HeaderValue,
    classify,
    parse_headers,
)

__all__ = [
    "ERROR",
    "EVENT",
    "EXCEPTION",
    "OTHER",
    "EventStreamDecoder",
    "Frame",
    "FrameKind",
    "HeaderValue",
    "Headers",
    "parse_headers",
]

PRELUDE_SIZE = 12
MIN_FRAME_SIZE = 16  # prelude and message CRC, no headers, empty payload
MAX_HEADERS_SIZE = 128 * 1024  # the limits botocore enforces
MAX_PAYLOAD_SIZE = 24 * 1024 * 1024

_PRELUDE = struct.Struct(">III")
_PRELUDE_WORDS = struct.Struct(">QI")  # the two lengths as one key, and the prelude CRC
_CRC_AND_PRELUDE = struct.Struct(">IQI")  # a message CRC and the prelude after it
_UINT32 = struct.Struct(">I")
_HEADER_CACHE_SIZE = 64
_PRELUDE_CACHE_SIZE = 4096

_new_tuple = tuple.__new__
_utf8 = bytes.decode
_NONES = repeat(None)


class Frame(NamedTuple):
    """One checked frame: its headers, its payload, and where it started in the stream."""

    headers: Headers
    payload: bytes
    offset: int


RawFrame = tuple[FrameKind, int, int, int]
"""A frame from `scan`: its kind, its payload's start and end in the buffer, its offset."""


class EventStreamDecoder:
    """Feed chunks with `feed` (events) or `feed_frames` (frames), then call `close` once."""

    def __init__(self) -> None:
        self.bytes_seen = 0
        self.frames = 0
        """Frames read whole and with a good CRC."""
        self._errors: list[str] = []
        self._warnings: list[str] = []
        self._pending: list[bytes] = []  # bytes of a frame not yet whole, joined once it is
        self._pending_size = 0
        self._need = PRELUDE_SIZE  # pending bytes needed before a look is worth it
        self._offset = 0  # stream offset of the first pending byte
        self._broken = False  # a bad prelude: nothing after it can be framed
        self._kinds: dict[bytes, FrameKind] = {}
        self._names: dict[bytes, str] = {}  # header block -> name, for `event` frames only
        self._preludes: dict[int, int] = {}  # the two lengths (8 bytes) -> their good CRC

    @property
    def errors(self) -> list[str]:
        return self._errors

    @property
    def warnings(self) -> list[str]:
        return self._warnings

    # Frames ---------------------------------------------------------------------------------

    def feed_frames(self, chunk: bytes) -> list[Frame]:
        """Decode one chunk; returns the frames it completed."""
        data, found = self.scan(chunk)
        return [Frame(kind.headers, data[start:stop], at) for kind, start, stop, at in found]

    def scan(self, chunk: bytes) -> tuple[bytes, list[RawFrame]]:
        """Decode one chunk without copying payloads: a buffer and the frames found in it.

        For framings built on this one (Bedrock's `chunk` unwrapping): each frame is its
        `FrameKind`, its payload's start and end in the buffer, and its stream offset.
        """
        data = self._take(chunk)
        if data is None:
            return b"", []
        found: list[RawFrame] = []
        end = len(data)
        at = 0
        while True:
            if end - at < PRELUDE_SIZE:
                self._need = PRELUDE_SIZE
                break
            after, kind, payload_start, payload_end = self._one(data, at)
            if after == at:
                break
            if kind is not None:
                found.append((kind, payload_start, payload_end, self._offset + at))
            at = after
        self.frames += len(found)
        self._keep_rest(data, at)
        return data, found

    def _take(self, chunk: bytes) -> bytes | None:
        """The bytes to look at now: pending ones and `chunk`, once a frame may be whole."""
        if not chunk:
            return None
        self.bytes_seen += len(chunk)
        if self._broken:
            return None
        pending = self._pending
        if not pending:
            return chunk
        pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size < self._need:
            return None
        data = b"".join(pending)
        pending.clear()
        return data

    def _keep_rest(self, data: bytes, used: int) -> None:
        """Hold the bytes after the last whole frame for the next chunk."""
        rest = len(data) - used
        self._offset += used
        if rest and not self._broken:
            self._pending.append(data[used:] if used else data)
            self._pending_size = rest
        else:
            self._pending_size = 0

    def _prelude_problem(
        self, at: int, total: int, headers_size: int, crc: int, view: bytes | memoryview, end: int
    ) -> bool:
        """Whether the prelude at `at` is bad (and decoding stops); False: the frame is cut."""
        if crc32(view[at : at + 8]) != crc:
            self._stop(at, "its prelude checksum does not match")
        elif total < MIN_FRAME_SIZE + headers_size:
            self._stop(at, f"its lengths do not fit (total {total}, headers {headers_size})")
        elif headers_size > MAX_HEADERS_SIZE or total - headers_size > MAX_PAYLOAD_SIZE + 16:
            self._stop(at, f"it is larger than AWS allows (total {total} bytes)")
        else:
            return False
        return True

    def _kind(self, raw_headers: bytes) -> FrameKind:
        found = classify(MappingProxyType(parse_headers(raw_headers)))
        if len(self._kinds) >= _HEADER_CACHE_SIZE:
            self._kinds.clear()  # headers that vary per frame: no use keeping them
            self._names.clear()
        self._kinds[raw_headers] = found
        if found.kind == EVENT:
            self._names[raw_headers] = found.name
        return found

    def _stop(self, at: int, why: str) -> None:
        offset = self._offset + at
        self._broken = True
        lost = self.bytes_seen - offset
        what = "no AWS event-stream frame" if offset == 0 else "no frame"
        self._errors.append(
            f"{what} at byte {offset}: {why}; the {lost} bytes from there were not decoded"
        )

    # Events ---------------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> list[Event]:
        """Decode one chunk; returns one event per frame it completed."""
        data = self._take(chunk)
        events: list[Event] = []
        if data is None:
            return events
        end = len(data)
        at = 0
        while True:
            start = at
            names: list[str] = []
            payloads: list[bytes] = []
            at = self._run(data, at, names, payloads, [])
            if names:
                self._emit(data, start, names, payloads, events)
            if end - at < PRELUDE_SIZE:
                self._need = PRELUDE_SIZE
                break
            after, kind, payload_start, payload_end = self._one(data, at)
            if after == at:
                break
            if kind is not None:
                payload = data[payload_start:payload_end]
                if kind.kind == EVENT:
                    events.append(Event(kind.name, self.text(payload, self._offset + at)))
                else:
                    events.append(self.event_for(kind, payload, self._offset + at))
            at = after
        self.frames += len(events)
        self._keep_rest(data, at)
        return events

    def collect(self, chunk: bytes) -> tuple[int, list[str | FrameKind], list[bytes], list[int]]:
        """Decode one chunk into its frames, for framings built on this one (Bedrock's `chunk`).

        Returns the stream offset of the buffer, and per good frame: its name (an `event`
        frame) or its `FrameKind` (any other), its payload, and its start in the buffer.
        """
        data = self._take(chunk)
        names: list[str | FrameKind] = []
        payloads: list[bytes] = []
        starts: list[int] = []
        base = self._offset
        if data is None:
            return base, names, payloads, starts
        end = len(data)
        at = 0
        while True:
            at = self._run(data, at, names, payloads, starts)
            if end - at < PRELUDE_SIZE:
                self._need = PRELUDE_SIZE
                break
            after, kind, payload_start, payload_end = self._one(data, at)
            if after == at:
                break
            if kind is not None:
                names.append(kind.name if kind.kind == EVENT else kind)
                payloads.append(data[payload_start:payload_end])
                starts.append(at)
            at = after
        self.frames += len(names)
        self._keep_rest(data, at)
        return base, names, payloads, starts

    def _run(
        self,
        data: bytes,
        at: int,
        names: list[str] | list[str | FrameKind],
        payloads: list[bytes],
        starts: list[int],
    ) -> int:
        """The `event` frames from `at` of shapes seen before, up to the first that is not.

        One `unpack` per frame reads its message CRC and the next frame's prelude together.
        A prelude whose lengths were not seen before, or whose CRC is not theirs, a cut frame,
        a bad message CRC or a header block not seen before ends the run: `_one` decides.

        Appends each frame's name, payload and start to the lists; returns where it ended.
        """
        add_name = names.append
        add_payload = payloads.append
        add_start = starts.append
        known = self._names
        preludes = self._preludes
        unpack_next = _CRC_AND_PRELUDE.unpack_from
        unpack_crc = _UINT32.unpack_from
        end = len(data)
        if end - at < PRELUDE_SIZE:
            return at
        lengths, prelude_crc = _PRELUDE_WORDS.unpack_from(data, at)
        while preludes.get(lengths) == prelude_crc or self._learn(data, at, lengths, prelude_crc):
            total = lengths >> 32
            if total > end - at:
                break
            payload_start = at + PRELUDE_SIZE + (lengths & 0xFFFFFFFF)
            payload_end = at + total - 4
            if payload_end + 16 <= end:
                message_crc, lengths, prelude_crc = unpack_next(data, payload_end)
            else:
                message_crc = unpack_crc(data, payload_end)[0]
                lengths = -1
            if crc32(data[at:payload_end]) != message_crc:
                break
            name = known.get(data[at + PRELUDE_SIZE : payload_start])
            if name is None:
                break
            add_name(name)
            add_payload(data[payload_start:payload_end])
            add_start(at)
            at += total
        return at

    def _learn(self, data: bytes, at: int, lengths: int, prelude_crc: int) -> bool:
        """Whether a prelude of lengths not seen before is good (then remembered for `_run`);
        False leaves it to `_one`, which says what is wrong."""
        total = lengths >> 32
        headers_size = lengths & 0xFFFFFFFF
        if not (
            MIN_FRAME_SIZE + headers_size <= total
            and headers_size <= MAX_HEADERS_SIZE
            and total - headers_size <= MAX_PAYLOAD_SIZE + MIN_FRAME_SIZE
            and crc32(data[at : at + 8]) == prelude_crc
        ):
            return False
        preludes = self._preludes
        if len(preludes) >= _PRELUDE_CACHE_SIZE:
            preludes.clear()
        preludes[lengths] = prelude_crc
        return True

    def _one(self, data: bytes, at: int) -> tuple[int, FrameKind | None, int, int]:
        """The frame at `at`, read with every check; teaches `_run` its prelude and headers.

        Returns where the next frame starts (`at` itself: stop here, the frame is cut or the
        stream is broken), the frame's kind (None: dropped, already in `errors`) and where
        its payload starts and ends.
        """
        end = len(data)
        total, headers_size, prelude_crc = _PRELUDE.unpack_from(data, at)
        if (
            not (
                MIN_FRAME_SIZE + headers_size <= total <= end - at
                and headers_size <= MAX_HEADERS_SIZE
                and total - headers_size <= MAX_PAYLOAD_SIZE + MIN_FRAME_SIZE
            )
            or crc32(data[at : at + 8]) != prelude_crc
        ):
            if not self._prelude_problem(at, total, headers_size, prelude_crc, data, end):
                self._need = total  # a good prelude: wait for the rest of the frame
            return at, None, 0, 0
        self._learn(data, at, total << 32 | headers_size, prelude_crc)
        frame_end = at + total
        payload_end = frame_end - 4
        if crc32(data[at:payload_end]) != _UINT32.unpack_from(data, payload_end)[0]:
            self._errors.append(
                f"frame at byte {self._offset + at}: message checksum does not match; "
                f"its {total} bytes were dropped"
            )
            return frame_end, None, 0, 0
        payload_start = at + PRELUDE_SIZE + headers_size
        raw_headers = data[at + PRELUDE_SIZE : payload_start]
        kind = self._kinds.get(raw_headers)
        if kind is None:
            try:
                kind = self._kind(raw_headers)
            except ValueError as exc:
                self._errors.append(f"frame at byte {self._offset + at}: {exc}; it was dropped")
                return frame_end, None, 0, 0
        return frame_end, kind, payload_start, payload_end

    def _emit(
        self, data: bytes, start: int, names: list[str], payloads: list[bytes], events: list[Event]
    ) -> None:
        """The events of a run from `_run`, which began at `start` in `data`."""
        count = len(events)
        try:
            events += map(
                _new_tuple,
                repeat(Event),
                zip(names, map(_utf8, payloads), _NONES, _NONES, strict=False),
            )
        except UnicodeDecodeError:  # one payload is not UTF-8: each is decoded on its own
            del events[count:]
            at = self._offset + start
            for name, payload in zip(names, payloads, strict=True):
                events.append(Event(name, self.text(payload, at)))
                at += _UINT32.unpack_from(data, at - self._offset)[0]

    def event(self, frame: Frame) -> Event:
        """The event for one frame from `feed_frames`, as `feed` would have made it."""
        return self.event_for(classify(frame.headers), frame.payload, frame.offset)

    def event_for(self, kind: FrameKind, payload: memoryview | bytes, at: int) -> Event:
        """The event for one frame; notes exception and error frames in `errors`."""
        text = self.text(payload, at)
        if kind.kind == EVENT:
            return Event(kind.name, text)
        if kind.kind == EXCEPTION:
            self._errors.append(f"{kind.name}: {_message(text)}")
        elif kind.kind == ERROR:
            message = kind.headers.get(":error-message")
            if not isinstance(message, str):
                message = text
            elif not text:
                text = orjson.dumps({"message": message}).decode()
            self._errors.append(f"{kind.name}: {message}")
        else:
            message_type = kind.headers.get(":message-type")
            self._warnings.append(
                f"frame at byte {at}: unknown message type {message_type!r}; kept as an event"
            )
        return Event(kind.name, text)

    def text(self, payload: memoryview | bytes, at: int) -> str:
        """A payload as text; invalid UTF-8 is an error and decoded as U+FFFD."""
        try:
            return str(payload, "utf-8")
        except UnicodeDecodeError:
            self._errors.append(f"frame at byte {at}: payload is not UTF-8; decoded as U+FFFD")
            return str(payload, "utf-8", "replace")

    def close(self) -> list[Event]:
        """End of body: a frame still incomplete is noted in `errors` (no events are held)."""
        if self._pending_size and not self._broken:
            size = self._pending_size
            if size < PRELUDE_SIZE:
                what = f"{size} bytes, less than a prelude"
            else:
                what = f"{size} of its {self._need} bytes"
            self._errors.append(f"body ended inside a frame at byte {self._offset}: {what}")
            self._pending.clear()
            self._pending_size = 0
        if self.bytes_seen and not self.frames and not self._errors:
            self._errors.append("no AWS event-stream frames found in the body")
        return []


def _message(text: str) -> str:
    """The `message` of an exception payload, or the payload itself."""
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    if isinstance(body, dict):
        for key in ("message", "Message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return text
