"""Byte for byte: the client gets exactly what upstream sent, compressed or not, at once.

A raw httpx client reads the body with `iter_raw()` (no content decoding) and compares it with
the bytes the fake upstream wrote; the record rebuilt from a compressed stream must equal the
offline rebuild of the plain body.
"""

from __future__ import annotations

import time

import httpx2
import pytest

from addon import rebuild
from tests.live.apps import APIS, Run, answer
from tests.live.proxy import Mitmdump
from tests.live.upstream import ENCODINGS, Plan, Upstream

ONE_STREAM_PER_API = {
    "anthropic-messages": "sdk/anthropic/stream-a-refusal.sse",
    "openai-chat": "sdk/openai-chat/test_content_logprobs_events.83b060bae42e.sse",
    "openai-responses": "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
}
REQUEST = {"model": "test-model", "stream": True}


def fetch_raw(client: httpx2.Client, url: str, run: Run) -> tuple[httpx2.Response, bytes]:
    """POST and read the body undecoded; the first bytes open the upstream's gate."""
    chunks = []
    with client.stream("POST", url, json=REQUEST) as response:
        for chunk in response.iter_raw():
            if chunk:
                run.saw_event()
                chunks.append(chunk)
    return response, b"".join(chunks)


def check_passthrough(
    provider: str, plan: Plan, run: Run, response: httpx2.Response, got: bytes, proxy: Mitmdump
) -> None:
    assert response.status_code == 200
    assert response.headers.get("content-encoding", "") == plan.encoding.removesuffix("-raw")
    assert response.headers["content-type"] == "text/event-stream"
    assert plan.finished.wait(5) and plan.outcome == "complete"
    assert got == plan.wire_body == plan.full_wire_body
    # No buffering: the client had bytes before upstream sent its last piece.
    assert plan.gate_was_set
    assert run.first_event_at is not None and run.first_event_at < plan.sent[-1][0]

    record = proxy.record_for(plan.key)
    plain = rebuild(provider, plan.body)
    assert record["complete"] is True, record["errors"]
    assert record["response"] == plain["response"]
    assert record["events"] == plain["events"]
    assert record["errors"] == plain["errors"] == []


@pytest.mark.parametrize(
    "encoding", ["", *ENCODINGS, "deflate-raw"], ids=["plain", *ENCODINGS, "deflate-raw"]
)
@pytest.mark.parametrize("provider", sorted(ONE_STREAM_PER_API))
def test_reverse_proxy_passes_bytes_unchanged_and_rebuilds_as_plain(
    upstream: Upstream, reverse_proxy: Mitmdump, provider: str, encoding: str
):
    run = Run()
    plan = upstream.add(answer(ONE_STREAM_PER_API[provider], run, encoding=encoding))
    url = f"{reverse_proxy.url}/p/{plan.key}{APIS[provider].api_path}"
    with httpx2.Client(trust_env=False) as client:
        response, got = fetch_raw(client, url, run)
    check_passthrough(provider, plan, run, response, got, reverse_proxy)


@pytest.mark.parametrize("encoding", ["", "gzip"], ids=["plain", "gzip"])
@pytest.mark.parametrize("provider", sorted(ONE_STREAM_PER_API))
def test_regular_proxy_passes_bytes_unchanged_and_rebuilds_as_plain(
    upstream: Upstream, regular_proxy: Mitmdump, provider: str, encoding: str
):
    run = Run()
    plan = upstream.add(answer(ONE_STREAM_PER_API[provider], run, encoding=encoding))
    url = upstream.base(plan) + APIS[provider].api_path
    with httpx2.Client(proxy=regular_proxy.url, trust_env=False) as client:
        response, got = fetch_raw(client, url, run)
    check_passthrough(provider, plan, run, response, got, regular_proxy)


def test_events_reach_the_client_spread_out_as_upstream_sends_them(
    upstream: Upstream, reverse_proxy: Mitmdump
):
    """Upstream sends one event every 30 ms: the client's reads are spread the same way."""
    events = [f'event: ping\ndata: {{"type": "ping", "n": {n}}}\n\n' for n in range(8)]
    body = "".join(events).encode()
    plan = upstream.add(Plan(body, max_piece=1, min_pause=0.03, max_pause=0.03))
    plan.pieces = [e.encode() for e in events]  # exactly one event per piece
    url = f"{reverse_proxy.url}/p/{plan.key}/v1/messages"
    arrivals = []
    with (
        httpx2.Client(trust_env=False) as client,
        client.stream("POST", url, json=REQUEST) as response,
    ):
        for chunk in response.iter_raw():
            arrivals.append((time.monotonic(), chunk))
    assert b"".join(c for _, c in arrivals) == plan.wire_body == body
    assert len(arrivals) >= 6, "the pieces arrived lumped together"
    first_sent, last_sent = plan.sent[0][0], plan.sent[-1][0]
    assert last_sent - first_sent >= 0.2
    assert arrivals[0][0] < last_sent - 0.15
    assert arrivals[-1][0] - arrivals[0][0] >= 0.15
