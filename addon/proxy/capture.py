"""The live tee: every chunk goes on to the client unchanged, at once; a copy feeds the rebuild.

An instance is set as the flow's `response.stream` (or `request.stream`) callable. Nothing in
`__call__` may raise: a fault is kept for the record and the flow goes on untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from addon.record import AnswerRebuild, Record
from addon.record.flowside import StreamTimes

StreamHook = Callable[[bytes], bytes | Iterable[bytes]]

PROGRESS_EVERY = 1.0
"""Seconds between two updates of a running stream's body for mitmweb and the console."""


class BodyTee:
    """Passes chunks on and keeps the raw body (up to `max_body`) to put back on the flow."""

    def __init__(self, max_body: int = 0, chain: StreamHook | None = None) -> None:
        self.max_body = max_body
        self.chain = chain
        self.chunks: list[bytes] = []
        self.size = 0
        self.dropped = False
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
        if not self.dropped:
            if self.max_body and self.size > self.max_body:
                self.dropped = True
                self.chunks.clear()
            else:
                self.chunks.append(chunk)

    @property
    def body(self) -> bytes | None:
        """The raw body as it went on, unless it was over the size cap."""
        return None if self.dropped else b"".join(self.chunks)

    @property
    def dropped_note(self) -> str:
        return f"raw body over llm_max_body ({self.max_body} bytes): not kept on the flow"


class FlowCapture(BodyTee):
    """A response tee that also rebuilds the answer as it arrives.

    `keep_body=False` when mitmproxy keeps streamed bodies itself (`store_streamed_bodies`).
    """

    def __init__(
        self,
        answer: AnswerRebuild,
        keep_body: bool = True,
        max_body: int = 0,
        chain: StreamHook | None = None,
    ) -> None:
        super().__init__(max_body, chain)
        self.answer = answer
        self.keep_body = keep_body
        self.on_progress: Callable[[], None] | None = None
        """Called at the first chunk and then at most every `PROGRESS_EVERY` seconds."""
        self._next_progress = 0.0

    def take(self, chunk: bytes) -> None:
        if self.keep_body:
            super().take(chunk)
        # A rebuild that gave up still keeps the body whole (in `BodyTee.take`): a truncated
        # body put back on the flow would pass for the whole answer in captures and replays.
        if self.fault is None:
            self.answer.feed(chunk)
        if self.on_progress is not None:
            now = time.monotonic()
            if now >= self._next_progress:
                self._next_progress = now + PROGRESS_EVERY
                self.on_progress()

    @property
    def times(self) -> StreamTimes:
        stream = self.answer.stream
        if stream is None:
            return StreamTimes()
        return StreamTimes(stream.first_byte_at, stream.first_token_at)

    def snapshot(self) -> Record:
        return self.answer.snapshot()

    def finish(self) -> Record:
        record = self.answer.finish()
        if self.fault is not None:
            record.fail(self.fault)
        if self.keep_body and self.dropped:
            record.warn(self.dropped_note)
        return record
