"""From the bytes of one answer to its record: the rebuilt response plus what happened.

`AnswerRebuild` takes the body as it came off the wire (still content-encoded), chunk by chunk
(live) or once (offline): both give the same record. It undoes the content encoding first and
only then decides how to read the body — the provider's framing for a streamed answer, or one
JSON document — so a compressed JSON answer is never mistaken for a broken stream.
`StreamRebuild` is the streamed half: framing, then the provider's accumulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from addon.providers import PROVIDERS, Provider
from addon.providers.base import Accumulator
from addon.record.model import JSON, Record
from addon.wire import Event, Framing
from addon.wire.encoding import ContentDecoder
from addon.wire.jsonvalue import loads_exact

FEED_SLICE = 1 << 16
"""A whole body is decoded in slices of this many bytes: a few hundred events at a time stay
in the CPU cache, where one pass over a 50 MB body would not (a third faster there)."""

HOLD_BYTES = 16 << 10
"""Live chunks after the first content are decoded together once this many bytes are held.
Measured inside mitmdump (paced streams): 16 KiB decodes a quarter cheaper per byte than
8 KiB, 32 KiB four times dearer (the batch no longer stays in the CPU cache between
mitmproxy's own work); one 16 KiB decode holds the event loop about 0.3 ms."""

RECORD_KEYS = (
    "flow_id",
    "provider",
    "complete",
    "response",
    "errors",
    "request",
    "status_code",
    "streamed",
    "events",
    "timing",
    "usage",
)


def provider_named(provider: str | Provider) -> Provider:
    if isinstance(provider, Provider):
        return provider
    try:
        return PROVIDERS[provider]
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider {provider!r}; known providers: {known}") from None


def finish_response(record: Record, provider: Provider) -> None:
    """What every record derives from its API object: the shared usage vocabulary."""
    if isinstance(record.response, dict):
        try:
            record.usage = provider.accumulator.usage(record.response).as_dict()
        except Exception as exc:  # a strange object keeps its record, without usage
            record.warn(f"usage not read: {exc!r}")


class StreamRebuild:
    """Rebuilds one streamed answer as its (decoded) bytes arrive; never raises from `feed`.

    Until the first content arrives every chunk is decoded at once (its arrival time is the
    time to first token); after that small chunks are held up to `HOLD_BYTES` and decoded
    together. `snapshot` and `finish` decode what is held first, so a record never lags.
    """

    def __init__(
        self,
        provider: str | Provider,
        clock: Callable[[], float] = time.time,
        framing: Callable[[], Framing] | None = None,
    ) -> None:
        self.provider = provider_named(provider)
        self.accumulator: Accumulator = self.provider.accumulator()
        self.decoder: Framing = (framing or self.provider.framing)()
        self.events = 0
        self.clock = clock
        self.first_byte_at: float | None = None
        self.first_token_at: float | None = None
        self.finished = False
        self._failure: str | None = None
        self._held: list[bytes] = []
        self._held_size = 0

    def feed(self, chunk: bytes) -> None:
        if self._failure is not None or not chunk:
            return
        if self.first_token_at is not None:
            # Content has started, so no clock waits on this chunk: hold it and decode held
            # chunks together, which costs far less than one pass per small live chunk.
            self._held.append(chunk)
            self._held_size += len(chunk)
            if self._held_size < HOLD_BYTES:
                return
            chunk = self._take_held()
        self._decode(chunk)

    def _take_held(self) -> bytes:
        chunk = b"".join(self._held)
        self._held.clear()
        self._held_size = 0
        return chunk

    def _decode(self, chunk: bytes) -> None:
        try:
            if self.first_byte_at is None:
                self.first_byte_at = self.clock()
            if len(chunk) <= FEED_SLICE:
                self._apply(self.decoder.feed(chunk))
            else:
                for start in range(0, len(chunk), FEED_SLICE):
                    self._apply(self.decoder.feed(chunk[start : start + FEED_SLICE]))
        except Exception as exc:  # a bug here must cost the record, never the flow
            self._failure = f"rebuild stopped after {self.events} events: {exc!r}"

    def _release(self) -> None:
        """Decode what is held (before the record is read)."""
        if self._held and self._failure is None:
            self._decode(self._take_held())

    def _apply(self, events: list[Event]) -> None:
        acc = self.accumulator
        acc.feed_all(events)
        self.events += len(events)
        if self.first_token_at is None and acc.content_started:
            self.first_token_at = self.clock()

    def finish(self) -> Record:
        """End of stream: flush the framing and return the record (idempotent)."""
        if not self.finished:
            self._release()
            self.finished = True
            if self._failure is None:
                try:
                    self._apply(self.decoder.close())
                    if self.decoder.bytes_seen:
                        self.accumulator.finish()
                except Exception as exc:
                    self._failure = f"rebuild stopped at end of stream: {exc!r}"
        return self.snapshot()

    def snapshot(self) -> Record:
        """The record as it stands (a running stream shows what has arrived so far)."""
        self._release()
        acc = self.accumulator
        record = Record(provider=self.provider.id, streamed=True, events=self.events)
        try:
            record.response = acc.result()
        except Exception as exc:
            record.errors.append(f"could not assemble the response: {exc!r}")
        errors = record.errors
        errors.extend(self.decoder.errors)
        errors.extend(acc.errors)
        if self._failure is not None:
            errors.append(self._failure)
        if self.finished and not self.decoder.bytes_seen:
            errors.append("empty body")
        record.warnings.extend(self.decoder.warnings)
        record.unknown_events = list(acc.unknown)
        if acc.extras:
            record.extras = dict(acc.extras)
        record.complete = self.finished and acc.done and not errors
        finish_response(record, self.provider)
        return record


def rebuild_json(provider: str | Provider, body: bytes, status_code: int | None = None) -> Record:
    """Record for a plain JSON answer: the body is the response; HTTP errors are not complete."""
    provider = provider_named(provider)
    record = Record(provider=provider.id, status_code=status_code)
    failed = status_code is not None and status_code >= 400
    try:
        response = loads_exact(body) if body else None
    except ValueError as exc:
        record.response = body.decode("utf-8", "replace")
        record.errors.append(f"body is not JSON: {exc}")
        if failed:
            record.errors.insert(0, f"HTTP {status_code}")
        return record
    record.response = response
    if failed:
        record.errors.append(http_error_message(status_code, response))
    elif response is None:
        record.errors.append("empty body")
    elif not isinstance(response, dict):
        record.errors.append(f"body is JSON but not an object: {type(response).__name__}")
    else:
        record.errors.extend(provider.accumulator.response_complete(response))
        finish_response(record, provider)
    record.complete = not record.errors
    return record


def http_error_message(status_code: int | None, body: Any) -> str:
    """'HTTP 429: rate_limit_error: ...' from the error shapes the vendors use."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        kind = error.get("type") or error.get("code") or error.get("status")
        message = error.get("message")
        parts = [str(p) for p in (kind, message) if p]
        if parts:
            return f"HTTP {status_code}: " + ": ".join(parts)
    if isinstance(error, str):
        return f"HTTP {status_code}: {error}"
    if isinstance(body, dict) and isinstance(body.get("message"), str):  # AWS: {"message": …}
        return f"HTTP {status_code}: {body['message']}"
    return f"HTTP {status_code}"


def looks_like_sse(body: bytes) -> bool:
    """For bodies without a trustworthy content type: JSON documents start with '{' or '['."""
    head = body.lstrip()[:1]
    return head not in (b"{", b"[", b"")


class AnswerRebuild:
    """One answer's body, still content-encoded, to its record; `feed` never raises.

    The content type chooses the provider's framing; a body whose content type names none is
    read once its first decoded bytes show what it is (an SSE body sent as `text/plain` is
    still a stream, and says so). HTTP errors are read as JSON documents.
    `content_type=None` means "not known" (a bare body): sniffed, with no warning.
    """

    def __init__(
        self,
        provider: str | Provider,
        content_type: str | None = None,
        content_encoding: str = "",
        status_code: int | None = None,
        path: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.provider = provider_named(provider)
        self.content_type = content_type
        self.status_code = status_code
        self.content = ContentDecoder(content_encoding)
        self._plain = not self.content.active
        self._undecoded: list[bytes] = []  # raw bytes until the content decoder gives output
        self._decoded_any = False
        self._head: list[bytes] = []  # decoded bytes until the body shows what it is
        self._json: list[bytes] | None = None  # a JSON body, joined once at the end
        self.stream: StreamRebuild | None = None
        self._sniffed_sse = False
        self.fault: str | None = None
        self.bytes_seen = 0
        if status_code is None or status_code < 400:
            framing = self.provider.framing_for(content_type or "", path)
            if framing is not None:
                self.stream = StreamRebuild(self.provider, clock, framing)
        if self.stream is None and status_code is not None and status_code >= 400:
            self._json = []
        self._clock = clock

    @property
    def streamed(self) -> bool:
        return self.stream is not None

    def feed(self, chunk: bytes) -> None:
        try:
            self._take(chunk)
        except Exception as exc:  # the record says so; the caller's flow goes on
            self.fault = f"rebuild failed: {exc!r}"

    def _take(self, chunk: bytes) -> None:
        if not chunk or self.fault is not None:
            return
        self.bytes_seen += len(chunk)
        if self._plain:
            self._body(chunk)
            return
        decoded = self.content.feed(chunk)
        if decoded:
            self._decoded_any = True
            self._undecoded.clear()
            self._body(decoded)
        elif self._decoded_any:
            return
        elif self.content.error is not None:
            # The header lied from the first byte: read the body as it is, and say so.
            self._plain = True
            self._body(b"".join(self._undecoded) + chunk)
            self._undecoded.clear()
        else:
            self._undecoded.append(chunk)

    def _body(self, data: bytes) -> None:
        """Decoded bytes: to the stream, to the JSON body, or held until the kind is known."""
        if self.stream is not None:
            self.stream.feed(data)
        elif self._json is not None:
            self._json.append(data)
        else:
            self._head.append(data)
            head = b"".join(self._head)
            if head.strip():
                self._head.clear()
                self._decide(head)

    def _decide(self, head: bytes) -> None:
        if looks_like_sse(head):
            self._sniffed_sse = True
            self.stream = StreamRebuild(self.provider, self._clock)
            self.stream.feed(head)
        else:
            self._json = [head]

    def _end_of_body(self) -> None:
        if not self._plain:
            tail = self.content.flush()
            if tail:
                self._body(tail)
            elif self.content.error is not None and not self._decoded_any:
                self._body(b"".join(self._undecoded))
        if self._head:  # only white space came
            head = b"".join(self._head)
            self._head.clear()
            self._json = [head]

    def snapshot(self) -> Record:
        """The record so far (a running stream), without ending anything."""
        if self.stream is not None:
            record = self.stream.snapshot()
        else:
            record = Record(provider=self.provider.id)
        record.status_code = self.status_code
        return record

    def finish(self) -> Record:
        if self.fault is None:
            try:
                self._end_of_body()
            except Exception as exc:
                self.fault = f"rebuild failed at end of body: {exc!r}"
        if self.stream is not None:
            record = self.stream.finish()
            if self._sniffed_sse and self.content_type is not None:
                shown = self.content_type or "(none)"
                record.warn(f"body is SSE but its content type is {shown}")
        else:
            body = b"".join(self._json or ())
            record = rebuild_json(self.provider, body, self.status_code)
        record.status_code = self.status_code
        if self.content.error is not None:
            record.fail(self.content.error, first=True)
        if self.fault is not None:
            record.fail(self.fault)
        return record


def rebuild_answer(
    provider: str | Provider,
    raw: bytes,
    content_type: str | None = None,
    content_encoding: str = "",
    status_code: int | None = None,
    path: str = "",
) -> Record:
    """A whole body as it came off the wire (content-encoded) to its record."""
    provider = provider_named(provider)
    if not content_encoding and (status_code is None or status_code < 400):
        # Nothing to decode and the bytes are all here: skip the incremental machinery.
        framing = provider.framing_for(content_type or "", path)
        if framing is not None or (content_type is None and looks_like_sse(raw)):
            stream = StreamRebuild(provider, framing=framing)
            stream.feed(raw)
            record = stream.finish()
            record.status_code = status_code
            return record
    answer = AnswerRebuild(provider, content_type, content_encoding, status_code, path)
    answer.feed(raw)
    return answer.finish()


def rebuild(
    provider: str,
    body: bytes,
    *,
    streamed: bool | None = None,
    status_code: int | None = None,
) -> JSON:
    """Rebuild a whole (decoded) body to its record as JSON; `streamed=None` reads the bytes
    to tell a stream from a plain JSON answer."""
    if streamed is False:
        return rebuild_json(provider, body, status_code).to_json()
    content_type = provider_named(provider).stream_types[0] if streamed else None
    return rebuild_answer(provider, body, content_type, status_code=status_code).to_json()
