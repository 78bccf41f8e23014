"""Which flows are LLM calls: official hosts, the same paths elsewhere, and user routes."""

from __future__ import annotations

import pytest

from addon.routing import Router, parse_route


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
    assert Router().provider_for(host, port, path) == provider


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("api.anthropic.com", "/v1/messages/count_tokens"),
        ("api.anthropic.com", "/v1/models"),
        ("api.openai.com", "/v1/embeddings"),
        ("api.openai.com", "/v1/responses/resp_1/input_items"),
        ("example.com", "/"),
        ("example.com", "/messages"),
    ],
)
def test_other_paths_are_left_alone(host, path):
    assert Router().provider_for(host, 443, path) is None


def test_user_route_matches_host_with_port_and_wins_over_defaults():
    router = Router((parse_route("llm.internal:8080 ^/api/chat$ openai-chat"),))
    assert router.provider_for("llm.internal", 8080, "/api/chat") == "openai-chat"
    assert router.provider_for("llm.internal", 9090, "/api/chat") is None


def test_user_route_host_glob():
    router = Router((parse_route("*.corp ^/gen$ anthropic-messages"),))
    assert router.provider_for("a.corp", 443, "/gen") == "anthropic-messages"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("only-two parts", "needs three parts"),
        ("host ^/x$ gemini", "unknown provider 'gemini'"),
        ("host /x( openai-chat", "bad path regex"),
    ],
)
def test_bad_route_is_refused_with_a_clear_message(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_route(spec)
