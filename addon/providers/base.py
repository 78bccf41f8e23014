"""What one API is to llm-rebuild: a descriptor (routes, framing, accumulator) and a fold.

A provider module holds everything about its API: the `Provider` descriptor (id, routes with
their methods, the framing of its streams, a sample request for `flows/`) and its
`Accumulator` (the fold, usage normalisation, the human summary). The registry in
`addon/providers/__init__.py` lists the descriptors; nothing else names an API.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from addon.wire import Event, Framing
from addon.wire.sse import SSEDecoder

JSON = dict[str, Any]


@dataclass(slots=True)
class Part:
    """One piece of an answer, in order, for people to read (log line, mitmweb view)."""

    kind: str  # "text", "thinking", "tool_call", "refusal", "error", or a block/item type
    text: str
    name: str | None = None  # tool name for tool calls


@dataclass(slots=True)
class Summary:
    """The readable gist of a rebuilt response; derived from the API object, never stored in it."""

    model: str | None = None
    stop_reason: str | None = None
    usage: JSON = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)

    @property
    def tool_calls(self) -> list[str]:
        return [p.name or "?" for p in self.parts if p.kind == "tool_call"]


@dataclass(slots=True)
class Usage:
    """Token counts in one vocabulary for every API; None where the API does not say.

    `input_tokens` counts every input token, cached ones included (as OpenTelemetry and OpenAI
    count them): Anthropic reports cache reads and writes apart, so its provider adds them.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }


def count(value: Any) -> int | None:
    """A token count as the API sent it, or None when it is not a number."""
    return value if type(value) is int else None


class Accumulator(ABC):
    """Folds one stream's events into the API's non-streaming response object.

    Pure data in and out: no mitmproxy, no I/O, and no knowledge of the framing the events
    came in. `feed` never raises; whatever could not be used is written to `errors` and the
    partial object is kept.
    """

    provider: ClassVar[str]

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.unknown: list[JSON] = []
        """Events this accumulator does not know, kept as they came: {"event", "data"}."""
        self.extras: JSON = {}
        """What the stream carried beside the API object (e.g. Bedrock's invocation metrics)."""
        self.done = False
        """The stream's terminal event arrived."""
        self.content_started = False
        """The first content delta arrived (for time to first token)."""

    def feed(self, event: Event) -> None:
        try:
            self._feed(event)
        except Exception as exc:  # one bad event must not lose the rest of the stream
            self.errors.append(f"{event.event}: could not apply event: {exc!r}")

    def feed_all(self, events: list[Event]) -> None:
        """`feed` each event in turn: one call per chunk instead of one more per event."""
        feed = self._feed
        for event in events:
            try:
                feed(event)
            except Exception as exc:  # as in `feed`
                self.errors.append(f"{event.event}: could not apply event: {exc!r}")

    @abstractmethod
    def _feed(self, event: Event) -> None: ...

    @abstractmethod
    def result(self) -> JSON | None:
        """The API-exact object so far (None before anything usable arrived)."""

    def finish(self) -> None:
        """End of stream: note what was left unfinished (the default notes a missing end)."""
        if not self.done:
            self.errors.append("stream ended before its terminal event")

    @staticmethod
    @abstractmethod
    def summarize(response: JSON) -> Summary:
        """Readable gist of a response object of this API (streamed or not)."""

    @staticmethod
    def usage(response: JSON) -> Usage:
        """The response's token counts in the shared vocabulary (all None by default)."""
        return Usage()

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        """Errors carried inside a complete non-streamed response body (none by default)."""
        return []


@dataclass(frozen=True, slots=True)
class Route:
    """Where an API is called: a host glob, a path pattern, the methods, maybe a query."""

    host: str
    """A glob over "host" or "host:port", lower case ("*" for any host)."""
    path: str
    """A regex searched in the path without its query string."""
    methods: tuple[str, ...] = ("POST",)
    query: str | None = None
    """A regex the query string must contain (e.g. `stream=true`), or None."""


@dataclass(frozen=True, slots=True)
class Sample:
    """A recorded answer of this API as a client would get it: for `flows/` and tests."""

    host: str
    path: str
    request: JSON
    """The request body a client sends."""
    answer: str
    """A file under `tests/corpus/` holding the recorded (streamed) answer."""
    content_type: str = "text/event-stream"
    headers: tuple[tuple[str, str], ...] = ()
    """Request headers a client sends, fake credentials included."""


@dataclass(frozen=True)
class Provider:
    """Everything about one API that the pipeline needs; subclass to override `framing_for`."""

    id: str
    title: str
    accumulator: type[Accumulator]
    routes: tuple[Route, ...]
    framing: Callable[[], Framing] = SSEDecoder
    """How its streamed answers are cut into events."""
    stream_types: tuple[str, ...] = ("text/event-stream",)
    """Content types (prefixes, lower case) of a streamed answer."""
    samples: tuple[Sample, ...] = ()
    usage_headers: tuple[str, str] | None = None
    """Response headers with input and output token counts, for bodies that carry none
    (Bedrock's `x-amzn-bedrock-input-token-count` / `-output-token-count`)."""

    def framing_for(self, content_type: str, path: str) -> Callable[[], Framing] | None:
        """The framing of an answer with this content type, or None for a plain JSON body."""
        if content_type.lower().startswith(self.stream_types):
            return self.framing
        return None
