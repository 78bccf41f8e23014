"""What is timed: each contender takes one answer's bytes (or its chunks) and rebuilds it.

- `floor`: split the body into lines and `orjson.loads` each `data:` payload, nothing else:
  no decoder, no dispatch, no object built. Nothing that rebuilds can be faster.
- `rebuild`: llm-rebuild's public `rebuild()` on the whole body.
- `feed`: `StreamRebuild.feed` over 1-4 KiB chunks, then `finish()` (the live path).
- `capture`: `FlowCapture` as mitmproxy calls it per chunk (the live tee, keeping the body).
- `sdk`: the official SDK stream helper (anthropic `beta.messages.stream`, openai
  `chat.completions.stream` / `responses.stream`) over an in-memory httpx transport: what a
  user of the SDK pays, its SSE parsing included.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from addon.proxy.capture import FlowCapture
from addon.record import AnswerRebuild, StreamRebuild, rebuild


def floor(body: bytes, chunks: list[bytes], provider: str) -> None:
    loads = orjson.loads
    for line in body.splitlines():
        if line.startswith(b"data:") and line != b"data: [DONE]":
            loads(line[5:])


def rebuild_whole(body: bytes, chunks: list[bytes], provider: str) -> None:
    rebuild(provider, body, streamed=True)


def feed_chunks(body: bytes, chunks: list[bytes], provider: str) -> None:
    stream = StreamRebuild(provider)
    feed = stream.feed
    for chunk in chunks:
        feed(chunk)
    stream.finish()


def capture_chunks(body: bytes, chunks: list[bytes], provider: str) -> None:
    capture = FlowCapture(AnswerRebuild(provider, "text/event-stream"))
    for chunk in chunks:
        capture(chunk)
    capture.finish()


class SDKHelpers:
    """One client per SDK, built once (as an application would), answering from memory."""

    def __init__(self) -> None:
        import anthropic
        import httpx2
        import openai

        self.body = b""

        def answer(request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(
                200, headers={"content-type": "text/event-stream"}, content=self.body
            )

        http_client = httpx2.Client(transport=httpx2.MockTransport(answer))
        common: dict[str, Any] = {
            "api_key": "test",
            "base_url": "http://test.invalid",
            "max_retries": 0,
            "http_client": http_client,
        }
        self.anthropic = anthropic.Anthropic(**common)
        self.openai = openai.OpenAI(**common)
        self.finish_errors = (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError)
        self.run: dict[str, Callable[[], Any]] = {
            "anthropic-messages": self._anthropic,
            "openai-chat": self._chat,
            "openai-responses": self._responses,
        }

    def _anthropic(self) -> Any:
        with self.anthropic.beta.messages.stream(
            model="claude-test", max_tokens=1024, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            return stream.get_final_message()

    def _chat(self) -> Any:
        with self.openai.chat.completions.stream(
            model="gpt-test", messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            try:
                return stream.get_final_completion()
            except self.finish_errors:
                # Raised after the whole stream was read and accumulated (the work is done,
                # only the final parse refuses): the accumulation is the comparable object.
                return stream.current_completion_snapshot

    def _responses(self) -> Any:
        with self.openai.responses.stream(model="gpt-test", input="test") as stream:
            return stream.get_final_response()

    def __call__(self, body: bytes, chunks: list[bytes], provider: str) -> None:
        self.body = body
        self.run[provider]()


class OverBudget(BaseException):
    """Raised by the timer inside a contender that is taking too long (not an Exception, so
    no `except Exception` in the contender's code swallows it)."""


@contextmanager
def budget(seconds: float | None) -> Iterator[None]:
    """Stop the code inside after `seconds` of wall time with `OverBudget` (None: no limit)."""
    if not seconds:
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise OverBudget

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


IN_PROCESS: dict[str, Callable[[bytes, list[bytes], str], None]] = {
    "floor": floor,
    "rebuild": rebuild_whole,
    "feed": feed_chunks,
    "capture": capture_chunks,
}
