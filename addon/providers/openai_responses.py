"""PLACEHOLDER — being written."""

from __future__ import annotations

from addon.providers.base import JSON, Accumulator, Summary
from addon.sse import ServerSentEvent


class OpenAIResponses(Accumulator):
    provider = "openai-responses"

    def _feed(self, event: ServerSentEvent) -> None:
        raise NotImplementedError

    def result(self) -> JSON | None:
        return None

    @staticmethod
    def summarize(response: JSON) -> Summary:
        return Summary()
