"""InvokeModelWithResponseStream: Claude exactly as AnthropicBedrock builds it, other families."""

from __future__ import annotations

import base64
import re
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.providers.base import Usage
from addon.providers.bedrock_invoke import (
    INVOKE_PROVIDER,
    BedrockInvoke,
    InvokeStreamDecoder,
)
from addon.wire import Event
from tests import bedrock_streams as bs
from tests.oracles import CORPUS, strip_nulls
from tests.oracles.anthropic_clouds import bedrock_final_message

INVOKE = CORPUS / "bedrock/invoke"
NONSTREAM = CORPUS / "bedrock/nonstream"
CLAUDE_STREAMS = [
    INVOKE / "ddtrace__anthropic_message_invoke_stream__0.eventstream",
    INVOKE / "openinference__TestInvokeModelWithStreamResponse.test_invoke__0.eventstream",
]
ALL_STREAMS = sorted(INVOKE.glob("*.eventstream"))
NO_METRICS = {
    "openllmetry__test_guardrail_invoke_stream__0.eventstream",  # blocked before the model ran
    "handbuilt__truncated_then_throttlingException.eventstream",  # cut before the last chunk
}
INCOMPLETE = {
    "handbuilt__truncated_then_throttlingException.eventstream": "throttlingException: Too many",
}


def rebuild(body: bytes, sizes: list[int] | None = None) -> tuple[Any, BedrockInvoke, list[str]]:
    """The response, the accumulator, and every error (framing's first) for `body`."""
    framing = InvokeStreamDecoder()
    acc = BedrockInvoke()
    at = 0
    for size in [*(sizes or []), len(body)]:
        acc.feed_all(framing.feed(body[at : at + size]))
        at += size
    acc.feed_all(framing.close())
    acc.finish()
    return acc.result(), acc, framing.errors + acc.errors


def complete(body: bytes) -> tuple[Any, BedrockInvoke]:
    response, acc, errors = rebuild(body)
    assert errors == []
    assert acc.done
    return response, acc


def events(body: bytes) -> list[Event]:
    framing = InvokeStreamDecoder()
    return framing.feed(body) + framing.close()


# Claude: exactly what the SDK builds ----------------------------------------------------------


@pytest.mark.parametrize("path", CLAUDE_STREAMS, ids=lambda p: p.name)
def test_recorded_claude_stream_rebuilds_the_sdk_final_message(path: Path) -> None:
    body = path.read_bytes()
    response, acc = complete(body)
    assert strip_nulls(response) == strip_nulls(bedrock_final_message(body))
    assert acc.family == "anthropic"


def test_thinking_and_tool_stream_rebuilds_the_sdk_final_message() -> None:
    body = bs.invoke_stream(*bs.thinking_tool_stream())
    response, _ = complete(body)
    assert strip_nulls(response) == strip_nulls(bedrock_final_message(body))
    assert response["content"][2]["input"] == {"id": 12345678901234567890123, "q": "x"}


def test_claude_stream_equals_the_recorded_invoke_answer_to_the_same_prompt() -> None:
    """dd-trace recorded the same prompt streamed and not: the same Message but for its id."""
    response, _ = complete(CLAUDE_STREAMS[0].read_bytes())
    plain = orjson.loads((NONSTREAM / "ddtrace__anthropic_message_invoke__0.json").read_bytes())
    assert strip_nulls({**response, "id": None}) == strip_nulls({**plain, "id": None})


@pytest.mark.parametrize("path", ALL_STREAMS, ids=lambda p: p.name)
def test_invocation_metrics_go_to_extras_never_into_the_response(path: Path) -> None:
    body = path.read_bytes()
    response, acc, _ = rebuild(body)
    assert "amazon-bedrock-invocationMetrics" not in orjson.dumps(response).decode()
    if path.name not in NO_METRICS:
        assert acc.extras["bedrock_invocation_metrics"]["outputTokenCount"] > 0


@pytest.mark.parametrize("path", ALL_STREAMS, ids=lambda p: p.name)
def test_recorded_stream_is_complete_unless_known_not_to_be(path: Path) -> None:
    _, acc, errors = rebuild(path.read_bytes())
    if path.name in INCOMPLETE:
        assert errors[0].startswith(INCOMPLETE[path.name])
        assert not acc.done
    else:
        assert errors == []
        assert acc.done


def test_throttled_claude_stream_keeps_the_text_and_the_exception() -> None:
    response, acc, errors = rebuild(
        (INVOKE / "handbuilt__truncated_then_throttlingException.eventstream").read_bytes()
    )
    assert response["content"] == [{"type": "text", "text": "Why did the"}]
    assert acc.unknown == [
        {
            "event": "throttlingException",
            "data": {"message": "Too many requests, please wait before trying again."},
        }
    ]
    assert errors == [
        "throttlingException: Too many requests, please wait before trying again.",
        "end of stream: block 0 (text) never got its content_block_stop",
        "stream ended before its terminal event",
    ]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 300), max_size=40))
