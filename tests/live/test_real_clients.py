"""The official SDKs as apps use them — sync and async, streaming and not, compressed as they
ask — through a real mitmdump; and the option and capture faults real users hit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from mitmproxy import io

from addon import rebuild
from tests.live.apps import comparable, corpus_body
from tests.live.proxy import ADDON, Mitmdump, read_records, run_mitmdump
from tests.live.upstream import Plan, Upstream

STREAMS = {
    "anthropic-messages": "sdk/anthropic/tool_use_response.sse",
    "openai-chat": "sdk/openai-chat/test_parse_pydantic_tool.c6aa7e397b71.sse",
    "openai-responses": "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
}
PREFIX = {"anthropic-messages": "", "openai-chat": "/v1", "openai-responses": "/v1"}
HUGE = 123456789012345678901234567890


def plain_answer(provider: str) -> bytes:
    """What the non-streaming endpoint returns: the API object the stream rebuilds to."""
    return json.dumps(rebuild(provider, corpus_body(STREAMS[provider]))["response"]).encode()


def json_plan(body: bytes, encoding: str = "", status: int = 200) -> Plan:
    return Plan(
        body, encoding=encoding, status=status, headers={"content-type": "application/json"}
    )


ANTHROPIC_CALL: dict[str, Any] = {
    "model": "claude-test",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi"}],
}
CHAT_CALL: dict[str, Any] = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}


def call(provider: str, base_url: str, stream: bool, use_async: bool) -> dict[str, Any]:
    """One call as an app makes it; the SDK's final (or only) object as JSON."""
    if use_async:
        return asyncio.run(_call_async(provider, base_url, stream))
    with httpx2.Client(trust_env=False) as http_client:
        if provider == "anthropic-messages":
            client = anthropic.Anthropic(
                api_key="test-key", base_url=base_url, max_retries=0, http_client=http_client
            )
            args = ANTHROPIC_CALL
            if stream:
                with client.beta.messages.stream(**args) as s:
                    return s.get_final_message().model_dump(mode="json")
            return client.messages.create(**args).model_dump(mode="json")
        oa = openai.OpenAI(
            api_key="test-key", base_url=base_url, max_retries=0, http_client=http_client
        )
        if provider == "openai-chat":
            chat = CHAT_CALL
            if stream:
                with oa.chat.completions.stream(**chat) as s:
                    return s.get_final_completion().model_dump(mode="json")
            return oa.chat.completions.create(**chat).model_dump(mode="json")
        if stream:
            with oa.responses.stream(model="gpt-test", input="hi") as s:
                return s.get_final_response().model_dump(mode="json")
        return oa.responses.create(model="gpt-test", input="hi").model_dump(mode="json")


async def _call_async(provider: str, base_url: str, stream: bool) -> dict[str, Any]:
    async with httpx2.AsyncClient(trust_env=False) as http_client:
        if provider == "anthropic-messages":
            client = anthropic.AsyncAnthropic(
                api_key="test-key", base_url=base_url, max_retries=0, http_client=http_client
            )
            args = ANTHROPIC_CALL
            if stream:
                async with client.beta.messages.stream(**args) as s:
                    return (await s.get_final_message()).model_dump(mode="json")
            return (await client.messages.create(**args)).model_dump(mode="json")
        oa = openai.AsyncOpenAI(
            api_key="test-key", base_url=base_url, max_retries=0, http_client=http_client
        )
        if provider == "openai-chat":
            chat = CHAT_CALL
            if stream:
                async with oa.chat.completions.stream(**chat) as s:
                    return (await s.get_final_completion()).model_dump(mode="json")
            return (await oa.chat.completions.create(**chat)).model_dump(mode="json")
        if stream:
            async with oa.responses.stream(model="gpt-test", input="hi") as s:
                return (await s.get_final_response()).model_dump(mode="json")
        return (await oa.responses.create(model="gpt-test", input="hi")).model_dump(mode="json")


CALLS = [
    (provider, stream, use_async, encoding)
    for provider in STREAMS
    for stream in (False, True)
    for use_async in (False, True)
    for encoding in (["gzip", "br", "zstd"] if not stream else ["gzip"])
]


@pytest.mark.parametrize(
    ("provider", "stream", "use_async", "encoding"),
    CALLS,
    ids=[
        f"{p}-{'stream' if s else 'plain'}-{'async' if a else 'sync'}-{e}" for p, s, a, e in CALLS
    ],
)
def test_every_sdk_call_through_the_proxy_gives_the_object_the_app_got(
    upstream: Upstream, reverse_proxy: Mitmdump, provider, stream, use_async, encoding
):
    """Fault 1 live: every non-streamed call was `complete: false, streamed: true`."""
    if stream:
        plan = upstream.add(Plan(corpus_body(STREAMS[provider]), encoding=encoding))
    else:
        plan = upstream.add(json_plan(plain_answer(provider), encoding))
    final = call(provider, f"{reverse_proxy.url}/p/{plan.key}{PREFIX[provider]}", stream, use_async)
    record = reverse_proxy.record_for(plan.key)
    assert record["complete"] is True, record["errors"]
    assert record["streamed"] is stream
    assert {k.lower(): v for k, v in record["response_headers"].items()}["content-encoding"] == (
        encoding
    )
    asked = {k.lower(): v for k, v in record["request"]["headers"].items()}["accept-encoding"]
    assert "gzip" in asked  # the SDK asks for compression, as in real use
    assert comparable(record["response"]) == comparable(final)


@pytest.fixture(scope="module")
def large_bodies_proxy(
    upstream: Upstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Mitmdump]:
    """mitmdump with the common SSE tip `stream_large_bodies` (here: everything streams)."""
    proxy = Mitmdump(
        tmp_path_factory.mktemp("large"),
        "--mode",
        f"reverse:http://127.0.0.1:{upstream.port}",
        "--set",
        "stream_large_bodies=1",
    )
    with proxy:
        yield proxy


