"""The live path's speed-ups give the same answers as the plain code they stand for."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import addon.record.answer as answer
from addon.providers import Provider
from addon.record.answer import StreamRebuild
from addon.record.routing import CompiledRoute, Router, parse_route
from tests.test_record import BODIES, _event_chunks

HOSTS = [
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
    "bedrock-runtime.us-east-1.amazonaws.com",
    "127.0.0.1",
    "localhost",
    "gateway.example",
    "API.OpenAI.com",
]
PATHS = [
    "/v1/chat/completions",
    "/v1/messages",
    "/v1/responses",
    "/v1/completions",
    "/openai/deployments/x/chat/completions?api-version=1",
    "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    "/model/anthropic.claude/invoke-with-response-stream",
    "/model/x/converse-stream",
    "/api/chat",
    "/api/generate",
    "/v1/nothing",
    "/",
]


def naive(routes: tuple[CompiledRoute, ...], host: str, port: int, path: str, method: str):
    """The routing rule as written before the per-host memo: every route, in order."""
    host = host.lower()
    authority = f"{host}:{port}"
    path, _, query = path.partition("?")
    for route in routes:
        if route.matches(host, authority, method.upper(), path, query):
            return route.provider
    return None


@settings(max_examples=300, deadline=None)
@given(
    host=st.sampled_from(HOSTS) | st.text("abc.-*", max_size=8),
    port=st.sampled_from([80, 443, 8080, 11434]),
    path=st.sampled_from(PATHS) | st.text("/abcv1?=", max_size=12),
    method=st.sampled_from(["POST", "GET", "post", "HEAD"]),
)
def test_routing_by_host_memo_picks_what_every_route_in_order_picks(host, port, path, method):
    router = Router((parse_route("gateway.example:8080 /v1/nothing openai-chat"),))
    expected = naive(router.routes, host, port, path, method)
    assert router.provider_for(host, port, path, method) is expected
    assert router.provider_for(host, port, path, method) is expected  # from the memo


def test_routing_memo_is_bounded(monkeypatch):
    monkeypatch.setattr("addon.record.routing.HOSTS_REMEMBERED", 4)
    router = Router()
    for n in range(10):
        router.provider_for(f"h{n}.example", 443, "/v1/messages")
    assert len(router._by_host) <= 4
    assert router.provider_for("api.anthropic.com", 443, "/v1/messages") is not None


@pytest.mark.parametrize("hold", [1, 2 << 10, 8 << 10, 16 << 10, 1 << 30])
@pytest.mark.parametrize(("provider", "body"), BODIES[::9])
def test_any_hold_size_gives_the_same_record_and_first_token_chunk(
    monkeypatch, hold: int, provider: str | Provider, body: bytes
):
    chunks = _event_chunks(body)
    monkeypatch.setattr(answer, "HOLD_BYTES", hold)
    now = [0.0]
    live = StreamRebuild(provider, clock=lambda: now[0])
    for number, chunk in enumerate(chunks):
        now[0] = float(number)
        live.feed(chunk)
    whole = StreamRebuild(provider)
    whole.feed(b"".join(chunks))
    assert live.finish() == whole.finish()
    monkeypatch.setattr(answer, "HOLD_BYTES", 1)
    reference = StreamRebuild(provider, clock=lambda: now[0])
    for number, chunk in enumerate(chunks):
        now[0] = float(number)
        reference.feed(chunk)
    assert live.first_token_at == reference.first_token_at


def test_host_patterns_are_globs_as_before():
    assert fnmatchcase("a.example", "*.example")
    router = Router((parse_route("*.example /v1/x openai-chat"),))
    assert router.provider_for("a.example", 443, "/v1/x") is not None
    assert router.provider_for("a.other", 443, "/v1/x") is None
