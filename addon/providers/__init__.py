"""Every API llm-rebuild knows, by descriptor. Adding an API: one module plus one line below."""

from __future__ import annotations

from addon.providers import (
    anthropic_messages,
    anthropic_vertex,
    bedrock_converse,
    bedrock_invoke,
    gemini,
    gemini_interactions,
    ollama,
    openai_chat,
    openai_completions,
    openai_responses,
)
from addon.providers.base import Accumulator, Part, Provider, Route, Sample, Summary, Usage

REGISTRY: tuple[Provider, ...] = (
    anthropic_messages.PROVIDER,
    openai_chat.PROVIDER,
    openai_responses.PROVIDER,
    openai_completions.PROVIDER,
    bedrock_invoke.PROVIDER,
    bedrock_converse.PROVIDER,
    anthropic_vertex.PROVIDER,
    gemini.PROVIDER,
    gemini.CODE_ASSIST_PROVIDER,
    gemini_interactions.PROVIDER,
    ollama.CHAT_PROVIDER,
    ollama.GENERATE_PROVIDER,
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
