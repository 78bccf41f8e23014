"""Which flows are LLM calls: official hosts, the same paths elsewhere, and user routes."""

from __future__ import annotations

import pytest

from addon.record.routing import Router, parse_route


@pytest.mark.parametrize(
    ("host", "port", "path", "provider"),
    [
        ("api.anthropic.com", 443, "/v1/messages", "anthropic-messages"),
        ("api.anthropic.com", 443, "/v1/messages?beta=true", "anthropic-messages"),
        ("api.openai.com", 443, "/v1/chat/completions", "openai-chat"),
        ("api.openai.com", 443, "/v1/responses", "openai-responses"),
        ("api.openai.com", 443, "/v1/responses/resp_123?stream=true", "openai-responses"),
        ("localhost", 11434, "/v1/chat/completions", "openai-chat"),
        ("gw.example", 443, "/openai/deployments/gpt/chat/completions", "openai-chat"),
        ("gw.example", 443, "/claude/v1/messages", "anthropic-messages"),
        ("gw.example", 443, "/codex/v1/responses", "openai-responses"),
        ("API.ANTHROPIC.COM", 443, "/v1/messages", "anthropic-messages"),
    ],
)
def test_known_api_paths_route_to_their_provider(host, port, path, provider):
    method = "GET" if "stream=true" in path else "POST"
    routed = Router().provider_for(host, port, path, method)
    assert routed is not None and routed.id == provider


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("api.anthropic.com", "/v1/messages/count_tokens"),
        ("api.anthropic.com", "/v1/models"),
        ("api.openai.com", "/v1/embeddings"),
        ("api.openai.com", "/v1/responses/resp_1/input_items"),
        ("example.com", "/"),
        ("example.com", "/messages"),
        ("api.openai.com", "/v1/responses/input_tokens"),
        ("api.openai.com", "/v1/responses/resp_1"),
        ("api.openai.com", "/v1/responses/resp_1/cancel"),
        ("gw.example", "/v1/responses/input_tokens"),
    ],
)
def test_other_paths_are_left_alone(host, path):
    assert Router().provider_for(host, 443, path) is None


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "OPTIONS", "PUT"])
@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("api.anthropic.com", "/v1/messages"),
        ("api.openai.com", "/v1/chat/completions"),
        ("api.openai.com", "/v1/responses"),
    ],
)
def test_a_call_is_a_route_and_a_method(method, host, path):
    assert Router().provider_for(host, 443, path, method) is None


def test_a_stored_response_is_only_a_call_when_its_stream_is_resumed():
    router = Router()
    assert router.provider_for("api.openai.com", 443, "/v1/responses/resp_1", "GET") is None
    assert (
        router.provider_for("api.openai.com", 443, "/v1/responses/resp_1?stream=true", "POST")
        is None
    )
    resumed = router.provider_for(
        "api.openai.com", 443, "/v1/responses/resp_1?stream=true&starting_after=9", "GET"
    )
    assert resumed is not None and resumed.id == "openai-responses"


def test_every_registered_provider_is_routed_by_its_own_descriptor():
    from addon.providers import REGISTRY

    router = Router()
    for provider in REGISTRY:
        for sample in provider.samples:
            routed = router.provider_for(sample.host, 443, sample.path, "POST")
            assert routed is provider, (provider.id, sample.path)


def test_user_route_matches_host_with_port_and_wins_over_defaults():
    router = Router((parse_route("llm.internal:8080 ^/llm/chat$ openai-chat"),))
    routed = router.provider_for("llm.internal", 8080, "/llm/chat")
    assert routed is not None and routed.id == "openai-chat"
    assert router.provider_for("llm.internal", 9090, "/llm/chat") is None


def test_user_route_can_name_its_methods():
    router = Router((parse_route("llm.internal ^/api/stream$ openai-chat GET,POST"),))
    assert router.provider_for("llm.internal", 80, "/api/stream", "GET") is not None
    assert router.provider_for("llm.internal", 80, "/api/stream", "PUT") is None


def test_user_route_host_glob():
    router = Router((parse_route("*.corp ^/gen$ anthropic-messages"),))
    routed = router.provider_for("a.corp", 443, "/gen")
    assert routed is not None and routed.id == "anthropic-messages"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("only-two parts", "needs three or four parts"),
        ("host ^/x$ no-such-api", "unknown provider 'no-such-api'"),
        ("host /x( openai-chat", "bad path regex"),
    ],
)
def test_bad_route_is_refused_with_a_clear_message(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_route(spec)


@pytest.mark.parametrize(
    ("host", "path", "provider"),
    [
        # Azure AI Foundry: Claude under /anthropic, OpenAI models under /openai/v1 and /models
        ("my-res.services.ai.azure.com", "/anthropic/v1/messages", "anthropic-messages"),
        ("my-res.services.ai.azure.com", "/openai/v1/chat/completions", "openai-chat"),
        ("my-res.services.ai.azure.com", "/openai/v1/responses", "openai-responses"),
        (
            "my-res.services.ai.azure.com",
            "/models/chat/completions?api-version=2024-05-01-preview",
            "openai-chat",
        ),
        # Bedrock's Anthropic- and OpenAI-compatible endpoints
        ("bedrock-mantle.us-east-1.api.aws", "/anthropic/v1/messages", "anthropic-messages"),
        ("bedrock-runtime.us-east-1.amazonaws.com", "/openai/v1/chat/completions", "openai-chat"),
        ("bedrock-mantle.us-east-1.api.aws", "/v1/chat/completions", "openai-chat"),
        ("bedrock-mantle.us-east-1.api.aws", "/v1/responses", "openai-responses"),
        # Bedrock and Vertex themselves
        (
            "bedrock-runtime.eu-west-1.amazonaws.com",
            "/model/anthropic.claude-v2/invoke",
            "bedrock-invoke",
        ),
        (
            "bedrock-runtime-fips.us-east-1.amazonaws.com",
            "/model/x/converse-stream",
            "bedrock-converse",
        ),
        (
            "vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com",
            "/model/x/converse",
            "bedrock-converse",
        ),
        (
            "aiplatform.googleapis.com",
            "/v1/projects/p/locations/global/publishers/anthropic/models/claude:streamRawPredict",
            "anthropic-vertex",
        ),
        (
            "us-east5-aiplatform.googleapis.com",
            "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude:rawPredict",
            "anthropic-vertex",
        ),
        (
            "us-central1-aiplatform.googleapis.com",
            "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:streamGenerateContent",
            "gemini",
        ),
    ],
)
def test_cloud_and_compatible_endpoints_route_to_their_api(host, path, provider):
    routed = Router().provider_for(host, 443, path, "POST")
    assert routed is not None and routed.id == provider


def test_vertex_token_counting_is_not_a_call():
    path = "/v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict"
    assert Router().provider_for("us-east5-aiplatform.googleapis.com", 443, path, "POST") is None
