"""OpenAI Chat Completions (`POST /v1/chat/completions`): the descriptor; the fold is in
`fold.py`, the merge rules in `merge.py`, the readable summary in `summary.py`."""

from addon.providers.base import Provider, Route, Sample
from addon.providers.openai_chat.fold import OpenAIChat

PROVIDER = Provider(
    id=OpenAIChat.provider,
    title="OpenAI Chat Completions",
    accumulator=OpenAIChat,
    routes=(
        Route("api.openai.com", r"^/v1/chat/completions$"),
        # Compatible servers and gateways, also below a prefix (Azure's `/openai/deployments/…`).
        Route("*", r"/chat/completions$"),
    ),
    samples=tuple(
        Sample(
            "api.openai.com",
            "/v1/chat/completions",
            {"model": "model", "messages": [{"role": "user", "content": "Hello"}], "stream": True},
            answer,
            headers=(("authorization", "Bearer sk-proj-FAKE-flows-key-1111111111"),),
        )
        for answer in (
            "ccproxy/copilot_chat_completions.sse",
            "ccproxy/copilot_chat_completions_tools.sse",
            "sdk/openai-chat/test_parse_pydantic_model_multiple_choices.a491adda08c3.sse",
            "sdk/openai-chat/test_content_logprobs_events.83b060bae42e.sse",
            "sdk/openai-chat/test_parse_max_tokens_reached.4cc50a6135d2.sse",
        )
    ),
)

__all__ = ["PROVIDER", "OpenAIChat"]
