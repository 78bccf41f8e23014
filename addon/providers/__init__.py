"""One accumulator per API, by provider id. Adding an API: one module here plus one line below."""

from __future__ import annotations

from addon.providers.anthropic_messages import AnthropicMessages
from addon.providers.base import Accumulator, Part, Summary
from addon.providers.openai_chat import OpenAIChat
from addon.providers.openai_responses import OpenAIResponses

PROVIDERS: dict[str, type[Accumulator]] = {
    AnthropicMessages.provider: AnthropicMessages,
    OpenAIChat.provider: OpenAIChat,
    OpenAIResponses.provider: OpenAIResponses,
}

__all__ = ["PROVIDERS", "Accumulator", "Part", "Summary"]
