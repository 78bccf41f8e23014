"""ConverseStream rebuilt into the Converse response, checked against botocore's service model."""

from __future__ import annotations

import base64
import re
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import botocore.session
import orjson
import pytest
from botocore.model import Shape

from addon.providers.base import Usage
from addon.providers.bedrock_converse import CONVERSE_PROVIDER, BedrockConverse
from addon.wire.eventstream import EventStreamDecoder
from tests.bedrock_streams import converse_stream, event_frame, exception_frame
from tests.oracles import CORPUS

STREAMS = sorted((CORPUS / "bedrock/converse").glob("*.eventstream"))
NONSTREAM = CORPUS / "bedrock/nonstream"
CONVERSE_SHAPE = (
    botocore.session.get_session()
    .get_service_model("bedrock-runtime")
    .operation_model("Converse")
    .output_shape
)


def rebuild(body: bytes) -> tuple[Any, BedrockConverse, list[str]]:
    """The response, the accumulator, and every error (framing's first) for `body`."""
    framing = EventStreamDecoder()
    acc = BedrockConverse()
    acc.feed_all(framing.feed(body))
    acc.feed_all(framing.close())
    acc.finish()
    return acc.result(), acc, framing.errors + acc.errors


def complete(body: bytes) -> Any:
    response, acc, errors = rebuild(body)
    assert errors == []
    assert acc.done
    return response


# A validator over botocore's model ------------------------------------------------------------


def shape_problems(value: Any, shape: Shape, path: str = "$") -> tuple[list[str], list[str]]:
    """(type problems, keys the model does not know) of a JSON value against a botocore shape."""
    problems: list[str] = []
    extra: list[str] = []
    kind = shape.type_name
    if getattr(shape, "is_document_type", False):
        return problems, extra  # any JSON
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"], extra
        members = shape.members
        if shape.metadata.get("union") and len([k for k in value if k in members]) != 1:
            problems.append(f"{path}: a union with members {sorted(value)}")
        for key, item in value.items():
            if key in members:
                more = shape_problems(item, members[key], f"{path}.{key}")
                problems += more[0]
                extra += more[1]
            else:
                extra.append(f"{path}.{key}")
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"], extra
        for i, item in enumerate(value):
            more = shape_problems(item, shape.member, f"{path}[{i}]")
            problems += more[0]
            extra += more[1]
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not a map"], extra
        for key, item in value.items():
            more = shape_problems(item, shape.value, f"{path}[{key!r}]")
            problems += more[0]
            extra += more[1]
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: {value!r} is not a string")
        elif shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")
    elif kind in ("integer", "long"):
        if type(value) is not int:
            problems.append(f"{path}: {value!r} is not an integer")
    elif kind in ("double", "float"):
        if type(value) not in (int, float):
            problems.append(f"{path}: {value!r} is not a number")
    elif kind == "boolean":
        if type(value) is not bool:
            problems.append(f"{path}: {value!r} is not a boolean")
    elif kind == "blob":
        if not isinstance(value, str):
            problems.append(f"{path}: {value!r} is not base64 text")
        else:
            base64.b64decode(value, validate=True)
    elif kind == "timestamp":
        if type(value) not in (int, float, str):
            problems.append(f"{path}: {value!r} is not a timestamp")
    else:
        problems.append(f"{path}: shape type {kind} not checked")
    return problems, extra


def assert_valid_converse(response: Any, body: bytes) -> None:
    """Every type right; every key the model does not know was sent by the API itself."""
    problems, extra = shape_problems(response, CONVERSE_SHAPE)
    assert problems == []
    sent = body.decode("utf-8", "replace")
    for path in extra:
        key = re.split(r"[.\[]", path)[-1]
        assert f'"{key}"' in sent, f"{path} is neither in botocore's model nor in the stream"


