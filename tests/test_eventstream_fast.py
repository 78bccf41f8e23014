"""Fast paths of the event-stream framings and Bedrock folds give what the careful ones give.

Each fast path is compared with a reference that takes the careful path for every frame or event:
- `EventStreamDecoder.feed` (runs of known frames) against `_frames_in`, the loop that reads every
  frame with every check;
- `InvokeStreamDecoder.feed` (remembered tails and inner types) against the unwrap it replaced,
  kept here as it was;
- `BedrockConverse.feed_all` and `BedrockInvoke.feed_all` (the text delta inline) against one
  `_feed` call per event.

Streams are random mixes of ordinary frames, frames of new shapes, exceptions, bad checksums,
bad UTF-8, odd chunk payloads and a cut or junk end, fed in random chunkings.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Any
from zlib import crc32

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.providers.base import Accumulator
from addon.providers.bedrock_converse import BedrockConverse
from addon.providers.bedrock_invoke import BedrockInvoke
from addon.wire import Event
from addon.wire.bedrock_chunks import (
    _BYTES_AT,
    _BYTES_PREFIX,
    _CHUNK_TAIL,
    _TYPE_AT,
    _TYPE_PREFIX,
    InvokeStreamDecoder,
)
from addon.wire.eventstream import (
    _PRELUDE,
    _UINT32,
    EVENT,
    MAX_HEADERS_SIZE,
    MAX_PAYLOAD_SIZE,
    MIN_FRAME_SIZE,
    PRELUDE_SIZE,
    EventStreamDecoder,
    RawFrame,
)
from tests.bedrock_streams import STRING, event_frame, exception_frame, frame

# References: the careful paths -------------------------------------------------------------------


class CarefulDecoder(EventStreamDecoder):
    """Every frame through `_frames_in`, the loop that read each frame with every check
    before the decoder had its fast runs: kept here as the independent reference."""

    def feed(self, chunk: bytes) -> list[Event]:
        data = self._take(chunk)
        events: list[Event] = []
        if data is not None:
            self._frames_in(data, events)
        return events

    def _frames_in(self, data: bytes, events: list[Event] | None) -> list[RawFrame]:
        """Every whole frame in `data` (as events into `events` when it is given)."""
        view = memoryview(data)
        end = len(data)
        at = 0
        found: list[RawFrame] = []
        unpack_prelude = _PRELUDE.unpack_from
        unpack_crc = _UINT32.unpack_from
        kinds = self._kinds
        offset = self._offset
        while end - at >= PRELUDE_SIZE:
            total, headers_size, prelude_crc = unpack_prelude(data, at)
            frame_end = at + total
            if (
                not (
                    MIN_FRAME_SIZE + headers_size <= total <= end - at
                    and headers_size <= MAX_HEADERS_SIZE
                    and total - headers_size <= MAX_PAYLOAD_SIZE + MIN_FRAME_SIZE
                )
                or crc32(view[at : at + 8]) != prelude_crc
            ):
                if self._prelude_problem(at, total, headers_size, prelude_crc, view, end):
                    break
                self._need = total  # a good prelude: wait for the rest of the frame
                break
            payload_end = frame_end - 4
            if crc32(view[at:payload_end]) != unpack_crc(data, payload_end)[0]:
                self._errors.append(
                    f"frame at byte {offset + at}: message checksum does not match; "
                    f"its {total} bytes were dropped"
                )
                at = frame_end
                continue
            payload_start = at + PRELUDE_SIZE + headers_size
            raw_headers = data[at + PRELUDE_SIZE : payload_start]
            kind = kinds.get(raw_headers)
            if kind is None:
                try:
                    kind = self._kind(raw_headers)
                except ValueError as exc:
                    self._errors.append(f"frame at byte {offset + at}: {exc}; it was dropped")
                    at = frame_end
                    continue
            if events is None:
                found.append((kind, payload_start, payload_end, offset + at))
            elif kind.kind == EVENT:
                try:
                    text = str(view[payload_start:payload_end], "utf-8")
                except UnicodeDecodeError:
                    text = self.text(view[payload_start:payload_end], offset + at)
                events.append(Event(kind.name, text))
            else:
                events.append(self.event_for(kind, view[payload_start:payload_end], offset + at))
            at = frame_end
        else:
            self._need = PRELUDE_SIZE
        self.frames += len(found) if events is None else len(events)
        self._keep_rest(data, at)
        return found


class CarefulInvokeDecoder(InvokeStreamDecoder):
    """The chunk unwrap before its fast path: every frame from `scan`, read in place."""

    def feed(self, chunk: bytes) -> list[Event]:
        frames = self._frames
        data, found = frames.scan(chunk)
        events: list[Event] = []
        view = memoryview(data)
        for kind, start, stop, at in found:
            if kind.name != "chunk" or kind.kind != EVENT:
                events.append(frames.event_for(kind, view[start:stop], at))
                continue
            quote = data.find(b'"', start + _BYTES_AT, stop)
            if data.startswith(_BYTES_PREFIX, start) and _CHUNK_TAIL.fullmatch(data, quote, stop):
                encoded: Any = view[start + _BYTES_AT : quote]
            else:
                encoded = self._bytes_field(data[start:stop], at)
                if encoded is None:
                    events.append(Event("chunk", frames.text(view[start:stop], at)))
                    continue
            try:
                raw = binascii.a2b_base64(encoded, strict_mode=True)
            except (binascii.Error, ValueError) as exc:
                self.errors.append(f"chunk at byte {at}: `bytes` is not base64 ({exc}); kept")
                events.append(Event("chunk", frames.text(view[start:stop], at)))
                continue
            name = "chunk"
            if raw.startswith(_TYPE_PREFIX):
                name = self._names.get(raw[_TYPE_AT : raw.find(b'"', _TYPE_AT)]) or self._name(raw)
            elif not raw.startswith(b'{"') or raw.startswith(b'{"type"'):
                name = self._name(raw)
            try:
                text = str(raw, "utf-8")
            except UnicodeDecodeError:
                text = frames.text(raw, at)
            events.append(Event(name, text))
        return events


def one_by_one(acc: Accumulator, events: list[Event]) -> None:
    """`Accumulator.feed_all` as the base class has it: one `_feed` per event."""
    Accumulator.feed_all(acc, events)
    if isinstance(acc, BedrockInvoke):
        acc._sync()


# Random streams ----------------------------------------------------------------------------------

texts = st.text(alphabet=st.sampled_from('ab "\\é🎉\n'), max_size=8)
padding = st.one_of(
    st.none(),
    st.integers(1, 62).map(
        lambda n: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[:n]
    ),
    st.text(alphabet='x"\\ ', max_size=4),
)


def _chunk_payload(inner: bytes, pad: str | None, layout: int) -> bytes:
    encoded = base64.b64encode(inner).decode()
    if layout == 0:
        outer: dict[str, Any] = {"bytes": encoded}
        if pad is not None:
            outer["p"] = pad
        return orjson.dumps(outer)
    if layout == 1:
        return orjson.dumps({"p": pad or "", "bytes": encoded})  # keys in another order
    if layout == 2:
        return orjson.dumps({"bytes": encoded, "extra": 1})
    if layout == 3:
        return b'{"bytes": "' + encoded.encode() + b'"}'  # a space
    if layout == 4:
        return b'{"bytes":"' + encoded[:-1].encode() + b'!"}'  # not base64
    if layout == 5:
        return b'{"bytes":"' + encoded.encode()  # not JSON
    if layout == 6:
        return b'{"bytez":"' + encoded.encode() + b'"}'  # not `bytes`
    return orjson.dumps({"bytes": 5})


inner_json = st.one_of(
    st.builds(
        lambda t, i: orjson.dumps(
            {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": t}}
        ),
        texts,
        st.integers(0, 2),
    ),
    st.sampled_from(
        [
            b'{"type":"message_start","message":{"id":"m","type":"message","role":"assistant",'
            b'"content":[],"usage":{"input_tokens":1,"output_tokens":1}}}',
            b'{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
            b'{"type":"content_block_stop","index":0}',
            b'{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}',
            b'{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":1}}',
            b'{"type":"ping"}',
            b'{"type":"a\\"b","x":1}',
            b'{"type": "spaced"}',
            b'{"type":"unclosed',
            b'{"outputText":"hi","index":0}',
            b'{"completion":"x","stop_reason":null}',
            b"[1,2]",
            b"\xff\xfe not utf-8",
            b"",
        ]
    ),
)


@st.composite
def invoke_frames(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind <= 5:
        payload = _chunk_payload(
            draw(inner_json), draw(padding), draw(st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6, 7]))
        )
        return event_frame("chunk", payload, bad_message_crc=draw(st.integers(0, 20)) == 0)
    if kind == 6:
        return exception_frame(draw(st.sampled_from(["throttlingException", "chunk"])), "slow down")
    if kind == 7:
        return event_frame("other", draw(st.sampled_from([b'{"a":1}', b"\xff"])))
    if kind == 8:
        message_type = draw(st.sampled_from(["exception", "error", "weird"]))
        return frame(
            [(":event-type", STRING, "chunk"), (":message-type", STRING, message_type)], b"{}"
        )
    return frame(
        [(":event-type", STRING, "chunk"), (":x", STRING, draw(texts))], b'{"bytes":"e30="}'
    )


converse_events = st.one_of(
    st.builds(
        lambda i, t, pad: (
            "contentBlockDelta",
            {"contentBlockIndex": i, "delta": {"text": t}, "p": pad},
        ),
        st.integers(0, 2),
        texts,
        st.sampled_from(["abc", "abcdefgh"]),
    ),
    st.sampled_from(
        [
            ("messageStart", {"role": "assistant", "p": "ab"}),
            (
                "contentBlockStart",
                {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}},
            ),
            (
                "contentBlockDelta",
                {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"a":'}}},
            ),
            (
                "contentBlockDelta",
                {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "hm"}}},
            ),
            ("contentBlockDelta", {"contentBlockIndex": "0", "delta": {"text": "x"}}),
            ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": 5}}),
            ("contentBlockDelta", {"contentBlockIndex": [0], "delta": {"text": "x"}}),
            ("contentBlockDelta", [1, 2]),
            ("contentBlockDelta", b"not json"),
            (
                "contentBlockDelta",
                b'{"contentBlockIndex":0,"delta":{"text":"big","n":1000000000000000000000000}}',
            ),
            ("contentBlockStop", {"contentBlockIndex": 0}),
            ("contentBlockStop", {"contentBlockIndex": 1}),
            ("messageStop", {"stopReason": "end_turn"}),
            ("metadata", {"usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3}}),
            ("newEvent", {"x": 1}),
        ]
    ),
)


def _converse_frame(name: str, payload: Any, bad: bool) -> bytes:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return event_frame(name, raw, bad_message_crc=bad)


@st.composite
def converse_frames(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 12))
    if kind <= 9:
        name, payload = draw(converse_events)
        return _converse_frame(name, payload, draw(st.integers(0, 20)) == 0)
    if kind == 10:
        return exception_frame("modelStreamErrorException", "boom")
    if kind == 11:
        return event_frame("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"\xff"}}')
    return frame(
        [(":event-type", STRING, "contentBlockDelta")],
        b'{"contentBlockIndex":0,"delta":{"text":"h"}}',
    )


def _stream(draw: st.DrawFn, frames: st.SearchStrategy[bytes], count: int) -> bytes:
    """Frames drawn from a small pool, so that shapes repeat and the fast loops take them."""
    pool = draw(st.lists(frames, min_size=1, max_size=8))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), max_size=count))
    return b"".join(pool[i] for i in picks)


def _ending(draw: st.DrawFn, body: bytes) -> bytes:
    end = draw(st.integers(0, 4))
    if end == 1 and body:
        return body[: draw(st.integers(0, len(body) - 1))]  # cut
    if end == 2:
        return body + b"\x00\x00\x00\x30junk that is no frame at all......"
    if end == 3 and len(body) > 12:
        at = draw(st.integers(0, len(body) - 1))
        return body[:at] + bytes([body[at] ^ 0x10]) + body[at + 1 :]  # one flipped bit
    return body


def _pieces(body: bytes, sizes: list[int]) -> list[bytes]:
    out, at = [], 0
    for size in sizes:
        out.append(body[at : at + size])
        at += size
    out.append(body[at:])
    return out


def _run(decoder: Any, pieces: list[bytes]) -> tuple[list[list[Event]], list[str], list[str], int]:
    events = [decoder.feed(piece) for piece in pieces]
    events.append(decoder.close())
    return events, list(decoder.errors), list(decoder.warnings), decoder.frames


def _state(acc: Accumulator) -> Any:
    return (
        orjson.dumps(acc.result(), default=repr),
        acc.errors,
        acc.unknown,
        acc.extras,
        acc.done,
        acc.content_started,
    )


# Properties --------------------------------------------------------------------------------------

sizes = st.lists(st.integers(0, 300), max_size=12)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_event_frames_fast_and_careful_give_the_same_events(data: st.DataObject) -> None:
    body = _ending(data.draw, _stream(data.draw, st.one_of(converse_frames(), invoke_frames()), 40))
    pieces = _pieces(body, data.draw(sizes))
    assert _run(EventStreamDecoder(), pieces) == _run(CarefulDecoder(), pieces)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_invoke_chunks_fast_and_careful_give_the_same_events(data: st.DataObject) -> None:
    body = _ending(data.draw, _stream(data.draw, invoke_frames(), 40))
    pieces = _pieces(body, data.draw(sizes))
    assert _run(InvokeStreamDecoder(), pieces) == _run(CarefulInvokeDecoder(), pieces)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_converse_fold_fast_and_one_by_one_give_the_same_record(data: st.DataObject) -> None:
    events = EventStreamDecoder().feed(_stream(data.draw, converse_frames(), 40))
    cut = data.draw(st.integers(0, len(events)))
    fast, slow = BedrockConverse(), BedrockConverse()
    for part in (events[:cut], events[cut:]):
        fast.feed_all(part)
        one_by_one(slow, part)
    assert fast._events == slow._events
    fast.finish()
    slow.finish()
    assert _state(fast) == _state(slow)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_invoke_fold_fast_and_one_by_one_give_the_same_record(data: st.DataObject) -> None:
    events = InvokeStreamDecoder().feed(_stream(data.draw, invoke_frames(), 40))
    cut = data.draw(st.integers(0, len(events)))
    fast, slow = BedrockInvoke(), BedrockInvoke()
    for part in (events[:cut], events[cut:]):
        fast.feed_all(part)
        one_by_one(slow, part)
    fast.finish()
    slow.finish()
    assert _state(fast) == _state(slow)


def test_a_long_run_of_one_shape_is_decoded_like_the_careful_loop() -> None:
    body = b"".join(
        event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": str(n)}})
        for n in range(3000)
    )
    body = body[:-5] + struct.pack(">I", 1) + body[-1:]  # the last frame's checksum is wrong
    pieces = _pieces(body, [70_000, 1, 11, 300])
    fast, careful = _run(EventStreamDecoder(), pieces), _run(CarefulDecoder(), pieces)
    assert fast == careful
    assert fast[3] == 2999 and len(fast[1]) == 1
