"""What the official anthropic SDK's Bedrock and Vertex clients make of a recorded stream.

`AnthropicBedrock` decodes the AWS event stream itself (botocore's parser) and folds the inner
Messages events with the SDK's stream helper; `AnthropicVertex` reads Vertex's SSE with the same
helper. Both are pointed at an in-memory transport (the SDK's own `httpx2`) with fake
credentials: nothing goes over a network, and the request signing runs but reaches no one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anthropic
import httpx2

from tests.oracles import quiet_dump_warnings

EVENTSTREAM = "application/vnd.amazon.eventstream"


@contextmanager
def _answering(body: bytes, content_type: str) -> Iterator[httpx2.Client]:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": content_type}, content=body)

    with httpx2.Client(transport=httpx2.MockTransport(answer)) as client:
        yield client


def _final(client: Any, beta: bool = False) -> dict[str, Any]:
    messages = client.beta.messages if beta else client.messages
    with messages.stream(
        model="anthropic.claude-test-v1:0",
        max_tokens=1024,
        messages=[{"role": "user", "content": "hi"}],
    ) as stream:
        message = stream.get_final_message()
    with quiet_dump_warnings():
        return dict(message.model_dump(mode="json"))


def bedrock_final_message(body: bytes) -> dict[str, Any]:
    """`AnthropicBedrock(...).messages.stream(...).get_final_message()` for an event stream."""
    with _answering(body, EVENTSTREAM) as http_client:
        client = anthropic.AnthropicBedrock(
            aws_access_key="AKIDEXAMPLE",
            aws_secret_key="fake-secret",
            aws_region="us-east-1",
            max_retries=0,
            http_client=http_client,
        )
        return _final(client)


def vertex_final_message(body: bytes, beta: bool = True) -> dict[str, Any]:
    """`AnthropicVertex(...).beta.messages.stream(...).get_final_message()` for an SSE body.

    The beta helper by default, as for `api.anthropic.com`: it knows every block type the plain
    one does, and `compaction` and `fallback` too.
    """
    with _answering(body, "text/event-stream") as http_client:
        client = anthropic.AnthropicVertex(
            region="us-east5",
            project_id="test-project",
            access_token="fake",
            max_retries=0,
            http_client=http_client,
        )
        return _final(client, beta)
