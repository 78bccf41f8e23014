"""Every API llm-rebuild knows, by descriptor. Adding an API: one module plus one line below."""

from __future__ import annotations

from addon.providers import anthropic_messages, openai_chat, openai_responses
from addon.providers.base import Accumulator, Part, Provider, Route, Sample, Summary, Usage

REGISTRY: tuple[Provider, ...] = (
    anthropic_messages.PROVIDER,
    openai_chat.PROVIDER,
    openai_responses.PROVIDER,
)

PROVIDERS: dict[str, Provider] = {provider.id: provider for provider in REGISTRY}

__all__ = [
    "PROVIDERS",
    "REGISTRY",
    "Accumulator",
    "Part",
    "Provider",
    "Route",
    "Sample",
    "Summary",
    "Usage",
]
