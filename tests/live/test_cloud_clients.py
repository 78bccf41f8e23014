"""Claude where enterprises run it, through a real mitmdump: `AnthropicBedrock`,
`AnthropicVertex` and boto3's `bedrock-runtime` client, pointed at the proxy in reverse mode
with fake credentials; what the client got is what was dumped, and `-nr` agrees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import boto3
import httpx2
import pytest
from botocore.config import Config

from addon import rebuild
from tests.live.apps import comparable, corpus_body
from tests.live.proxy import ADDON, Mitmdump, read_records, run_mitmdump
from tests.live.upstream import Plan, Upstream

EVENTSTREAM = "application/vnd.amazon.eventstream"
CLAUDE_INVOKE = "bedrock/invoke/ddtrace__anthropic_message_invoke_stream__0.eventstream"
CONVERSE_STREAMS = [
    "bedrock/converse/openllmetry__test_anthropic_converse_stream_with_tool_use__0.eventstream",
    "bedrock/converse/pydantic-ai__test_bedrock_model_thinking_part_redacted_stream__0.eventstream",
    "bedrock/converse/openllmetry__test_nova_converse_stream__0.eventstream",
]
VERTEX_STREAM = "sdk/anthropic/tool_use_response.sse"
FAKE_AWS = {"aws_access_key_id": "AKIDFAKEFAKEFAKE", "aws_secret_access_key": "fake-aws-secret"}
SESSION_TOKEN = "FAKE-SESSION-TOKEN-do-not-leak"


def eventstream_plan(name: str) -> Plan:
    return Plan(corpus_body(name), max_piece=97, headers={"content-type": EVENTSTREAM})


def bedrock_runtime(base_url: str) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=base_url,
        region_name="us-east-1",
        aws_session_token=SESSION_TOKEN,
        config=Config(retries={"max_attempts": 1}),
        **FAKE_AWS,
    )


def test_anthropic_bedrock_client_gets_the_dumped_message(
    upstream: Upstream, reverse_proxy: Mitmdump
):
    plan = upstream.add(eventstream_plan(CLAUDE_INVOKE))
    with httpx2.Client(trust_env=False) as http_client:
        client = anthropic.AnthropicBedrock(
            aws_access_key=FAKE_AWS["aws_access_key_id"],
            aws_secret_key=FAKE_AWS["aws_secret_access_key"],
            aws_session_token=SESSION_TOKEN,
            aws_region="us-east-1",
            base_url=f"{reverse_proxy.url}/p/{plan.key}",
            max_retries=0,
            http_client=http_client,
        )
        with client.messages.stream(
            model="anthropic.claude-3-sonnet-20240229-v1:0",
            max_tokens=64,
            messages=[{"role": "user", "content": "hi"}],
        ) as stream:
            final = stream.get_final_message().model_dump(mode="json")
    record = reverse_proxy.record_for(plan.key)
    assert record["provider"] == "bedrock-invoke"
    assert record["complete"] is True, record["errors"]
    assert comparable(record["response"]) == comparable(final)
    assert "amazon-bedrock-invocationMetrics" not in json.dumps(record["response"])
    assert record["extras"]["bedrock_invocation_metrics"]["inputTokenCount"] > 0
    assert_no_aws_secret(record)


def test_anthropic_vertex_client_gets_the_dumped_message(
    upstream: Upstream, reverse_proxy: Mitmdump
):
    plan = upstream.add(Plan(corpus_body(VERTEX_STREAM), max_piece=97))
    with httpx2.Client(trust_env=False) as http_client:
        client = anthropic.AnthropicVertex(
            region="us-east5",
            project_id="test-project",
            access_token="ya29.FAKE-google-oauth-token",
            base_url=f"{reverse_proxy.url}/p/{plan.key}/v1",
            max_retries=0,
            http_client=http_client,
        )
        with client.beta.messages.stream(
            model="claude-sonnet-4@20250514",
            max_tokens=64,
            messages=[{"role": "user", "content": "hi"}],
        ) as stream:
            final = stream.get_final_message().model_dump(mode="json")
    record = reverse_proxy.record_for(plan.key)
    assert record["provider"] == "anthropic-vertex"
    assert record["complete"] is True, record["errors"]
    assert comparable(record["response"]) == comparable(final)
    assert ":streamRawPredict" in record["request"]["url"]
    assert "ya29.FAKE" not in json.dumps(record)


@pytest.mark.parametrize("name", CONVERSE_STREAMS, ids=lambda n: n.split("__")[1])
def test_boto3_converse_stream_events_agree_with_the_dumped_converse_response(
    upstream: Upstream, reverse_proxy: Mitmdump, name: str
):
    plan = upstream.add(eventstream_plan(name))
    client = bedrock_runtime(f"{reverse_proxy.url}/p/{plan.key}")
    answer = client.converse_stream(
        modelId="anthropic.claude-3-sonnet-20240229-v1:0",
        messages=[{"role": "user", "content": [{"text": "hi"}]}],
    )
    events = list(answer["stream"])  # botocore's own event-stream parser
    record = reverse_proxy.record_for(plan.key)
    assert record["provider"] == "bedrock-converse"
    assert record["complete"] is True, record["errors"]
    response = record["response"]
    texts = "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e
    )
    rebuilt_text = "".join(b.get("text", "") for b in response["output"]["message"]["content"])
    assert rebuilt_text == texts
    metadata = next(e["metadata"] for e in events if "metadata" in e)
    # botocore drops keys newer than its service model (`serverToolUsage`); the record keeps them.
    assert {k: v for k, v in response["usage"].items() if k in metadata["usage"]} == (
        metadata["usage"]
    )
    stop = next(e["messageStop"] for e in events if "messageStop" in e)
    assert response["stopReason"] == stop["stopReason"]
    assert_no_aws_secret(record)


def test_boto3_invoke_stream_and_plain_converse_are_recorded(
    upstream: Upstream, reverse_proxy: Mitmdump
):
    plan = upstream.add(eventstream_plan(CLAUDE_INVOKE))
    client = bedrock_runtime(f"{reverse_proxy.url}/p/{plan.key}")
    answer = client.invoke_model_with_response_stream(
        modelId="anthropic.claude-3-sonnet-20240229-v1:0",
        body=json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
                         "messages": [{"role": "user", "content": "hi"}]}),
    )  # fmt: skip
    inner = [json.loads(e["chunk"]["bytes"]) for e in answer["body"] if "chunk" in e]
    record = reverse_proxy.record_for(plan.key)
    assert record["complete"] is True, record["errors"]
    deltas = "".join(
        e["delta"].get("text", "") for e in inner if e["type"] == "content_block_delta"
    )
    assert record["response"]["content"][0]["text"] == deltas

    converse_body = {
        "output": {"message": {"role": "assistant", "content": [{"text": "Plain hello"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7},
        "metrics": {"latencyMs": 120},
    }
    plain = upstream.add(
        Plan(json.dumps(converse_body).encode(), headers={"content-type": "application/json"})
    )
    client = bedrock_runtime(f"{reverse_proxy.url}/p/{plain.key}")
    got = client.converse(
        modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": [{"text": "hi"}]}]
    )
    record = reverse_proxy.record_for(plain.key)
    assert record["provider"] == "bedrock-converse" and record["streamed"] is False
    assert record["complete"] is True, record["errors"]
    assert record["response"] == converse_body
    assert got["output"] == converse_body["output"]
    assert record["usage"]["input_tokens"] == 5


def test_offline_replay_of_bedrock_and_vertex_traffic_gives_the_same_records(
    upstream: Upstream, tmp_path: Path
):
    proxy = Mitmdump(tmp_path / "live", "--mode", f"reverse:http://127.0.0.1:{upstream.port}")
    keys = []
    with proxy:
        for name in (CLAUDE_INVOKE, CONVERSE_STREAMS[0]):
            plan = upstream.add(eventstream_plan(name))
            client = bedrock_runtime(f"{proxy.url}/p/{plan.key}")
            if "invoke" in name:
                body = json.dumps({"messages": [], "max_tokens": 1})
                list(client.invoke_model_with_response_stream(modelId="m", body=body)["body"])
            else:
                list(client.converse_stream(modelId="m", messages=[])["stream"])
            keys.append(plan.key)
        live = {r["flow_id"]: r for r in (proxy.record_for(k) for k in keys)}
    dumps = tmp_path / "offline"
    result = run_mitmdump(
        "-nr", str(proxy.flow_file), "-s", str(ADDON), "--set", f"llm_dump_dir={dumps}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    offline = {r["flow_id"]: r for r in read_records(dumps)}
    assert set(offline) == set(live)
    for flow_id, record in live.items():
        assert offline[flow_id]["response"] == record["response"]
        assert offline[flow_id]["complete"] == record["complete"]
        assert offline[flow_id]["timing"] == record["timing"]


def assert_no_aws_secret(record: dict[str, Any]) -> None:
    text = json.dumps(record)
    assert SESSION_TOKEN not in text
    assert "Signature=" not in text or "[REDACTED]" in text
    headers = {k.lower(): v for k, v in record["request"]["headers"].items()}
    assert headers["authorization"] == "[REDACTED]"
    assert headers.get("x-amz-security-token") == "[REDACTED]"


def test_the_corpus_stream_itself_is_complete():
    """The live tests above compare against these; a broken copy would fail them all alike."""
    for name in (CLAUDE_INVOKE, *CONVERSE_STREAMS):
        provider = "bedrock-invoke" if "invoke" in name else "bedrock-converse"
        assert rebuild(provider, corpus_body(name), streamed=True)["complete"]