def test_any_chunking_gives_the_same_response(sizes: list[int]) -> None:
    body = bs.invoke_stream(*bs.thinking_tool_stream())
    assert rebuild(body, sizes)[0] == rebuild(body)[0]


def test_cut_claude_stream_keeps_what_arrived() -> None:
    body = bs.invoke_stream(*bs.thinking_tool_stream())
    response, acc, errors = rebuild(body[: len(body) * 2 // 3])
    assert not acc.done
    assert response["content"][0]["thinking"].startswith("step 0.")
    assert errors[0].startswith("body ended inside a frame")


def test_malformed_inner_json_is_an_error_and_the_rest_is_kept() -> None:
    inners = bs.thinking_tool_stream()
    body = b"".join(
        bs.chunk_frame(b'{"type": "content_block_delta", "ind') if i == 3 else bs.chunk_frame(e)
        for i, e in enumerate(inners)
    )
    response, acc, errors = rebuild(body)
    assert acc.done
    assert response["content"][0]["thinking"] == "step 0. step 2. "
    assert len(errors) == 1 and "data is not JSON" in errors[0]


def test_bad_base64_is_an_error_and_the_chunk_is_kept() -> None:
    inners = [bs.chunk_frame(e) for e in bs.thinking_tool_stream()]
    inners[2] = bs.event_frame("chunk", {"bytes": "not base64!", "p": "ab"})
    response, acc, errors = rebuild(b"".join(inners))
    assert errors[0].startswith("chunk at byte ")
    assert "`bytes` is not base64" in errors[0]
    assert {"event": "chunk", "data": {"bytes": "not base64!", "p": "ab"}} in acc.unknown
    assert response["content"][0]["thinking"] == "step 1. step 2. "


def test_bad_checksum_drops_one_chunk_with_an_error() -> None:
    inners = [bs.chunk_frame(e) for e in bs.thinking_tool_stream()]
    inners[2] = bs.chunk_frame(
        bs.block_delta(0, type="thinking_delta", thinking="x"), bad_message_crc=True
    )
    response, _, errors = rebuild(b"".join(inners))
    assert "message checksum does not match" in errors[0]
    assert response["content"][0]["thinking"] == "step 1. step 2. "


# The framing ----------------------------------------------------------------------------------


def test_chunks_become_inner_events_named_by_their_type() -> None:
    body = bs.invoke_stream(bs.message_start(), {"outputText": "hi", "index": 0})
    first, second = events(body)
    assert first.event == "message_start"
    assert orjson.loads(first.data) == bs.message_start()
    assert second == Event("chunk", '{"outputText":"hi","index":0}')


def test_chunk_layouts_other_than_the_usual_are_read_too() -> None:
    inner = base64.b64encode(b'{"type": "ping"}').decode()
    spaced = bs.event_frame("chunk", b'{ "p": "xyz", "bytes": "%s" }' % inner.encode())
    framing = InvokeStreamDecoder()
    got = framing.feed(
        spaced
        + bs.event_frame("chunk", {"bytes": inner, "other": 1})
        + bs.chunk_frame({"type": "ping"}, padding=None)
    )
    assert [e.event for e in got] == ["ping", "ping", "ping"]
    assert framing.errors == []
    assert framing.warnings == [
        f"chunk at byte {len(spaced)}: keys beside `bytes` were left out: ['other']"
    ]


def test_chunk_without_bytes_is_an_error_and_kept() -> None:
    framing = InvokeStreamDecoder()
    got = framing.feed(bs.event_frame("chunk", {"p": "x"}) + bs.event_frame("chunk", b"nope"))
    assert got == [Event("chunk", '{"p":"x"}'), Event("chunk", "nope")]
    assert "payload has no `bytes` text" in framing.errors[0]
    assert "payload is not JSON" in framing.errors[1]


def test_exception_frames_pass_through_as_events() -> None:
    framing = InvokeStreamDecoder()
    got = framing.feed(bs.exception_frame("modelTimeoutException", "slow"))
    assert got == [Event("modelTimeoutException", '{"message":"slow"}')]
    assert framing.errors == ["modelTimeoutException: slow"]
    assert framing.frames == 1


# Other families -------------------------------------------------------------------------------


def test_claude_text_completion_has_the_recorded_invoke_shape() -> None:
    response, acc = complete(
        (INVOKE / "ddtrace__anthropic_invoke_stream__0.eventstream").read_bytes()
    )
    plain = orjson.loads((NONSTREAM / "ddtrace__anthropic_invoke__0.json").read_bytes())
    assert acc.family == "anthropic-completion"
    assert response == {"completion": "", "stop_reason": "stop_sequence", "stop": "\n\nHuman:"}
    assert list(response) == list(plain)


def test_claude_text_completion_joins_its_text() -> None:
    body = bs.invoke_stream(
        {"type": "completion", "completion": " Hello", "stop_reason": None, "stop": None},
        {
            "type": "completion",
            "completion": " there",
            "stop_reason": "stop_sequence",
            "stop": "\n\nHuman:",
        },
    )
    response, _ = complete(body)
    assert response == {
        "type": "completion",
        "completion": " Hello there",
        "stop_reason": "stop_sequence",
        "stop": "\n\nHuman:",
    }
    assert BedrockInvoke.summarize(response).parts[0].text == " Hello there"


def test_llama_chunks_become_the_llama_body() -> None:
    response, acc = complete((INVOKE / "ddtrace__meta_invoke_stream__0.eventstream").read_bytes())
    assert acc.family == "llama"
    assert response["generation"].startswith('\n\nThe phrase "lorem ipsum" is')
    assert {k: v for k, v in response.items() if k != "generation"} == {
        "prompt_token_count": 10,
        "generation_token_count": 60,
        "stop_reason": "length",
    }
    assert BedrockInvoke.usage(response) == Usage(input_tokens=10, output_tokens=60)
    assert acc.extras["bedrock_invocation_metrics"]["outputTokenCount"] == 60


def test_titan_chunks_become_the_titan_body() -> None:
    response, acc = complete((INVOKE / "ddtrace__amazon_invoke_stream__0.eventstream").read_bytes())
    assert acc.family == "titan"
    assert response["inputTextTokenCount"] == 18
    (result,) = response["results"]
    assert result["outputText"].startswith("\nDatadog is a monitoring")
    assert (result["tokenCount"], result["completionReason"]) == (51, "LENGTH")
    assert BedrockInvoke.usage(response) == Usage(input_tokens=18, output_tokens=51)


def test_titan_guardrail_answer_keeps_its_numbers_and_trace() -> None:
    response, acc = complete(
        (INVOKE / "openllmetry__test_guardrail_invoke_stream__0.eventstream").read_bytes()
    )
    assert response["results"] == [{"outputText": "Input blocked", "tokenCount": 3.0}]
    assert type(response["inputTextTokenCount"]) is float
    assert response["amazon-bedrock-guardrailAction"] == "INTERVENED"
    assert response["amazon-bedrock-trace"]["guardrail"]["actionReason"] == "Guardrail blocked."
    assert acc.extras == {}


def test_titan_chunks_of_several_results_are_grouped_by_index() -> None:
    body = bs.invoke_stream(
        {"outputText": "a", "index": 0, "inputTextTokenCount": 4},
        {"outputText": "x", "index": 1},
        {
            "outputText": "b",
            "index": 0,
            "totalOutputTextTokenCount": 2,
            "completionReason": "FINISH",
        },
        {
            "outputText": "y",
            "index": 1,
            "totalOutputTextTokenCount": 1,
            "completionReason": "FINISH",
        },
    )
    response, _ = complete(body)
    assert response == {
        "inputTextTokenCount": 4,
        "results": [
            {"outputText": "ab", "tokenCount": 2, "completionReason": "FINISH"},
            {"outputText": "xy", "tokenCount": 1, "completionReason": "FINISH"},
        ],
    }


def test_nova_chunks_become_a_converse_shaped_body() -> None:
    name = "openinference__TestNovaInvokeModelWithResponseStream.test_nova_micro_streaming__0"
    path = INVOKE / f"{name}.eventstream"
    response, acc = complete(path.read_bytes())
    assert acc.family == "nova"
    content = response["output"]["message"]["content"]
    assert (
        "".join(block["text"] for block in content)
        == "The three primary colors are red, blue, and yellow."
    )
    assert response["stopReason"] == "end_turn"
    assert response["usage"] == {
        "inputTokens": 12,
        "outputTokens": 13,
        "cacheReadInputTokenCount": 0,
        "cacheWriteInputTokenCount": 0,
    }
    assert BedrockInvoke.usage(response) == Usage(12, 13, 0, 0)
    assert acc.extras["bedrock_invocation_metrics"]["invocationLatency"] == 244


def test_cohere_chunks_are_kept_in_order_as_the_response() -> None:
    path = INVOKE / "ddtrace__cohere_invoke_stream_single_output__0.eventstream"
    response, acc = complete(path.read_bytes())
    assert acc.family == "other"
    assert "".join(c.get("text", "") for c in response) == " I am very happy to assist you! A Long"
    assert response[-1] == {"finish_reason": "MAX_TOKENS", "is_finished": True}
    assert [p.kind for p in BedrockInvoke.summarize(response).parts] == ["chunk"] * 11


def test_unknown_family_is_done_when_bedrock_sends_its_metrics() -> None:
    body = bs.invoke_stream(
        {"outputs": [{"text": "Bonjour"}]},
        {
            "outputs": [{"text": "!", "stop_reason": "stop"}],
            "amazon-bedrock-invocationMetrics": bs.METRICS,
        },
    )
    response, acc = complete(body)
    assert response == [
        {"outputs": [{"text": "Bonjour"}]},
        {"outputs": [{"text": "!", "stop_reason": "stop"}]},
    ]
    assert acc.extras["bedrock_invocation_metrics"] == bs.METRICS


def test_unknown_family_without_an_end_is_incomplete() -> None:
    _, acc, errors = rebuild(bs.invoke_stream({"outputs": [{"text": "Bonj"}]}))
    assert not acc.done
    assert errors == ["stream ended before its terminal event"]


def test_stream_of_only_an_exception_has_no_response() -> None:
    response, acc, errors = rebuild(bs.exception_frame("validationException", "bad model id"))
    assert response is None
    assert acc.unknown == [{"event": "validationException", "data": {"message": "bad model id"}}]
    assert errors == ["validationException: bad model id", "stream ended before its terminal event"]


# Usage, summaries, plain answers --------------------------------------------------------------


def test_claude_usage_counts_cache_reads_and_writes_as_input() -> None:
    plain = orjson.loads((NONSTREAM / "openllmetry__test_prompt_cache__0.json").read_bytes())
    assert BedrockInvoke.usage(plain) == Usage(
        input_tokens=18135, output_tokens=50, cache_read_tokens=0, cache_write_tokens=18131
    )


def test_claude_summary_is_the_messages_summary() -> None:
    response, _ = complete(CLAUDE_STREAMS[1].read_bytes())
    summary = BedrockInvoke.summarize(response)
    assert summary.tool_calls == ["get_current_weather_info", "get_current_population_info"]
    assert summary.model == "claude-3-5-sonnet-20240620"


@pytest.mark.parametrize(
    ("host", "path"),
    [
        (
            "bedrock-runtime.us-west-2.amazonaws.com",
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream",
        ),
        (
            "bedrock-runtime.eu-central-1.amazonaws.com",
            "/model/amazon.titan-text-express-v1/invoke",
        ),
        ("bedrock-runtime-fips.us-east-1.amazonaws.com", "/model/m/invoke-with-response-stream"),
        ("vpce-1-a.bedrock-runtime.us-east-1.vpce.amazonaws.com", "/model/m/invoke"),
        (
            "127.0.0.1:9000",
            "/bedrock/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/invoke",
        ),
    ],
)
def test_invoke_paths_are_routed(host: str, path: str) -> None:
    assert any(fnmatch(host, r.host) and re.search(r.path, path) for r in INVOKE_PROVIDER.routes)


def test_converse_paths_are_not_invoke() -> None:
    path = "/model/m/converse-stream"
    assert not any(re.search(r.path, path) for r in INVOKE_PROVIDER.routes)


def test_descriptor_streams_event_streams_and_records_json_as_it_is() -> None:
    assert (
        INVOKE_PROVIDER.framing_for("application/vnd.amazon.eventstream", "/m")
        is InvokeStreamDecoder
    )
    assert INVOKE_PROVIDER.framing_for("application/json", "/model/m/invoke") is None
    for sample in INVOKE_PROVIDER.samples:
        complete((CORPUS / sample.answer).read_bytes())


def test_titan_and_llama_summaries_read_their_text_and_stop() -> None:
    titan, _ = complete((INVOKE / "ddtrace__amazon_invoke_stream__0.eventstream").read_bytes())
    summary = BedrockInvoke.summarize(titan)
    assert summary.stop_reason == "LENGTH"
    assert summary.parts[0].text.startswith("\nDatadog")
    assert summary.usage == {"input_tokens": 18, "output_tokens": 51}
    llama, _ = complete((INVOKE / "ddtrace__meta_invoke_stream__0.eventstream").read_bytes())
    summary = BedrockInvoke.summarize(llama)
    assert (summary.stop_reason, summary.usage["output_tokens"]) == ("length", 60)


def test_first_chunk_of_a_text_model_is_its_first_content() -> None:
    framing = InvokeStreamDecoder()
    acc = BedrockInvoke()
    acc.feed_all(framing.feed(bs.invoke_stream({"generation": "Hi", "stop_reason": None})))
    assert acc.content_started and not acc.done
