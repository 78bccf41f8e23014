"""What every per-API accumulator offers: a fold over SSE events that never raises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from addon.sse import ServerSentEvent

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


class Accumulator(ABC):
    """Folds one stream's events into the API's non-streaming response object.

    Pure data in and out: no mitmproxy, no I/O. `feed` never raises; whatever could not be
    used is written to `errors` and the partial object is kept.
    """

    provider: ClassVar[str]

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.unknown: list[JSON] = []
        """Events this accumulator does not know, kept as they came: {"event", "data"}."""
        self.done = False
        """The stream's terminal event arrived."""
        self.content_started = False
        """The first content delta arrived (for time to first token)."""

    def feed(self, event: ServerSentEvent) -> None:
        try:
            self._feed(event)
        except Exception as exc:  # one bad event must not lose the rest of the stream
            self.errors.append(f"{event.event}: could not apply event: {exc!r}")

    def feed_all(self, events: list[ServerSentEvent]) -> None:
        """`feed` each event in turn: one call per chunk instead of one more per event."""
        feed = self._feed
        for event in events:
            try:
                feed(event)
            except Exception as exc:  # as in `feed`
                self.errors.append(f"{event.event}: could not apply event: {exc!r}")

    @abstractmethod
    def _feed(self, event: ServerSentEvent) -> None: ...

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
    def response_complete(response: JSON) -> list[str]:
        """Errors carried inside a complete non-streamed response body (none by default)."""
        return []
