"""Claude on Google Vertex AI: the Anthropic Messages stream under Vertex's own paths.

`POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}
:streamRawPredict` streams the same Server-Sent Events as `api.anthropic.com/v1/messages`, and
`:rawPredict` answers with the same Message JSON, so `AnthropicMessages` folds both unchanged;
this provider only gives them their own id and routes. `count-tokens:rawPredict` counts tokens
and is not routed.
"""

from __future__ import annotations

from addon.providers.anthropic_messages import AnthropicMessages
from addon.providers.base import Provider, Route, Sample

_PATH = (
    r"/projects/[^/]+/locations/[^/]+/publishers/anthropic/models/"
    r"(?!count-tokens:)[^/:]+:(rawPredict|streamRawPredict)$"
)


class AnthropicVertex(AnthropicMessages):
    """The Messages fold, for answers that came through Vertex AI."""

    provider = "anthropic-vertex"


PROVIDER = Provider(
    id=AnthropicVertex.provider,
    title="Anthropic on Vertex AI",
    accumulator=AnthropicVertex,
    routes=(
        Route("*-aiplatform.googleapis.com", _PATH),
        Route("aiplatform.googleapis.com", _PATH),
        Route("*", _PATH),
    ),
    samples=(
        Sample(
            host="us-east5-aiplatform.googleapis.com",
            path=(
                "/v1/projects/test-project/locations/us-east5/publishers/anthropic/models/"
                "claude-sonnet-4@20250514:streamRawPredict"
            ),
            request={
                "anthropic_version": "vertex-2023-10-16",
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": "Hello"}],
                "stream": True,
            },
            answer="sdk/anthropic/basic_response.sse",
            headers=(("authorization", "Bearer fake-access-token"),),
        ),
    ),
)
