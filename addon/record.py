"""From the bytes of one answer to its record: the rebuilt response plus what happened.

`StreamRebuild` is fed chunk by chunk (live) or once (offline); both give the same record.
No mitmproxy here: the addon adds flow id, request and wall-clock timing around it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from addon.providers import PROVIDERS, Accumulator
from addon.wire.sse import SSEDecoder

JSON = dict[str, Any]

FEED_SLICE = 1 << 16
"""A whole body is decoded in slices of this many bytes: a few hundred events at a time stay
in the CPU cache, where one pass over a 50 MB body would not (a third faster there)."""

HOLD_BYTES = 8 << 10
"""Live chunks after the first content are decoded together once this many bytes are held."""

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
)


def new_record(provider: str) -> JSON:
    """A record with every documented key present."""
    return {
        "flow_id": None,
        "provider": provider,
        "complete": False,
        "response": None,
        "errors": [],
        "request": None,
        "status_code": None,
        "streamed": False,
        "events": 0,
        "timing": {},
        "warnings": [],
        "unknown_events": [],
    }


def accumulator_for(provider: str) -> Accumulator:
    try:
        return PROVIDERS[provider]()
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider {provider!r}; known providers: {known}") from None


class StreamRebuild:
    """Rebuilds one streamed answer as its bytes arrive; never raises from `feed`.

    Until the first content arrives every chunk is decoded at once (its arrival time is the
    time to first token); after that small chunks are held up to `HOLD_BYTES` and decoded
    together. `snapshot` and `finish` decode what is held first, so a record never lags.
    """

    def __init__(self, provider: str, clock: Callable[[], float] = time.time) -> None:
        self.provider = provider
        self.accumulator = accumulator_for(provider)
        self.decoder = SSEDecoder()
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

    def _apply(self, events: list) -> None:
        acc = self.accumulator
        acc.feed_all(events)
        self.events += len(events)
        if self.first_token_at is None and acc.content_started:
            self.first_token_at = self.clock()

    def finish(self) -> JSON:
        """End of stream: flush the decoder and return the record (idempotent)."""
        if not self.finished:
            self._release()
            self.finished = True
            if self._failure is None:
                try:
                    self._apply(self.decoder.close())
                    self.accumulator.finish()
                except Exception as exc:
                    self._failure = f"rebuild stopped at end of stream: {exc!r}"
        return self.snapshot()

    def snapshot(self) -> JSON:
        """The record as it stands (a running stream shows what has arrived so far)."""
        self._release()
        acc = self.accumulator
        record = new_record(self.provider)
        record["streamed"] = True
        record["events"] = self.events
        try:
            record["response"] = acc.result()
        except Exception as exc:
            record["errors"].append(f"could not assemble the response: {exc!r}")
        errors = record["errors"]
        if self.decoder.invalid_utf8_at is not None:
            errors.append(
                f"invalid UTF-8 at byte {self.decoder.invalid_utf8_at}; decoded as U+FFFD"
            )
        errors.extend(acc.errors)
        if self._failure is not None:
            errors.append(self._failure)
        if self.decoder.unterminated:
            record["warnings"].append("the last event had no blank line after it")
        if self.events == 0 and self.finished and self.decoder.bytes_seen:
            errors.append("no Server-Sent Events found in the body")
        record["unknown_events"] = list(acc.unknown)
        record["complete"] = self.finished and acc.done and not errors
        return record


def rebuild_json(provider: str, body: bytes, status_code: int | None = None) -> JSON:
    """Record for a plain JSON answer: the body is the response; HTTP errors are not complete."""
    record = new_record(provider)
    record["status_code"] = status_code
    try:
        response = orjson.loads(body) if body else None
    except orjson.JSONDecodeError as exc:
        text = body.decode("utf-8", "replace")
        record["response"] = text
        record["errors"].append(f"body is not JSON: {exc}")
        if status_code is not None and status_code >= 400:
            record["errors"].insert(0, f"HTTP {status_code}")
        return record
    record["response"] = response
    if status_code is not None and status_code >= 400:
        record["errors"].append(http_error_message(status_code, response))
    elif response is None:
        record["errors"].append("empty body")
    elif not isinstance(response, dict):
        record["errors"].append(f"body is JSON but not an object: {type(response).__name__}")
    else:
        record["errors"].extend(PROVIDERS[provider].response_complete(response))
    record["complete"] = not record["errors"]
    return record


def http_error_message(status_code: int, body: Any) -> str:
    """'HTTP 429: rate_limit_error: ...' from the error shapes both vendors use."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        kind = error.get("type") or error.get("code")
        message = error.get("message")
        parts = [str(p) for p in (kind, message) if p]
        if parts:
            return f"HTTP {status_code}: " + ": ".join(parts)
    if isinstance(error, str):
        return f"HTTP {status_code}: {error}"
    return f"HTTP {status_code}"


def looks_like_sse(body: bytes) -> bool:
    """For bodies without a trustworthy content type: JSON objects start with '{'."""
    head = body.lstrip()[:1]
    return head not in (b"{", b"[", b"")


def rebuild(
    provider: str,
    body: bytes,
    *,
    streamed: bool | None = None,
    status_code: int | None = None,
) -> JSON:
    """Rebuild a whole body; `streamed=None` guesses from the bytes (SSE or plain JSON)."""
    if streamed is None:
        streamed = looks_like_sse(body)
    if not streamed or (status_code is not None and status_code >= 400):
        record = rebuild_json(provider, body, status_code)
        record["streamed"] = bool(streamed)
        return record
    stream = StreamRebuild(provider)
    stream.feed(body)
    record = stream.finish()
    record["status_code"] = status_code
    return record