# The recordings -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_recorded_stream_rebuilds_a_valid_converse_response(path: Path) -> None:
    body = path.read_bytes()
    assert_valid_converse(complete(body), body)


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_recorded_stream_text_tool_inputs_and_usage_match_its_events(path: Path) -> None:
    body = path.read_bytes()
    response = complete(body)
    texts: dict[int, list[str]] = {}
    inputs: dict[int, list[str]] = {}
    metadata: dict[str, Any] = {}
    stop: dict[str, Any] = {}
    for event in EventStreamDecoder().feed(body):
        data = orjson.loads(event.data)
        if event.event == "contentBlockDelta":
            delta = data["delta"]
            index = data["contentBlockIndex"]
            if "text" in delta:
                texts.setdefault(index, []).append(delta["text"])
            if "toolUse" in delta:
                inputs.setdefault(index, []).append(delta["toolUse"]["input"])
        elif event.event == "metadata":
            metadata = data
        elif event.event == "messageStop":
            stop = data
    content = response["output"]["message"]["content"]
    got_texts = [block["text"] for block in content if "text" in block]
    assert got_texts == ["".join(parts) for _, parts in sorted(texts.items())]
    got_inputs = [block["toolUse"]["input"] for block in content if "toolUse" in block]
    assert got_inputs == [orjson.loads("".join(p)) for _, p in sorted(inputs.items())]
    assert response["usage"] == metadata["usage"]
    assert response["stopReason"] == stop["stopReason"]
    assert "p" not in response
    assert response["output"]["message"]["role"] == "assistant"


def test_tool_use_stream_has_the_shape_of_the_recorded_converse_answer() -> None:
    """The same call recorded streamed and not: the same keys, at every level."""
    streamed = complete(
        (CORPUS / "bedrock/converse/ddtrace__bedrock_converse_stream__0.eventstream").read_bytes()
    )
    plain = orjson.loads((NONSTREAM / "ddtrace__bedrock_converse__0.json").read_bytes())
    assert key_paths(streamed) == key_paths(plain)


def test_prompt_caching_stream_has_the_shape_of_the_recorded_converse_answer() -> None:
    streamed = complete(
        (
            CORPUS
            / "bedrock/converse/ddtrace__bedrock_converse_stream_prompt_caching__0.eventstream"
        ).read_bytes()
    )
    plain = orjson.loads(
        (NONSTREAM / "ddtrace__bedrock_converse_prompt_caching__0.json").read_bytes()
    )
    assert key_paths(streamed) == key_paths(plain)


def key_paths(value: Any, path: str = "") -> set[str]:
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in key_paths(v, f"{path}.{k}")} | {path}
    if isinstance(value, list):
        return {p for v in value for p in key_paths(v, f"{path}[]")} | {path}
    return {path}


@pytest.mark.parametrize(
    "path",
    sorted(p for p in NONSTREAM.glob("*converse*.json") if "meta" not in p.name),
    ids=lambda p: p.name,
)
def test_recorded_converse_answers_pass_the_validator(path: Path) -> None:
    """The validator itself, on what Converse really returns (the error body excepted)."""
    body = path.read_bytes()
    response = orjson.loads(body)
    if "output" not in response:
        pytest.skip("an error body")
    assert_valid_converse(response, body)


def test_redacted_reasoning_stream_keeps_the_base64_as_sent() -> None:
    name = "pydantic-ai__test_bedrock_model_thinking_part_redacted_stream__0.eventstream"
    path = CORPUS / "bedrock/converse" / name
    content = complete(path.read_bytes())["output"]["message"]["content"]
    assert [list(block) for block in content] == [
        ["reasoningContent"],
        ["reasoningContent"],
        ["text"],
    ]
    redacted = content[0]["reasoningContent"]["redactedContent"]
    assert base64.b64decode(redacted).startswith(b"EtkECkgIBxAB")


# Made-up streams ------------------------------------------------------------------------------

START = ("messageStart", {"role": "assistant"})
STOP = ("messageStop", {"stopReason": "end_turn"})
METADATA = ("metadata", {"usage": {"inputTokens": 5, "outputTokens": 3, "totalTokens": 8}})


def delta(index: int, **fragment: Any) -> tuple[str, dict[str, Any]]:
    return ("contentBlockDelta", {"contentBlockIndex": index, "delta": fragment})


def stop(index: int) -> tuple[str, dict[str, Any]]:
    return ("contentBlockStop", {"contentBlockIndex": index})


def tool_start(index: int, **extra: Any) -> tuple[str, dict[str, Any]]:
    tool = {"toolUseId": "tooluse_1", "name": "lookup", **extra}
    return ("contentBlockStart", {"contentBlockIndex": index, "start": {"toolUse": tool}})


