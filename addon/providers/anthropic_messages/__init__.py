"""Anthropic Messages (`POST /v1/messages`): the descriptor; the fold is in `fold.py`, a
streamed block in `block.py`, the readable summary in `summary.py`."""

from addon.providers.anthropic_messages.block import TOOL_USE_TYPES
from addon.providers.anthropic_messages.fold import AnthropicMessages
from addon.providers.base import Provider, Route, Sample

PROVIDER = Provider(
    id=AnthropicMessages.provider,
    title="Anthropic Messages",
    accumulator=AnthropicMessages,
    routes=(
        Route("api.anthropic.com", r"^/v1/messages$"),
        # Gateways, Azure AI Foundry (`/anthropic/v1/messages`), `--mode reverse:` set-ups.
        Route("*", r"/v1/messages$"),
    ),
    samples=tuple(
        Sample(
            "api.anthropic.com",
            "/v1/messages",
            {
                "model": "model",
                "messages": [{"role": "user", "content": "Hello"}],
                "max_tokens": 1024,
                "stream": True,
            },
            answer,
            headers=(
                ("x-api-key", "sk-ant-api03-FAKE-flows-key-0000000000"),
                ("anthropic-version", "2023-06-01"),
            ),
        )
        for answer in (
            "ccproxy/claude_messages.sse",
            "ccproxy/claude_messages_tools.sse",
            "sdk/anthropic/tool_use_response.sse",
            "sdk/anthropic/stream-a-refusal.sse",
            "sdk/anthropic/stream-a-toolrefusal.sse",
            "sdk/anthropic/incomplete_partial_json_response.sse",
        )
    ),
)

__all__ = ["PROVIDER", "TOOL_USE_TYPES", "AnthropicMessages"]
