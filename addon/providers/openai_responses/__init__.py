"""OpenAI Responses API (`POST /v1/responses`): the descriptor; the fold is in `fold.py`,
the stream state in `state.py`, the readable summary in `summary.py`."""

from addon.providers.base import Provider, Route, Sample
from addon.providers.openai_responses.fold import OpenAIResponses

_STREAM_QUERY = r"(^|&)stream=true(&|$)"

PROVIDER = Provider(
    id=OpenAIResponses.provider,
    title="OpenAI Responses",
    accumulator=OpenAIResponses,
    routes=(
        Route("api.openai.com", r"^/v1/responses$"),
        # A background response's stream, resumed: `GET /v1/responses/<id>?stream=true`.
        Route("api.openai.com", r"^/v1/responses/resp_[^/]+$", ("GET",), _STREAM_QUERY),
        # Compatible servers, gateways, ChatGPT's `/backend-api/codex/responses`.
        Route("*", r"/responses$"),
        Route("*", r"/responses/resp_[^/]+$", ("GET",), _STREAM_QUERY),
    ),
    samples=tuple(
        Sample(
            "api.openai.com",
            "/v1/responses",
            {"model": "gpt-4o-mini", "input": "Hello", "stream": True},
            answer,
            headers=(("authorization", "Bearer sk-proj-FAKE-flows-key-1111111111"),),
        )
        for answer in (
            "ccproxy/codex_responses.sse",
            "ccproxy/codex_responses_tools.sse",
            "ccproxy/codex_responses_thinking.sse",
            "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
            "sdk/openai-responses/dotnet.StreamingResponsesWithReasoningSummary.e0.sse",
        )
    ),
)

__all__ = ["PROVIDER", "OpenAIResponses"]