def test_reasoning_text_and_signature_are_joined() -> None:
    body = converse_stream(
        START,
        delta(0, reasoningContent={"text": "Let me "}),
        delta(0, reasoningContent={"text": "think."}),
        delta(0, reasoningContent={"signature": "c2ln"}),
        delta(0, reasoningContent={"signature": "bmF0dXJl"}),
        stop(0),
        delta(1, text="Answer"),
        stop(1),
        STOP,
        METADATA,
    )
    response = complete(body)
    assert response["output"]["message"]["content"] == [
        {
            "reasoningContent": {
                "reasoningText": {"text": "Let me think.", "signature": "c2lnbmF0dXJl"}
            }
        },
        {"text": "Answer"},
    ]
    assert_valid_converse(response, body)


def test_redacted_fragments_are_joined_as_bytes() -> None:
    first, second = base64.b64encode(b"secret ").decode(), base64.b64encode(b"thought").decode()
    body = converse_stream(
        START,
        delta(0, reasoningContent={"redactedContent": first}),
        delta(0, reasoningContent={"redactedContent": second}),
        stop(0),
        STOP,
        METADATA,
    )
    block = complete(body)["output"]["message"]["content"][0]
    assert base64.b64decode(block["reasoningContent"]["redactedContent"]) == b"secret thought"
    assert "reasoningText" not in block["reasoningContent"]


def test_tool_input_is_parsed_once_with_exact_integers() -> None:
    body = converse_stream(
        START,
        tool_start(0, type="server_tool_use"),
        delta(0, toolUse={"input": '{"n": 123456789012345678901'}),
        delta(0, toolUse={"input": '234567890, "x": 1.5}'}),
        stop(0),
        ("messageStop", {"stopReason": "tool_use"}),
        METADATA,
    )
    response = complete(body)
    tool = response["output"]["message"]["content"][0]["toolUse"]
    assert tool == {
        "toolUseId": "tooluse_1",
        "name": "lookup",
        "type": "server_tool_use",
        "input": {"n": 123456789012345678901234567890, "x": 1.5},
    }
    assert_valid_converse(response, body)


def test_tool_without_input_gets_an_empty_object() -> None:
    body = converse_stream(START, tool_start(0), stop(0), STOP, METADATA)
    assert complete(body)["output"]["message"]["content"] == [
        {"toolUse": {"toolUseId": "tooluse_1", "name": "lookup", "input": {}}}
    ]


def test_incomplete_tool_input_keeps_what_is_complete_and_says_so() -> None:
    body = converse_stream(START, tool_start(0), delta(0, toolUse={"input": '{"a": 1, "b": "un'}))
    response, acc, errors = rebuild(body)
    assert response["output"]["message"]["content"][0]["toolUse"]["input"] == {"a": 1}
    assert not acc.done
    assert any("input JSON is incomplete" in e for e in errors)
    assert "stream ended before its metadata event" in errors


def test_citations_make_a_citations_content_block() -> None:
    citation = {
        "title": "Doc",
        "sourceContent": [{"text": "quoted"}],
        "location": {"documentChar": {"documentIndex": 0, "start": 3, "end": 9}},
    }
    body = converse_stream(
        START,
        delta(0, text="Paris "),
        delta(0, citation=citation),
        delta(0, text="is the capital."),
        stop(0),
        STOP,
        METADATA,
    )
    response = complete(body)
    assert response["output"]["message"]["content"] == [
        {
            "citationsContent": {
                "content": [{"text": "Paris is the capital."}],
                "citations": [citation],
            }
        }
    ]
    assert_valid_converse(response, body)


def test_tool_result_and_image_blocks_are_built_from_their_start_and_deltas() -> None:
    png = base64.b64encode(b"\x89PNG....").decode()
    body = converse_stream(
        START,
        (
            "contentBlockStart",
            {
                "contentBlockIndex": 0,
                "start": {"toolResult": {"toolUseId": "t1", "type": "web", "status": "success"}},
            },
        ),
        delta(0, toolResult=[{"text": "found it"}]),
        delta(0, toolResult=[{"json": {"rank": 1}}]),
        stop(0),
        ("contentBlockStart", {"contentBlockIndex": 1, "start": {"image": {"format": "png"}}}),
        delta(1, image={"source": {"bytes": png}}),
        stop(1),
        STOP,
        METADATA,
    )
    response = complete(body)
    assert response["output"]["message"]["content"] == [
        {
            "toolResult": {
                "toolUseId": "t1",
                "type": "web",
                "status": "success",
                "content": [{"text": "found it"}, {"json": {"rank": 1}}],
            }
        },
        {"image": {"format": "png", "source": {"bytes": png}}},
    ]
    assert_valid_converse(response, body)


