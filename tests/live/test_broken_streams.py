"""Cut connections: the record is still written, `complete: false`, with what arrived and why.

The partial response must be exactly the offline rebuild of the bytes that did pass.
"""

from __future__ import annotations

import httpx2
import pytest

from addon import rebuild
from addon.wire.encoding import ContentDecoder
from tests.live.apps import APIS, Run, answer, run_anthropic
from tests.live.proxy import Mitmdump
from tests.live.upstream import Upstream

ONE_STREAM_PER_API = {
    "anthropic-messages": "sdk/anthropic/tool_use_response.sse",
    "openai-chat": "sdk/openai-chat/test_parse_pydantic_tool.c6aa7e397b71.sse",
    "openai-responses": "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
}
REQUEST = {"model": "test-model", "stream": True}
# mitmproxy's own words for the two ways a stream breaks (in the flow's error).
UPSTREAM_CUT = "peer closed connection without sending complete message body"
CLIENT_GONE = "Client disconnected"


def plain_bytes(wire: bytes, encoding: str) -> bytes:
    """What the partial (maybe compressed) body decodes to, as far as it goes."""
    if not encoding:
        return wire
    return ContentDecoder(encoding).feed(wire)


def assert_partial_record(record: dict, provider: str, wire: bytes, encoding: str, error: str):
    assert record["complete"] is False
    assert record["errors"][0].startswith("flow error: "), record["errors"]
    assert error in record["errors"][0]
    offline = rebuild(provider, plain_bytes(wire, encoding))
    assert offline["response"] is not None, "the cut should leave some content"
    assert record["response"] == offline["response"]
    assert record["events"] == offline["events"] > 0


@pytest.mark.parametrize("encoding", ["", "gzip"], ids=["plain", "gzip"])
@pytest.mark.parametrize("provider", sorted(ONE_STREAM_PER_API))
def test_upstream_cut_mid_stream_gives_an_incomplete_record_with_the_partial_answer(
    upstream: Upstream, reverse_proxy: Mitmdump, provider: str, encoding: str
):
    plan = answer(ONE_STREAM_PER_API[provider], encoding=encoding)
    plan.cut_after = len(plan.pieces) // 2
    upstream.add(plan)
    url = f"{reverse_proxy.url}/p/{plan.key}{APIS[provider].api_path}"
    received = []
    with (
        httpx2.Client(trust_env=False) as client,
        pytest.raises(httpx2.RemoteProtocolError),  # the cut reaches the client as a cut
        client.stream("POST", url, json=REQUEST) as response,
    ):
        received.extend(response.iter_raw())
    assert plan.outcome == "cut"
    assert b"".join(received) == plan.wire_body
    record = reverse_proxy.record_for(plan.key)
    assert_partial_record(record, provider, plan.wire_body, encoding, UPSTREAM_CUT)
    assert record["status_code"] == 200


def test_upstream_cut_reaches_the_sdk_app_and_the_record_keeps_the_partial_message(
    upstream: Upstream, regular_proxy: Mitmdump
):
    run = Run()
    plan = answer(ONE_STREAM_PER_API["anthropic-messages"], run)
    plan.cut_after = len(plan.pieces) - 3
    upstream.add(plan)
    with (
        httpx2.Client(proxy=regular_proxy.url, trust_env=False) as client,
        pytest.raises(httpx2.RemoteProtocolError),  # the SDK passes httpx's error on
    ):
        run_anthropic(upstream.base(plan), client, run)
    assert run.events > 0
    record = regular_proxy.record_for(plan.key)
    assert_partial_record(record, "anthropic-messages", plan.wire_body, "", UPSTREAM_CUT)
    assert record["response"]["content"], "the text and tool call that arrived are kept"


@pytest.mark.parametrize("encoding", ["", "br"], ids=["plain", "br"])
@pytest.mark.parametrize("provider", sorted(ONE_STREAM_PER_API))
def test_client_gone_mid_stream_gives_an_incomplete_record_and_upstream_is_let_go(
    upstream: Upstream, reverse_proxy: Mitmdump, provider: str, encoding: str
):
    """The client reads a little and hangs up while upstream is quiet: mitmproxy notices,
    records what passed, and closes the upstream connection too."""
    plan = answer(ONE_STREAM_PER_API[provider], encoding=encoding)
    plan.stall_after = len(plan.pieces) // 2
    upstream.add(plan)
    url = f"{reverse_proxy.url}/p/{plan.key}{APIS[provider].api_path}"
    before_stall = sum(len(piece) for piece in plan.pieces[: plan.stall_after])
    received = 0
    with (
        httpx2.Client(trust_env=False) as client,
        client.stream("POST", url, json=REQUEST) as response,
    ):
        for chunk in response.iter_raw():
            received += len(chunk)
            if received >= before_stall:
                break  # everything upstream will send has arrived: hang up
    assert plan.finished.wait(5)
    assert plan.outcome == "client gone"
    record = reverse_proxy.record_for(plan.key)
    assert_partial_record(record, provider, plan.wire_body, encoding, CLIENT_GONE)


def test_upstream_cut_before_the_body_gives_an_incomplete_record_without_a_response(
    upstream: Upstream, reverse_proxy: Mitmdump
):
    plan = answer(ONE_STREAM_PER_API["openai-responses"])
    plan.cut_after = 0
    upstream.add(plan)
    url = f"{reverse_proxy.url}/p/{plan.key}/v1/responses"
    with (
        httpx2.Client(trust_env=False) as client,
        pytest.raises(httpx2.RemoteProtocolError),
        client.stream("POST", url, json=REQUEST) as response,
    ):
        response.read()
    record = reverse_proxy.record_for(plan.key)
    assert record["complete"] is False
    assert record["errors"][0].startswith("flow error: ")
    assert UPSTREAM_CUT in record["errors"][0]
    assert record["response"] is None
    assert record["status_code"] == 200


def test_client_hanging_up_after_the_terminal_event_leaves_a_complete_record(
    upstream: Upstream, reverse_proxy: Mitmdump
):
    """The openai SDK closes at `[DONE]`; if the body's last framing is not there yet, the
    flow errors, but the answer was whole: complete, with the flow error as a warning."""
    plan = answer(ONE_STREAM_PER_API["openai-chat"])
    plan.pauses[-1] = 1.0  # the end of the chunked body comes late
    upstream.add(plan)
    url = f"{reverse_proxy.url}/p/{plan.key}/v1/chat/completions"
    with (
        httpx2.Client(trust_env=False) as client,
        client.stream("POST", url, json=REQUEST) as response,
    ):
        received = b""
        for chunk in response.iter_raw():
            received += chunk
            if received.endswith(b"data: [DONE]\n\n"):
                break
    assert received == plan.full_wire_body
    record = reverse_proxy.record_for(plan.key)
    assert record["complete"] is True, record["errors"]
    assert record["errors"] == []
    assert any(
        w.startswith("flow error after the answer was complete: ") and CLIENT_GONE in w
        for w in record["warnings"]
    ), record["warnings"]
    assert record["response"] == rebuild("openai-chat", plan.body)["response"]
