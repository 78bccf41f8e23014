"""Token counts of every API in one vocabulary (`Usage`), read from recorded answers.

`input_tokens` always counts the cached input too: OpenAI's `prompt_tokens` and `input_tokens`
already do, Anthropic's `input_tokens` leave cache reads and writes out and get them added.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from addon import rebuild
from addon.providers.anthropic_messages import AnthropicMessages
from addon.providers.base import Usage
from addon.providers.openai_chat import OpenAIChat
from addon.providers.openai_responses import OpenAIResponses
from tests.oracles import CORPUS

ACCUMULATORS: dict[str, Any] = {
    "anthropic-messages": AnthropicMessages,
    "openai-chat": OpenAIChat,
    "openai-responses": OpenAIResponses,
}


Count = int | None


def usage(total_in: Count, out: Count, read: Count, write: Count, reason: Count) -> Usage:
    """Input (cached included), output, cache read, cache write, reasoning."""
    return Usage(total_in, out, read, write, reason)


STREAMED = [
    # Anthropic: no cache in this answer, and no reasoning count in the API at all.
    ("anthropic-messages", "ccproxy/claude_messages.sse", usage(24, 41, 0, 0, None)),
    # Responses: cached input and reasoning output, as `*_tokens_details`.
    ("openai-responses", "ccproxy/codex_responses_thinking.sse", usage(2259, 395, 2176, None, 320)),
    (
        "openai-responses",
        "sdk/openai-responses/dotnet.StreamingResponsesWithReasoningSummary.e0.sse",
        usage(45, 3506, 0, None, 2240),
    ),
    # Chat, OpenAI's own shape (Copilot): no reasoning count although o3-mini reasoned.
    ("openai-chat", "ccproxy/copilot_chat_completions_thinking.sse", usage(27, 372, 0, None, None)),
    # DeepSeek: `prompt_tokens_details.cached_tokens` and `prompt_cache_hit_tokens` agree.
    (
        "openai-chat",
        "chat-compat/openllmetry__test_streaming_with_api_usage_capture__0.sse",
        usage(12, 89, 0, None, None),
    ),
    # OpenRouter: cached input, reasoning, and a cache write count (0 here).
    (
        "openai-chat",
        "chat-compat/pydantic-ai__test_openrouter_stream_with_native_options__0.sse",
        usage(687, 187, 679, None, 118),
    ),
    (
        "openai-chat",
        "chat-compat/pydantic-ai__test_openrouter_advisor_tool_stream__0.sse",
        usage(888, 74, 0, 0, 0),
    ),
    # Groq: usage sent only inside `x_groq`, read where the non-streamed answer has it.
    (
        "openai-chat",
        "chat-compat/pydantic-ai__test_groq_model_web_search_tool_stream__0.sse",
        usage(5003, 359, None, None, None),
    ),
    (
        "openai-chat",
        "chat-compat/pydantic-ai__test_tool_use_failed_error_streaming__2.sse",
        usage(339, 58, None, None, 38),
    ),
    # Mistral: the three totals only.
    (
        "openai-chat",
        "chat-compat/pydantic-ai__test_mistral_model_thinking_part_iter__0.sse",
        usage(10, 232, None, None, None),
    ),
]


@pytest.mark.parametrize(("provider", "name", "expected"), STREAMED, ids=[s[1] for s in STREAMED])
def test_usage_of_a_rebuilt_corpus_answer(provider: str, name: str, expected: Usage) -> None:
    response = rebuild(provider, (CORPUS / name).read_bytes())["response"]
    assert ACCUMULATORS[provider].usage(response) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Bedrock-hosted Claude, non-streamed: a cache write, then a cache read of it.
        ("openllmetry__test_prompt_cache__0.json", usage(4 + 18131, 50, 0, 18131, None)),
        ("openllmetry__test_prompt_cache__1.json", usage(4 + 18131, 50, 18131, 0, None)),
    ],
)
def test_anthropic_input_counts_cache_reads_and_writes(name: str, expected: Usage) -> None:
    body = orjson.loads((CORPUS / "anthropic-nonstream" / name).read_bytes())
    assert AnthropicMessages.usage(body) == expected


def test_deepseek_cache_hits_count_as_cache_reads_when_no_details_are_sent() -> None:
    response = {
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 5,
            "prompt_cache_hit_tokens": 64,
            "prompt_cache_miss_tokens": 36,
        }
    }
    assert OpenAIChat.usage(response) == usage(100, 5, 64, None, None)


def test_openrouter_cache_write_tokens_are_cache_writes() -> None:
    response = {
        "usage": {
            "prompt_tokens": 2000,
            "completion_tokens": 9,
            "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 1800},
        }
    }
    assert OpenAIChat.usage(response) == usage(2000, 9, 0, 1800, None)


@pytest.mark.parametrize("accumulator", list(ACCUMULATORS.values()), ids=lambda a: a.provider)
@pytest.mark.parametrize(
    "response",
    [
        {},
        {"usage": None},
        {"usage": "n/a"},
        {"usage": {"prompt_tokens": "7", "input_tokens": True, "output_tokens": 1.5}},
    ],
)
def test_missing_or_odd_usage_gives_none_not_an_error(accumulator: Any, response: Any) -> None:
    assert accumulator.usage(response) == Usage()


def test_usage_as_dict_names_every_count() -> None:
    assert usage(1, 2, 3, 4, 5).as_dict() == {
        "input_tokens": 1,
        "output_tokens": 2,
        "cache_read_tokens": 3,
        "cache_write_tokens": 4,
        "reasoning_tokens": 5,
    }