def test_stop_and_metadata_fields_go_to_the_top_level() -> None:
    body = converse_stream(
        START,
        delta(0, text="hi"),
        stop(0),
        (
            "messageStop",
            b'{"stopReason":"end_turn","additionalModelResponseFields":{"big":%d}}' % 2**70,
        ),
        (
            "metadata",
            {
                "usage": {
                    "inputTokens": 3,
                    "outputTokens": 1,
                    "totalTokens": 1030,
                    "cacheReadInputTokens": 1000,
                    "cacheWriteInputTokens": 26,
                    "serverToolUsage": {},
                },
                "metrics": {"latencyMs": 12},
                "trace": {"promptRouter": {"invokedModelId": "m"}},
                "performanceConfig": {"latency": "optimized"},
                "serviceTier": {"type": "priority"},
                "futureField": 1,
            },
        ),
    )
    response = complete(body)
    assert list(response) == [
        "output",
        "stopReason",
        "usage",
        "metrics",
        "additionalModelResponseFields",
        "trace",
        "performanceConfig",
        "serviceTier",
        "futureField",
    ]
    assert response["additionalModelResponseFields"] == {"big": 2**70}
    assert_valid_converse(response, body)
    assert BedrockConverse.usage(response) == Usage(
        input_tokens=1029, output_tokens=1, cache_read_tokens=1000, cache_write_tokens=26
    )


def test_delta_of_an_unknown_kind_is_kept_and_reported() -> None:
    body = converse_stream(START, delta(0, hologram={"x": 1}), STOP, METADATA)
    response, acc, errors = rebuild(body)
    assert response["output"]["message"]["content"] == []
    assert acc.unknown == [
        {
            "event": "contentBlockDelta",
            "data": {"contentBlockIndex": 0, "delta": {"hologram": {"x": 1}}},
        }
    ]
    assert errors == [
        "contentBlockDelta #2: unknown delta kind 'hologram', not applied; kept in unknown events"
    ]


def test_delta_that_does_not_fit_its_block_is_kept_and_reported() -> None:
    body = converse_stream(START, tool_start(0), delta(0, text="oops"), stop(0), STOP, METADATA)
    _, acc, errors = rebuild(body)
    assert len(acc.unknown) == 1
    assert errors[0].startswith("contentBlockDelta #3: 'text' delta does not fit block 0 (toolUse)")


def test_tool_input_without_a_start_is_kept_with_an_error() -> None:
    body = converse_stream(START, delta(0, toolUse={"input": "{}"}), stop(0), STOP, METADATA)
    response, _, errors = rebuild(body)
    assert response["output"]["message"]["content"] == [{"toolUse": {"input": {}}}]
    assert "never got its contentBlockStart" in errors[0]


def test_cut_stream_keeps_what_arrived() -> None:
    body = converse_stream(START, delta(0, text="Hello"), delta(0, text=" wor"), stop(0), STOP)
    for cut in (0, 7):
        response, acc, errors = rebuild(body[: len(body) - cut])
        assert not acc.done
        assert response["output"]["message"]["content"][0]["text"].startswith("Hello")
        assert "stream ended before its metadata event" in errors


def test_exception_frame_is_kept_in_unknown_and_the_stream_is_incomplete() -> None:
    body = converse_stream(START, delta(0, text="Hel")) + exception_frame(
        "modelStreamErrorException", "the model broke"
    )
    response, acc, errors = rebuild(body)
    assert response["output"]["message"]["content"] == [{"text": "Hel"}]
    assert acc.unknown == [
        {"event": "modelStreamErrorException", "data": {"message": "the model broke"}}
    ]
    assert errors[0] == "modelStreamErrorException: the model broke"
    assert not acc.done


def test_malformed_event_json_is_an_error_and_the_rest_is_kept() -> None:
    body = (
        converse_stream(START, delta(0, text="a"))
        + event_frame("contentBlockDelta", b'{"contentBlockIndex": 0, "delta": {"te')
        + converse_stream(delta(0, text="b"), stop(0), STOP, METADATA)
    )
    response, acc, errors = rebuild(body)
    assert response["output"]["message"]["content"] == [{"text": "ab"}]
    assert acc.done
    assert len(errors) == 1 and errors[0].startswith("contentBlockDelta: could not apply event")


