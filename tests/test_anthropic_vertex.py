"""Claude on Vertex AI: the Messages fold under its own id, exact against `AnthropicVertex`."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import orjson
import pytest

from addon.providers.anthropic_messages import AnthropicMessages
from addon.providers.anthropic_vertex import PROVIDER, AnthropicVertex
from addon.wire.sse import SSEDecoder
from tests.oracles import CORPUS, corpus_streams, strip_nulls
from tests.oracles.anthropic_clouds import vertex_final_message
from tests.test_anthropic_messages import SDK_WRONG, sdk_api_shape

STREAMS = corpus_streams("sdk/anthropic") + [
    path for path in corpus_streams("ccproxy") if path.name.startswith("claude_messages")
]


def rebuild(body: bytes) -> tuple[Any, AnthropicVertex]:
    decoder = SSEDecoder()
    acc = AnthropicVertex()
    acc.feed_all(decoder.feed(body))
    acc.feed_all(decoder.close())
    acc.finish()
    return acc.result(), acc


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(
        b"event: %s\ndata: %s\n\n" % (e["type"].encode(), orjson.dumps(e)) for e in events
    )


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_recorded_stream_rebuilds_what_anthropic_vertex_builds(path: Path) -> None:
    """Vertex streams the Messages events unchanged: every Anthropic recording serves."""
    body = path.read_bytes()
    ours = strip_nulls(rebuild(body)[0])
    sdk = strip_nulls(vertex_final_message(body))
    if path.name in SDK_WRONG:
        sdk = sdk_api_shape(path, sdk)
    assert ours == sdk


def test_vertex_shaped_stream_rebuilds_what_the_plain_helper_builds() -> None:
    body = sse(
        {
            "type": "message_start",
            "message": {
                "id": "msg_vrtx_01ABC",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-20250514",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": 12,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": 1,
                },
            },
        },
        {"type": "ping"},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
        {"type": "message_stop"},
    )
    response, acc = rebuild(body)
    assert acc.errors == [] and acc.done
    assert strip_nulls(response) == strip_nulls(vertex_final_message(body, beta=False))
    assert response["content"] == [{"type": "text", "text": "Hi!"}]


def test_vertex_fold_is_the_messages_fold_under_its_own_id() -> None:
    assert AnthropicVertex.provider == PROVIDER.id == "anthropic-vertex"
    assert issubclass(AnthropicVertex, AnthropicMessages)
    assert PROVIDER.accumulator is AnthropicVertex


def routed(host: str, path: str) -> bool:
    return any(fnmatch(host, r.host) and re.search(r.path, path) for r in PROVIDER.routes)


MODEL_PATH = "/v1/projects/my-project/locations/{}/publishers/anthropic/models/{}"


@pytest.mark.parametrize(
    ("host", "path"),
    [
        (
            "us-east5-aiplatform.googleapis.com",
            MODEL_PATH.format("us-east5", "claude-sonnet-4@20250514:streamRawPredict"),
        ),
        (
            "europe-west1-aiplatform.googleapis.com",
            MODEL_PATH.format("europe-west1", "claude-3-5-haiku@20241022:rawPredict"),
        ),
        ("aiplatform.googleapis.com", MODEL_PATH.format("global", "claude-opus-4-1:rawPredict")),
        (
            "127.0.0.1:8443",
            "/vertex" + MODEL_PATH.format("global", "claude-sonnet-4-5@20250929:streamRawPredict"),
        ),
        (
            "us-east5-aiplatform.googleapis.com",
            MODEL_PATH.replace("/v1/", "/v1beta1/").format("us-east5", "claude-x:streamRawPredict"),
        ),
    ],
)
def test_vertex_message_paths_are_routed(host: str, path: str) -> None:
    assert routed(host, path)


@pytest.mark.parametrize(
    "path",
    [
        MODEL_PATH.format("us-east5", "count-tokens:rawPredict"),
        "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0:streamGenerateContent",
        MODEL_PATH.format("us-east5", "claude-sonnet-4@20250514:predict"),
    ],
)
def test_other_vertex_paths_are_not_routed(path: str) -> None:
    assert not routed("us-east5-aiplatform.googleapis.com", path)


def test_descriptor_streams_sse_and_records_raw_predict_json_as_it_is() -> None:
    assert PROVIDER.framing_for("text/event-stream; charset=utf-8", "/x") is SSEDecoder
    assert PROVIDER.framing_for("application/json", "/x:rawPredict") is None
    for sample in PROVIDER.samples:
        response, acc = rebuild((CORPUS / sample.answer).read_bytes())
        assert acc.done and not acc.errors and response is not None
