"""PLACEHOLDER — being written."""

from __future__ import annotations

from addon.providers.base import JSON, Accumulator, Summary
from addon.sse import ServerSentEvent


class AnthropicMessages(Accumulator):
    provider = "anthropic-messages"

    def _feed(self, event: ServerSentEvent) -> None:
        raise NotImplementedError

    def result(self) -> JSON | None:
        return None

    @staticmethod
    def summarize(response: JSON) -> Summary:
        return Summary()