def test_nothing_arrived_gives_no_response() -> None:
    response, _, errors = rebuild(b"")
    assert response is None
    assert errors == ["stream ended before its metadata event"]


def test_summary_reads_every_kind_of_block() -> None:
    response = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "hmm"}}},
                    {"reasoningContent": {"redactedContent": "eA=="}},
                    {"text": "Hi"},
                    {"toolUse": {"toolUseId": "t", "name": "f", "input": {"a": 1}}},
                    {"citationsContent": {"content": [{"text": "cited"}], "citations": []}},
                    {"image": {"format": "png"}},
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 1, "outputTokens": 2},
    }
    summary = BedrockConverse.summarize(response)
    assert summary.stop_reason == "tool_use"
    assert summary.tool_calls == ["f"]
    assert [(p.kind, p.text) for p in summary.parts] == [
        ("thinking", "hmm"),
        ("thinking", "[redacted]"),
        ("text", "Hi"),
        ("tool_call", '{"a":1}'),
        ("text", "cited"),
        ("image", '{"format":"png"}'),
    ]


# The descriptor -------------------------------------------------------------------------------


def routed(host: str, path: str) -> bool:
    return any(
        fnmatch(host, route.host) and re.search(route.path, path)
        for route in CONVERSE_PROVIDER.routes
    )


@pytest.mark.parametrize(
    ("host", "path"),
    [
        (
            "bedrock-runtime.us-east-1.amazonaws.com",
            "/model/anthropic.claude-3-v1%3A0/converse-stream",
        ),
        ("bedrock-runtime-fips.us-gov-west-1.amazonaws.com", "/model/m/converse"),
        ("vpce-0abc-xyz.bedrock-runtime.us-east-1.vpce.amazonaws.com", "/model/m/converse-stream"),
        (
            "gateway.internal:8080",
            "/aws/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapp%2Fx/converse",
        ),
    ],
)
def test_converse_paths_are_routed(host: str, path: str) -> None:
    assert routed(host, path)


def test_invoke_paths_are_not_converse() -> None:
    assert not routed("bedrock-runtime.us-east-1.amazonaws.com", "/model/m/invoke")


def test_descriptor_streams_event_streams_and_records_json_as_it_is() -> None:
    framing = CONVERSE_PROVIDER.framing_for("application/vnd.amazon.eventstream", "/model/m")
    assert framing is EventStreamDecoder
    assert CONVERSE_PROVIDER.framing_for("application/json", "/model/m/converse") is None
    for sample in CONVERSE_PROVIDER.samples:
        complete((CORPUS / sample.answer).read_bytes())


def test_validator_finds_wrong_types_unions_and_keys_nobody_sent() -> None:
    response = {
        "output": {"message": {"role": "assistant", "content": [{"text": "a", "toolUse": {}}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": "3", "outputTokens": True},
        "metrics": {"latencyMs": 1.5},
        "invented": 1,
    }
    problems, extra = shape_problems(response, CONVERSE_SHAPE)
    assert problems == [
        "$.output.message.content[0]: a union with members ['text', 'toolUse']",
        "$.usage.inputTokens: '3' is not an integer",
        "$.usage.outputTokens: True is not an integer",
        "$.metrics.latencyMs: 1.5 is not an integer",
    ]
    assert extra == ["$.invented"]
    with pytest.raises(AssertionError, match="neither in botocore's model nor in the stream"):
        assert_valid_converse({"stopReason": "end_turn", "invented": 1}, b"{}")


@pytest.mark.parametrize(
    "name",
    [
        "ddtrace__bedrock_converse_prompt_caching__0.json",
        "ddtrace__bedrock_converse_prompt_caching__1.json",
        "ddtrace__bedrock_converse_inference_profile__1.json",
    ],
)
def test_input_tokens_leave_cache_reads_and_writes_out(name: str) -> None:
    """Why `Usage.input_tokens` adds the cache counts: Bedrock's total does, its input not."""
    usage = orjson.loads((NONSTREAM / name).read_bytes())["usage"]
    read, write = usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] + read + write
    normalised = BedrockConverse.usage({"usage": usage})
    assert normalised.input_tokens == usage["totalTokens"] - usage["outputTokens"]
    assert (normalised.cache_read_tokens, normalised.cache_write_tokens) == (read, write)
