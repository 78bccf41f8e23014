"""One LLM flow seen by the proxy: the stream tee, and the record built around the rebuild.

This is the only core-side module that knows mitmproxy's flow objects; the rebuild itself
(`record.py`) takes bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from mitmproxy import http

from addon.record import JSON, StreamRebuild, looks_like_sse, rebuild_json
from addon.redact import Redactor
from addon.wire.encoding import ContentDecoder

StreamHook = Callable[[bytes], bytes | Iterable[bytes]]


def is_event_stream(response: http.Response) -> bool:
    return response.headers.get("content-type", "").lower().startswith("text/event-stream")


class FlowCapture:
    """Rebuilds a response from its raw (still content-encoded) body, chunk by chunk.

    Live, an instance is the flow's `response.stream` callable: it returns every chunk unchanged
    at once and rebuilds on the side. Offline, the whole body is fed in one call. Both paths run
    the same code, so they give the same record. Nothing in `__call__` may raise.
    """

    def __init__(
        self,
        provider: str,
        content_encoding: str = "",
        keep_body: bool = True,
        max_body: int = 0,
        chain: StreamHook | None = None,
    ) -> None:
        self.stream = StreamRebuild(provider)
        self.decoder = ContentDecoder(content_encoding)
        self.keep_body = keep_body
        self.max_body = max_body
        self.chain = chain
        self.chunks: list[bytes] = []
        self.size = 0
        self.body_dropped = False
        self._undecoded: list[bytes] = []  # raw bytes until the content decoder produces output
        self._decoded_any = False
        self._plain = not self.decoder.active
        self.fault: str | None = None

    def __call__(self, chunk: bytes) -> bytes | Iterable[bytes]:
        try:
            self.take(chunk)
        except Exception as exc:  # the flow goes on untouched; the record says what happened
            self.fault = f"live rebuild failed: {exc!r}"
        if self.chain is not None:
            return self.chain(chunk)
        return chunk

    def take(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.keep_body and not self.body_dropped:
            if self.max_body and self.size > self.max_body:
                self.body_dropped = True
                self.chunks.clear()
            else:
                self.chunks.append(chunk)
        if self.fault is not None:
            # The rebuild gave up, but the body is still kept whole: a truncated body put
            # back on the flow would pass for the whole answer in -w captures and replays.
            return
        if self._plain:
            self.stream.feed(chunk)
            return
        decoded = self.decoder.feed(chunk)
        if decoded:
            self._decoded_any = True
            self._undecoded.clear()
            self.stream.feed(decoded)
        elif self._decoded_any:
            return
        elif self.decoder.error is not None:
            # The header lied from the first byte: read the body as it is, and say so.
            self._plain = True
            self.stream.feed(b"".join(self._undecoded) + chunk)
            self._undecoded.clear()
        else:
            self._undecoded.append(chunk)

    @property
    def body(self) -> bytes | None:
        """The raw body as it went to the client, unless it was over the size cap."""
        if not self.keep_body or self.body_dropped:
            return None
        return b"".join(self.chunks)

    def finish(self) -> JSON:
        if not self._plain:
            tail = self.decoder.flush()
            if tail:
                self.stream.feed(tail)
            elif self.decoder.error is not None and not self._decoded_any:
                self.stream.feed(b"".join(self._undecoded))
        record = self.stream.finish()
        if self.decoder.error is not None:
            record["errors"].insert(0, self.decoder.error)
            record["complete"] = False
        if self.fault is not None:
            record["errors"].append(self.fault)
            record["complete"] = False
        if self.body_dropped:
            record["warnings"].append(
                f"raw body over llm_max_body ({self.max_body} bytes): not kept on the flow"
            )
        return record


def rebuild_response(provider: str, response: http.Response) -> JSON:
    """Record for a response whose whole body is on the flow (offline, or buffered)."""
    raw = response.raw_content or b""
    encoding = response.headers.get("content-encoding", "")
    if is_event_stream(response) or (response.status_code < 400 and looks_like_sse(raw)):
        capture = FlowCapture(provider, encoding, keep_body=False)
        capture.take(raw)
        record = capture.finish()
        if not is_event_stream(response):
            content_type = response.headers.get("content-type", "(none)")
            record["warnings"].append(f"body is SSE but its content type is {content_type}")
        return record
    decoder = ContentDecoder(encoding)
    body = decoder.feed(raw) + decoder.flush() if decoder.active else raw
    if decoder.error is not None:
        body = raw
    record = rebuild_json(provider, body, response.status_code)
    if decoder.error is not None:
        record["errors"].insert(0, decoder.error)
        record["complete"] = False
    return record


def request_info(request: http.Request, redactor: Redactor) -> JSON:
    raw = request.get_content(strict=False) or b""
    body: Any
    try:
        body = redactor.body(orjson.loads(raw)) if raw else None
    except orjson.JSONDecodeError:
        body = raw.decode("utf-8", "replace")
    return {
        "method": request.method,
        "url": redactor.url(request.pretty_url),
        "headers": redactor.header_items(request.headers.items(multi=True)),
        "body": body,
    }


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def timing(
    flow: http.HTTPFlow,
    stream: StreamRebuild | None,
    usage: JSON,
    earlier: JSON | None = None,
) -> JSON:
    """Seconds from the request's start; a live rebuild knows the first byte and token,
    offline reuses what an earlier live run saved in the flow's metadata, so both agree."""
    earlier = earlier or {}
    start = flow.request.timestamp_start
    resp = flow.response
    headers_at = resp.timestamp_start if resp else None
    # A broken stream never ends: it stops when the flow errored (saved with the flow).
    error_at = flow.error.timestamp if flow.error else None
    end = (resp.timestamp_end if resp else None) or error_at or time.time()
    first_byte: float | None = None
    if stream is not None and stream.first_byte_at:
        first_byte = stream.first_byte_at - start
    elif earlier.get("time_to_first_byte") is not None:
        first_byte = earlier["time_to_first_byte"]
    elif headers_at:
        first_byte = headers_at - start
    if stream is not None and stream.first_token_at is not None:
        # Rounded as it is saved, so an offline run derives the same tokens per second.
        first_token = _seconds(stream.first_token_at - start)
    else:
        first_token = earlier.get("time_to_first_token")
    out_tokens = usage.get("output_tokens", usage.get("completion_tokens"))
    generating = end - start - first_token if first_token is not None else None
    tps = None
    if isinstance(out_tokens, int | float) and generating and generating > 0:
        tps = round(out_tokens / generating, 2)
    return {
        "started": start,
        "time_to_headers": _seconds(headers_at - start if headers_at else None),
        "time_to_first_byte": _seconds(first_byte),
        "time_to_first_token": _seconds(first_token),
        "duration": _seconds(end - start),
        "output_tokens": out_tokens,
        "tokens_per_second": tps,
    }
