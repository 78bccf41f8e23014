"""HTTPS and HTTP/2 end to end: client -(h2, TLS)-> mitmdump -(h2, TLS)-> upstream.

mitmproxy speaks HTTP/2 only over TLS with ALPN (no h2c to upstreams), so the fake upstream
serves h2 over TLS with a throw-away certificate (`--ssl-insecure` lets mitmdump accept it)
and the client trusts the CA mitmdump made in its own confdir. Chunks are DATA frames here.
The last test is the documented regular-proxy set-up: HTTPS_PROXY and SSL_CERT_FILE only.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import anthropic
import httpx2
import pytest

from addon import rebuild
from tests.live.apps import APIS, Run, answer, comparable, run_anthropic, run_openai_responses
from tests.live.proxy import Mitmdump
from tests.live.upstream import Upstream

REQUEST = {"model": "test-model", "stream": True}
STREAMS = {
    "anthropic-messages": "sdk/anthropic/tool_use_response.sse",
    "openai-chat": "sdk/openai-chat/test_parse_pydantic_tool.c6aa7e397b71.sse",
    "openai-responses": "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
}


@pytest.fixture(scope="module")
def h2_proxy(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mitmdump]:
    proxy = Mitmdump(
        tmp_path_factory.mktemp("h2"),
        "--mode",
        f"reverse:https://127.0.0.1:{upstream.tls_port}",
        "--ssl-insecure",
    )
    with proxy:
        yield proxy


@pytest.fixture
def h2_client(h2_proxy: Mitmdump) -> Iterator[httpx2.Client]:
    trust = ssl.create_default_context(cafile=str(h2_proxy.ca_cert))
    with httpx2.Client(http2=True, verify=trust, trust_env=False) as client:
        yield client


def https_url(proxy: Mitmdump, key: str) -> str:
    return f"https://127.0.0.1:{proxy.port}/p/{key}"


@pytest.mark.parametrize("encoding", ["", "gzip", "zstd"], ids=["plain", "gzip", "zstd"])
@pytest.mark.parametrize("provider", sorted(STREAMS))
def test_http2_stream_passes_unchanged_unbuffered_and_is_rebuilt(
    upstream: Upstream, h2_proxy: Mitmdump, h2_client: httpx2.Client, provider, encoding
):
    run = Run()
    plan = upstream.add(answer(STREAMS[provider], run, encoding=encoding))
    url = https_url(h2_proxy, plan.key) + APIS[provider].api_path
    chunks = []
    with h2_client.stream("POST", url, json=REQUEST) as response:
        assert response.http_version == "HTTP/2"
        for chunk in response.iter_raw():
            run.saw_event()
            chunks.append(chunk)
    assert plan.http_version == "HTTP/2"  # the proxy spoke h2 upstream too
    assert response.headers.get("content-encoding", "") == encoding
    assert b"".join(chunks) == plan.wire_body == plan.full_wire_body
    assert plan.gate_was_set and run.first_event_at < plan.sent[-1][0]
    record = h2_proxy.record_for(plan.key)
    assert record["complete"] is True, record["errors"]
    assert record["response"] == rebuild(provider, plan.body)["response"]


@pytest.mark.parametrize("runner", [run_anthropic, run_openai_responses])
def test_sdk_over_http2_gets_the_dumped_object(
    upstream: Upstream, h2_proxy: Mitmdump, h2_client: httpx2.Client, runner
):
    provider = "anthropic-messages" if runner is run_anthropic else "openai-responses"
    run = Run()
    plan = upstream.add(answer(STREAMS[provider], run))
    runner(https_url(h2_proxy, plan.key) + APIS[provider].sdk_prefix, h2_client, run)
    record = h2_proxy.record_for(plan.key)
    assert plan.http_version == "HTTP/2"
    assert record["complete"] is True, record["errors"]
    assert comparable(record["response"]) == comparable(run.final)


def test_http2_stream_reset_by_upstream_gives_an_incomplete_record(
    upstream: Upstream, h2_proxy: Mitmdump, h2_client: httpx2.Client
):
    plan = answer(STREAMS["anthropic-messages"])
    plan.cut_after = len(plan.pieces) // 2
    upstream.add(plan)
    url = https_url(h2_proxy, plan.key) + "/v1/messages"
    received = []
    with (
        pytest.raises(httpx2.RemoteProtocolError),
        h2_client.stream("POST", url, json=REQUEST) as response,
    ):
        received.extend(response.iter_raw())
    assert plan.outcome == "cut"
    assert b"".join(received) == plan.wire_body
    record = h2_proxy.record_for(plan.key)
    assert record["complete"] is False
    assert record["errors"][0].startswith("flow error: "), record["errors"]
    partial = rebuild("anthropic-messages", plan.wire_body)
    assert record["response"] == partial["response"] is not None


def test_sdk_with_only_https_proxy_and_ssl_cert_file_set_is_intercepted(
    upstream: Upstream, regular_proxy: Mitmdump, monkeypatch: pytest.MonkeyPatch
):
    """docs/live.md's regular proxy: the app is unchanged, two environment variables route it
    through mitmdump (CONNECT, then TLS with a certificate from mitmdump's CA) and trust it."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", regular_proxy.url)
    monkeypatch.setenv("SSL_CERT_FILE", str(regular_proxy.ca_cert))
    run = Run()
    plan = upstream.add(answer(STREAMS["anthropic-messages"], run))
    client = anthropic.Anthropic(api_key="test-key", base_url=upstream.base(plan, tls=True))
    with client.messages.stream(
        model="claude-test", max_tokens=1024, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        for _ in stream:
            run.saw_event()
        final = stream.get_final_message().model_dump(mode="json")
    record = regular_proxy.record_for(plan.key)
    assert record["request"]["url"].startswith("https://127.0.0.1:")
    # The SDK's default client offers only HTTP/1.1; mitmproxy offers upstream what it offered.
    assert plan.http_version == "HTTP/1.1"
    assert record["complete"] is True, record["errors"]
    assert comparable(record["response"]) == comparable(final)
    assert plan.gate_was_set and run.first_event_at < plan.sent[-1][0]


def test_http2_through_the_regular_proxy(upstream: Upstream, regular_proxy: Mitmdump):
    """CONNECT, then h2 on both sides of mitmdump (the client offers h2 over TLS)."""
    run = Run()
    plan = upstream.add(answer(STREAMS["openai-chat"], run, encoding="br"))
    trust = ssl.create_default_context(cafile=str(regular_proxy.ca_cert))
    url = upstream.base(plan, tls=True) + "/v1/chat/completions"
    chunks = []
    with (
        httpx2.Client(http2=True, proxy=regular_proxy.url, verify=trust, trust_env=False) as client,
        client.stream("POST", url, json=REQUEST) as response,
    ):
        assert response.http_version == "HTTP/2"
        for chunk in response.iter_raw():
            run.saw_event()
            chunks.append(chunk)
    assert plan.http_version == "HTTP/2"
    assert b"".join(chunks) == plan.wire_body == plan.full_wire_body
    assert plan.gate_was_set and run.first_event_at < plan.sent[-1][0]
    record = regular_proxy.record_for(plan.key)
    assert record["complete"] is True, record["errors"]
    assert record["response"] == rebuild("openai-chat", plan.body)["response"]