@pytest.mark.parametrize("stream", [False, True])
def test_stream_large_bodies_keeps_answers_and_request_bodies(
    upstream: Upstream, large_bodies_proxy: Mitmdump, stream: bool
):
    """Fault 3: with `stream_large_bodies`, plain answers were `INCOMPLETE (empty body)` and
    every `request.body` was null."""
    provider = "anthropic-messages"
    if stream:
        plan = upstream.add(Plan(corpus_body(STREAMS[provider]), encoding="gzip"))
    else:
        plan = upstream.add(json_plan(plain_answer(provider), "gzip"))
    final = call(provider, f"{large_bodies_proxy.url}/p/{plan.key}", stream, False)
    record = large_bodies_proxy.record_for(plan.key)
    assert record["complete"] is True, record["errors"]
    assert comparable(record["response"]) == comparable(final)
    assert record["request"]["body"]["model"] == "claude-test"


def test_stream_large_bodies_keeps_an_http_error_body(
    upstream: Upstream, large_bodies_proxy: Mitmdump
):
    """Fault 3: a 429's JSON was lost."""
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down."}}
    plan = upstream.add(json_plan(json.dumps(error).encode(), "gzip", status=429))
    with pytest.raises(anthropic.RateLimitError):
        call("anthropic-messages", f"{large_bodies_proxy.url}/p/{plan.key}", False, False)
    record = large_bodies_proxy.record_for(plan.key)
    assert record["response"] == error
    assert record["errors"] == ["HTTP 429: rate_limit_error: Slow down."]


def _capture_of(proxy: Mitmdump) -> Path:
    proxy.stop()  # flushes -w
    return proxy.flow_file


def test_offline_runs_of_a_capture_with_huge_integers_and_a_capped_body(
    upstream: Upstream, tmp_path: Path
):
    """Faults 2 and 4: `mitmdump -nr` exited 1 on a 30-digit integer, and a body that was
    over `llm_max_body` lost its live record when the capture was read again."""
    tool = json.dumps(
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": json.dumps({"n": HUGE})},
        }
    )
    body = corpus_body(STREAMS["anthropic-messages"])
    start = body.index(b"event: content_block_delta", body.index(b"input_json_delta") - 200)
    end = body.index(b"event: content_block_stop", start)
    body = body[:start] + f"event: content_block_delta\ndata: {tool}\n\n".encode() + body[end:]
    proxy = Mitmdump(
        tmp_path / "live",
        "--mode",
        f"reverse:http://127.0.0.1:{upstream.port}",
        "--set",
        "llm_max_body=200",
    )
    with proxy:
        plan = upstream.add(Plan(body))
        final = call("anthropic-messages", f"{proxy.url}/p/{plan.key}", True, False)
        live = proxy.record_for(plan.key)
    assert final["content"][1]["input"] == {"n": HUGE}
    assert live["response"]["content"][1]["input"] == {"n": HUGE}
    with _capture_of(proxy).open("rb") as file:
        [flow] = list(io.FlowReader(file).stream())
    assert flow.response.raw_content is None  # over llm_max_body: not kept
    dumps = tmp_path / "offline"
    result = run_mitmdump(
        "-nr", str(proxy.flow_file), "-s", str(ADDON), "--set", f"llm_dump_dir={dumps}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [offline] = read_records(dumps)
    assert offline["response"] == live["response"]
    assert offline["complete"] is True
    assert f'"n": {HUGE}' in next(dumps.glob("*.json")).read_text()


def test_offline_run_with_an_unwritable_dump_folder_still_succeeds(tmp_path: Path):
    """Fault 5: `log.error` during start-up tripped mitmproxy's exit for offline runs."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_mitmdump(
        "-nr",
        "flows/llm.flow",
        "-s",
        str(ADDON),
        "--set",
        f"llm_dump_dir={blocker / 'dumps'}",
        "--flow-detail",
        "0",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert output.count("cannot write dumps") == 1
    assert output.count("INCOMPLETE") + output.count(" complete") >= 18


BAD_OPTIONS: list[tuple[list[str], str]] = [
    (["--set", "llm_summary=maybe"], "llm_summary: 'maybe' is not true or false"),
    (["--set", "llm_max_body=-5"], "llm_max_body: '-5' is negative"),
    (["--set", "llm_max_body=lots"], "llm_max_body: 'lots' is not a size"),
    (["--set", "llm_routes=bad"], "llm_routes: route 'bad' needs three or four parts"),
]


@pytest.mark.parametrize(("args", "sentence"), BAD_OPTIONS, ids=[a[1] for a, _ in BAD_OPTIONS])
def test_bad_option_values_stop_with_one_sentence_and_no_traceback(
    tmp_path: Path, args: list[str], sentence: str
):
    """Fault 9: `llm_summary=maybe` silently disabled the addon (rc 0); `llm_max_body=-5`
    dropped every body; bad values printed a traceback before their message."""
    result = run_mitmdump(
        "-nr", "flows/llm.flow", "-s", str(ADDON), "--set", f"llm_dump_dir={tmp_path}", *args
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert output.count(sentence) == 1, output
    assert "Traceback" not in output
    assert list(tmp_path.iterdir()) == []  # nothing ran with a value it did not understand


def test_dump_dir_that_is_a_file_stops_with_one_sentence(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_mitmdump(
        "-nr", "flows/llm.flow", "-s", str(ADDON), "--set", f"llm_dump_dir={blocker}"
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "is a file, not a folder" in output and "Traceback" not in output
