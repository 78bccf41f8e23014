"""The Anthropic Messages accumulator against the SDK's beta stream helper, and on its own."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import anthropic
import orjson
import pytest

from addon import StreamRebuild, rebuild
from addon.providers.anthropic_messages import AnthropicMessages
from addon.wire.sse import SSEDecoder
from tests.conftest import anthropic_sse
from tests.oracles import CORPUS, corpus_streams, strip_nulls
from tests.oracles.anthropic import sdk_final_message

PROVIDER = "anthropic-messages"
SDK_STREAMS = CORPUS / "sdk" / "anthropic"
CCPROXY_STREAMS = CORPUS / "ccproxy"

CORPUS_FILES = corpus_streams("sdk/anthropic") + [
    path for path in corpus_streams("ccproxy") if path.name.startswith("claude_messages")
]

SDK_WRONG: dict[str, str] = {
    "fallback_response.sse": (
        "the SDK dumps the fallback block's `from` under its Python field name `from_` "
        "(model_dump without by_alias); the API's key is `from`"
    ),
    "fallback_response.09a6a104.sse": (
        "as above, `from_` instead of `from`; with `trigger` missing the SDK keeps `from` "
        "as an extra too, so the block has both"
    ),
}

INCOMPLETE: dict[str, str] = {
    "incomplete_partial_json_response.sse": (
        "end of stream: block 1 (tool_use) never got its content_block_stop; "
        "input JSON is incomplete"
    ),
    "out_of_order_response.a23f4731.sse": "content_block_start #2: index 1 out of order",
}
"""Corpus streams that are rightly not complete, with the start of the error that says why."""


# Stream building -----------------------------------------------------------------------------


def message_start(**usage: Any) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-test-1",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1, **usage},
        },
    }


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, **fields: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": fields}


def block_stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def message_delta(stop_reason: str = "end_turn", **usage: Any) -> dict[str, Any]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": 7, **usage},
    }


MESSAGE_STOP = {"type": "message_stop"}
TEXT_BLOCK = {"type": "text", "text": ""}


def text_stream(*texts: str) -> list[dict[str, Any]]:
    deltas = [delta(0, type="text_delta", text=t) for t in texts]
    return [message_start(), block_start(0, TEXT_BLOCK), *deltas, block_stop(0)]


def same_as_sdk(body: bytes) -> dict[str, Any]:
    """The record for `body`, after checking its response equals the SDK helper's message."""
    record = rebuild(PROVIDER, body)
    assert strip_nulls(record["response"]) == strip_nulls(sdk_final_message(body))
    return record


def sdk_api_shape(path: Path, sdk: dict[str, Any]) -> dict[str, Any]:
    """The SDK's message with the named SDK mistake for `path` corrected to the API's shape."""
    expected = copy.deepcopy(sdk)
    if path.name.startswith("fallback_response"):
        for block in expected["content"]:
            if block["type"] == "fallback":
                assert "from_" in block, "the SDK now dumps `from`: drop this SDK_WRONG entry"
                wrong = block.pop("from_")
                assert block.setdefault("from", wrong) == wrong
    return expected


# Exactness against the SDK -------------------------------------------------------------------


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_stream_rebuilds_the_sdk_final_message(path: Path) -> None:
    body = path.read_bytes()
    ours = strip_nulls(rebuild(PROVIDER, body)["response"])
    sdk = strip_nulls(sdk_final_message(body))
    if path.name in SDK_WRONG:
        assert ours != sdk, f"{path.name} no longer differs: {SDK_WRONG[path.name]}"
        sdk = sdk_api_shape(path, sdk)
    assert ours == sdk


def test_corpus_holds_the_anthropic_streams_the_tests_rely_on() -> None:
    names = {path.name for path in CORPUS_FILES}
    assert len(names) == 40
    assert set(SDK_WRONG) <= names
    assert set(INCOMPLETE) <= names
    assert {"claude_messages.sse", "claude_messages_tools.sse"} <= names


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_stream_is_complete_unless_it_is_broken(path: Path) -> None:
    record = rebuild(PROVIDER, path.read_bytes())
    if path.name in INCOMPLETE:
        assert not record["complete"]
        assert any(e.startswith(INCOMPLETE[path.name]) for e in record["errors"]), record["errors"]
    else:
        assert record["errors"] == []
        assert record["complete"]


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_feeding_one_event_at_a_time_with_midway_results_gives_the_same_message(
    path: Path,
) -> None:
    body = path.read_bytes()
    decoder = SSEDecoder()
    events = decoder.feed(body) + decoder.close()
    accumulator = AnthropicMessages()
    for event in events:
        accumulator.feed(event)
        accumulator.result()
    accumulator.finish()
    record = rebuild(PROVIDER, body)
    assert accumulator.result() == record["response"]
    assert accumulator.errors == record["errors"]


def test_feeding_small_chunks_gives_the_same_record() -> None:
    body = (SDK_STREAMS / "stream-a-toolrefusal.sse").read_bytes()
    stream = StreamRebuild(PROVIDER)
    for start in range(0, len(body), 7):
        stream.feed(body[start : start + 7])
    chunked = stream.finish().to_json()
    whole = rebuild(PROVIDER, body)
    assert chunked["response"] == whole["response"]
    assert chunked["complete"] and whole["complete"]


def test_mid_stream_snapshot_does_not_change_when_more_arrives() -> None:
    accumulator = AnthropicMessages()
    decoder = SSEDecoder()
    for event in decoder.feed(anthropic_sse(*text_stream("Hel")[:-1])):
        accumulator.feed(event)
    snapshot = accumulator.result()
    assert snapshot is not None
    assert snapshot["content"][0]["text"] == "Hel"
    frozen = copy.deepcopy(snapshot)
    more = anthropic_sse(delta(0, type="text_delta", text="lo"), block_stop(0), message_delta())
    for event in decoder.feed(more):
        accumulator.feed(event)
    assert snapshot == frozen
    final = accumulator.result()
    assert final is not None
    assert final["content"][0]["text"] == "Hello"
    assert final["stop_reason"] == "end_turn"
    assert accumulator.errors == []


# Hand-made streams for features the corpus lacks ---------------------------------------------


def test_citations_delta_is_appended_to_the_text_blocks_citations() -> None:
    first = {
        "type": "char_location",
        "cited_text": "grass is green",
        "document_index": 0,
        "document_title": "Facts",
        "start_char_index": 0,
        "end_char_index": 14,
    }
    second = {
        "type": "web_search_result_location",
        "cited_text": "sky is blue",
        "url": "https://example.com",
        "title": "Sky",
        "encrypted_index": "enc",
    }
    body = anthropic_sse(
        message_start(),
        block_start(0, {"type": "text", "text": "", "citations": None}),
        delta(0, type="citations_delta", citation=first),
        delta(0, type="text_delta", text="Grass is green"),
        delta(0, type="citations_delta", citation=second),
        block_stop(0),
        message_delta(),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    block = record["response"]["content"][0]
    assert block["citations"] == [first, second]
    assert block["text"] == "Grass is green"
    assert record["complete"]


def test_signature_delta_is_kept_on_thinking_block() -> None:
    body = anthropic_sse(
        message_start(),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, type="thinking_delta", thinking="Let me "),
        delta(0, type="thinking_delta", thinking="think."),
        delta(0, type="signature_delta", signature="EqQBCgIYAhIM"),
        block_stop(0),
        block_start(1, TEXT_BLOCK),
        delta(1, type="text_delta", text="Done."),
        block_stop(1),
        message_delta(),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    assert record["response"]["content"][0] == {
        "type": "thinking",
        "thinking": "Let me think.",
        "signature": "EqQBCgIYAhIM",
    }
    assert record["complete"]


def test_redacted_thinking_block_is_kept_whole() -> None:
    redacted = {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"}
    body = anthropic_sse(
        message_start(), block_start(0, redacted), block_stop(0), message_delta(), MESSAGE_STOP
    )
    record = same_as_sdk(body)
    assert record["response"]["content"] == [redacted]
    assert record["complete"]


def test_mcp_tool_use_input_is_parsed_from_input_json_deltas() -> None:
    body = anthropic_sse(
        message_start(),
        block_start(
            0,
            {
                "type": "mcp_tool_use",
                "id": "mcptoolu_01",
                "name": "echo",
                "server_name": "tools",
                "input": {},
            },
        ),
        delta(0, type="input_json_delta", partial_json=""),
        delta(0, type="input_json_delta", partial_json='{"text": "hi", '),
        delta(0, type="input_json_delta", partial_json='"times": 2}'),
        block_stop(0),
        message_delta("tool_use"),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    assert record["response"]["content"][0]["input"] == {"text": "hi", "times": 2}
    assert record["complete"]


def test_empty_tool_input_stays_as_content_block_start_sent_it() -> None:
    body = anthropic_sse(
        message_start(),
        block_start(0, {"type": "tool_use", "id": "toolu_01", "name": "now", "input": {}}),
        delta(0, type="input_json_delta", partial_json=""),
        block_stop(0),
        message_delta("tool_use"),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    assert record["response"]["content"][0]["input"] == {}
    assert record["complete"]


def test_tool_input_integers_wider_than_64_bits_stay_exact() -> None:
    body = anthropic_sse(
        message_start(),
        block_start(0, {"type": "tool_use", "id": "toolu_01", "name": "f", "input": {}}),
        delta(0, type="input_json_delta", partial_json='{"n": 123456789012345678901234567890}'),
        block_stop(0),
        message_delta("tool_use"),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    assert record["response"]["content"][0]["input"] == {"n": 123456789012345678901234567890}


def test_block_type_the_sdk_does_not_know_is_kept_as_it_came() -> None:
    future = {"type": "hologram", "payload": {"frames": [1, None, 3]}, "label": "x"}
    body = anthropic_sse(
        message_start(),
        block_start(0, future),
        block_stop(0),
        block_start(1, TEXT_BLOCK),
        delta(1, type="text_delta", text="after"),
        block_stop(1),
        message_delta(),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    assert record["response"]["content"][0] == future
    assert record["complete"]


def test_unknown_block_carrying_input_gets_its_input_json_parsed() -> None:
    # SDK-wrong, named: its helper parses `input_json_delta` only for the three tool-use
    # classes it knows, so a new tool-use-like block would keep `input: {}`.
    body = anthropic_sse(
        message_start(),
        block_start(0, {"type": "future_tool_use", "id": "ftu_01", "name": "f", "input": {}}),
        delta(0, type="input_json_delta", partial_json='{"q": 1}'),
        block_stop(0),
        message_delta("tool_use"),
        MESSAGE_STOP,
    )
    record = rebuild(PROVIDER, body)
    assert sdk_final_message(body)["content"][0]["input"] == {}
    assert record["response"]["content"][0]["input"] == {"q": 1}
    assert record["complete"]


def test_unknown_delta_type_is_kept_in_unknown_without_touching_the_block() -> None:
    strange = delta(0, type="hologram_delta", frames=[1, 2])
    body = anthropic_sse(
        message_start(),
        block_start(0, TEXT_BLOCK),
        delta(0, type="text_delta", text="a"),
        strange,
        delta(0, type="text_delta", text="b"),
        block_stop(0),
        message_delta(),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    assert record["response"]["content"] == [{"type": "text", "text": "ab"}]
    assert record["unknown_events"] == [{"event": "content_block_delta", "data": strange}]
    assert record["errors"] == [
        "content_block_delta #4: 'hologram_delta' for block 0 (text): unknown delta type, "
        "not applied; kept in unknown events"
    ]
    assert not record["complete"]


def test_delta_that_does_not_fit_its_block_leaves_the_block_alone() -> None:
    misplaced = delta(0, type="text_delta", text="not a tool input")
    body = anthropic_sse(
        message_start(),
        block_start(0, {"type": "tool_use", "id": "toolu_01", "name": "f", "input": {}}),
        misplaced,
        delta(0, type="input_json_delta", partial_json='{"a": 1}'),
        block_stop(0),
        message_delta("tool_use"),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    assert record["response"]["content"][0] == {
        "type": "tool_use",
        "id": "toolu_01",
        "name": "f",
        "input": {"a": 1},
    }
    assert record["unknown_events"] == [{"event": "content_block_delta", "data": misplaced}]
    assert "does not apply to that block type" in record["errors"][0]


def test_error_event_mid_stream_keeps_the_partial_message_and_says_what_failed() -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    body = anthropic_sse(*text_stream("Partial an"), error)
    # SDK-wrong, named: its helper raises instead of returning the message so far.
    with pytest.raises(anthropic.APIStatusError):
        sdk_final_message(body)
    record = rebuild(PROVIDER, body)
    assert record["response"]["content"] == [{"type": "text", "text": "Partial an"}]
    assert "error event: overloaded_error: Overloaded" in record["errors"]
    # A documented event: kept whole beside the Message, not called unknown.
    assert record["extras"]["error_events"] == [error]
    assert record["unknown_events"] == []
    assert not record["complete"]


def test_cache_write_usage_from_message_start_is_preserved() -> None:
    cache = {"ephemeral_5m_input_tokens": 1500, "ephemeral_1h_input_tokens": 500}
    body = anthropic_sse(
        message_start(
            cache_creation_input_tokens=2000,
            cache_read_input_tokens=0,
            cache_creation=cache,
            service_tier="standard",
        ),
        *text_stream("cached")[1:],
        message_delta(output_tokens=42),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    assert record["response"]["usage"] == {
        "input_tokens": 10,
        "output_tokens": 42,
        "cache_creation_input_tokens": 2000,
        "cache_read_input_tokens": 0,
        "cache_creation": cache,
        "service_tier": "standard",
    }


def test_usage_counts_on_message_delta_overwrite_the_start_values() -> None:
    body = anthropic_sse(
        message_start(cache_creation_input_tokens=0),
        *text_stream("x")[1:],
        message_delta(
            input_tokens=30,
            cache_creation_input_tokens=12,
            server_tool_use={"web_search_requests": 1},
        ),
        MESSAGE_STOP,
    )
    usage = same_as_sdk(body)["response"]["usage"]
    assert usage == {
        "input_tokens": 30,
        "output_tokens": 7,
        "cache_creation_input_tokens": 12,
        "server_tool_use": {"web_search_requests": 1},
    }


def test_message_delta_carries_stop_details_container_and_context_management() -> None:
    container = {"id": "container_01", "expires_at": "2026-01-01T00:00:00Z"}
    stop_details = {"type": "refusal", "category": "cyber", "explanation": "no"}
    body = anthropic_sse(
        *text_stream("x"),
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": "refusal",
                "stop_sequence": None,
                "stop_details": stop_details,
                "container": container,
            },
            "usage": {"output_tokens": 3},
            "context_management": {"applied_edits": []},
        },
        MESSAGE_STOP,
    )
    response = same_as_sdk(body)["response"]
    assert response["stop_reason"] == "refusal"
    assert response["stop_details"] == stop_details
    assert response["container"] == container
    assert response["context_management"] == {"applied_edits": []}


def test_new_message_delta_fields_are_kept_on_the_message() -> None:
    # SDK-wrong, named: its helper copies only the delta fields it knows, so a field the API
    # adds later would be lost; here it is kept where the API puts it, on the message.
    body = anthropic_sse(
        *text_stream("x"),
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None, "verdict": {"ok": 1}},
            "usage": {"output_tokens": 3},
        },
        MESSAGE_STOP,
    )
    response = rebuild(PROVIDER, body)["response"]
    assert response["verdict"] == {"ok": 1}
    expected = strip_nulls(sdk_final_message(body))
    expected["verdict"] = {"ok": 1}
    assert strip_nulls(response) == expected


def test_delta_to_a_never_started_index_is_recorded_in_errors() -> None:
    stray = delta(5, type="text_delta", text="lost?")
    body = anthropic_sse(*text_stream("kept"), stray, message_delta(), MESSAGE_STOP)
    # SDK-wrong, named: its helper raises IndexError (it indexes the content list directly).
    with pytest.raises(IndexError):
        sdk_final_message(body)
    record = rebuild(PROVIDER, body)
    assert record["response"]["content"] == [{"type": "text", "text": "kept"}]
    assert record["response"]["stop_reason"] == "end_turn"
    assert record["errors"] == [
        "content_block_delta #5: index 5 was never started; kept in unknown events"
    ]
    assert record["unknown_events"] == [{"event": "content_block_delta", "data": stray}]


def test_out_of_order_block_start_is_recorded_and_stays_addressable() -> None:
    body = anthropic_sse(
        message_start(),
        block_start(1, TEXT_BLOCK),
        delta(1, type="text_delta", text="second"),
        block_stop(1),
        message_delta(),
        MESSAGE_STOP,
    )
    # SDK-wrong, named: the helper appends the block at position 0 and then looks up
    # content[1] for the delta, which raises IndexError.
    with pytest.raises(IndexError):
        sdk_final_message(body)
    record = rebuild(PROVIDER, body)
    assert record["response"]["content"] == [{"type": "text", "text": "second"}]
    assert record["errors"] == [
        "content_block_start #2: index 1 out of order (0 blocks so far); appended as block 0"
    ]


def test_block_start_at_a_used_index_is_recorded_and_takes_the_index_over() -> None:
    body = anthropic_sse(
        *text_stream("first"),
        block_start(0, TEXT_BLOCK),
        delta(0, type="text_delta", text="second"),
        block_stop(0),
        message_delta(),
        MESSAGE_STOP,
    )
    record = rebuild(PROVIDER, body)
    # The SDK would send the second block's text to the first block; the API's blocks are
    # kept apart here.
    assert record["response"]["content"] == [
        {"type": "text", "text": "first"},
        {"type": "text", "text": "second"},
    ]
    assert record["errors"][0].startswith("content_block_start #5: index 0 was already started")


def test_events_before_message_start_are_reported_once_and_kept() -> None:
    early = [block_start(0, TEXT_BLOCK), delta(0, type="text_delta", text="early")]
    body = anthropic_sse(*early, *text_stream("late"), message_delta(), MESSAGE_STOP)
    record = same_as_sdk(body)
    assert record["response"]["content"] == [{"type": "text", "text": "late"}]
    assert record["errors"] == [
        "content_block_start #1: arrived before message_start (so do any later such events); "
        "kept in unknown events"
    ]
    assert [u["data"] for u in record["unknown_events"]] == early


def test_second_message_start_is_ignored_and_recorded() -> None:
    second = message_start()
    second["message"]["id"] = "msg_other"
    body = anthropic_sse(*text_stream("one"), second, message_delta(), MESSAGE_STOP)
    record = same_as_sdk(body)
    assert record["response"]["id"] == "msg_test"
    assert record["errors"] == [
        "message_start #5: a second message_start was ignored; kept in unknown events"
    ]


def test_delta_after_content_block_stop_is_applied_and_recorded() -> None:
    body = anthropic_sse(
        *text_stream("on"),
        delta(0, type="text_delta", text=" time"),
        message_delta(),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    assert record["response"]["content"][0]["text"] == "on time"
    assert record["errors"] == [
        "content_block_delta #5: 'text_delta' for block 0 (text) arrived after its "
        "content_block_stop"
    ]


def test_event_data_that_is_not_json_is_recorded_and_the_rest_is_kept() -> None:
    body = anthropic_sse(
        *text_stream("fine"),
        ("content_block_delta", '{"type": "content_block_delta", "index": 0, "delta": {'),
        message_delta(),
        MESSAGE_STOP,
    )
    # SDK-wrong, named: its stream raises on the first event whose data is not JSON.
    with pytest.raises(ValueError):
        sdk_final_message(body)
    record = rebuild(PROVIDER, body)
    assert record["response"]["content"] == [{"type": "text", "text": "fine"}]
    assert record["response"]["stop_reason"] == "end_turn"
    assert record["errors"][0].startswith("content_block_delta #5: data is not JSON")
    assert record["unknown_events"][0]["data"].endswith('"delta": {')
    assert not record["complete"]


def test_tool_input_that_does_not_parse_keeps_the_raw_json_in_errors() -> None:
    body = anthropic_sse(
        message_start(),
        block_start(0, {"type": "tool_use", "id": "toolu_01", "name": "f", "input": {}}),
        delta(0, type="input_json_delta", partial_json='{"a": nope}'),
        block_stop(0),
        message_delta("tool_use"),
        MESSAGE_STOP,
    )
    # SDK-wrong, named: its helper raises ValueError ("Unable to parse tool parameter JSON").
    with pytest.raises(ValueError, match="Unable to parse tool parameter JSON"):
        sdk_final_message(body)
    record = rebuild(PROVIDER, body)
    assert record["response"]["content"][0]["input"] == {}
    (error,) = record["errors"]
    assert error.startswith("content_block_stop #4: block 0 (tool_use): input JSON does not parse")
    assert error.endswith('raw JSON: {"a": nope}')


def test_incomplete_tool_input_at_block_stop_is_recorded_even_after_a_midway_result() -> None:
    body = anthropic_sse(
        message_start(),
        block_start(0, {"type": "tool_use", "id": "toolu_01", "name": "f", "input": {}}),
        delta(0, type="input_json_delta", partial_json='{"a": [1, 2'),
        delta(0, type="input_json_delta", partial_json=', "unfinish'),
        block_stop(0),
        message_delta("max_tokens"),
        MESSAGE_STOP,
    )
    record = same_as_sdk(body)
    assert record["response"]["content"][0]["input"] == {"a": [1, 2]}
    assert record["errors"] == [
        "content_block_stop #5: block 0 (tool_use): input JSON is incomplete; input keeps the "
        "values that are complete (as the SDK's partial parse); "
        'raw JSON: {"a": [1, 2, "unfinish'
    ]
    accumulator = AnthropicMessages()
    for event in SSEDecoder().feed(body):
        accumulator.feed(event)
        accumulator.result()
    assert accumulator.errors == record["errors"]


def test_text_fragment_that_is_not_text_is_left_out_and_recorded() -> None:
    body = anthropic_sse(
        *text_stream("a")[:-1],
        delta(0, type="text_delta", text=None),
        delta(0, type="text_delta", text="b"),
        block_stop(0),
        message_delta(),
        MESSAGE_STOP,
    )
    record = rebuild(PROVIDER, body)
    assert record["response"]["content"] == [{"type": "text", "text": "ab"}]
    assert record["errors"] == [
        "content_block_stop #6: block 0 (text): 1 non-text 'text' fragments were left out"
    ]


def test_never_stopped_tool_block_keeps_what_parses_and_the_raw_json() -> None:
    path = SDK_STREAMS / "incomplete_partial_json_response.sse"
    record = rebuild(PROVIDER, path.read_bytes())
    tool = record["response"]["content"][1]
    # As the SDK's partial parse: complete values kept, the unfinished string dropped...
    assert tool["input"] == {
        "filename": "taxes.txt",
        "lines_of_text": [
            "# COMPREHENSIVE TAX GUIDE FOR INDIVIDUALS WITH MULTIPLE W-2s",
            "",
            "## INTRODUCTION",
            "",
        ],
    }
    # ...and the raw JSON, unfinished string included, is in the error.
    (error,) = record["errors"]
    assert error.endswith('"",\n"Filing taxes')
    assert record["response"]["stop_reason"] == "max_tokens"


def test_unknown_event_types_and_pings_do_not_make_a_stream_incomplete() -> None:
    news = {"type": "hologram_event", "frames": 3}
    body = anthropic_sse(*text_stream("x")[:2], {"type": "ping"}, news, *text_stream("x")[2:])
    body += anthropic_sse(message_delta(), MESSAGE_STOP)
    record = same_as_sdk(body)
    assert record["unknown_events"] == [{"event": "hologram_event", "data": news}]
    assert record["complete"]


def test_proxy_done_marker_is_kept_but_is_not_an_error() -> None:
    record = rebuild(PROVIDER, (CCPROXY_STREAMS / "claude_messages.sse").read_bytes())
    assert record["unknown_events"] == [{"event": "message", "data": "[DONE]"}]
    assert record["complete"]


def test_stream_without_message_stop_is_not_complete() -> None:
    record = rebuild(PROVIDER, anthropic_sse(*text_stream("cut"), message_delta()))
    assert record["response"]["content"] == [{"type": "text", "text": "cut"}]
    assert record["errors"] == ["stream ended before its terminal event"]
    assert not record["complete"]


def test_fallback_block_relabels_the_model_that_answered() -> None:
    path = SDK_STREAMS / "fallback_response.sse"
    response = rebuild(PROVIDER, path.read_bytes())["response"]
    assert response["model"] == "claude-sonnet-4-5"
    assert response["content"][0]["from"] == {"model": "claude-opus-4-7"}


def test_content_started_is_set_by_the_first_content_delta() -> None:
    accumulator = AnthropicMessages()
    decoder = SSEDecoder()
    for event in decoder.feed(
        anthropic_sse(message_start(), block_start(0, TEXT_BLOCK), {"type": "ping"})
    ):
        accumulator.feed(event)
    assert not accumulator.content_started
    for event in decoder.feed(anthropic_sse(delta(0, type="text_delta", text="a"))):
        accumulator.feed(event)
    assert accumulator.content_started


def test_result_is_none_before_message_start() -> None:
    accumulator = AnthropicMessages()
    assert accumulator.result() is None


# Summary -------------------------------------------------------------------------------------


def test_summary_lists_parts_in_order_with_tool_calls_named() -> None:
    response = {
        "model": "claude-test-1",
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 3, "output_tokens": 4},
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "Looking it up."},
            {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"q": "x"}},
            {"type": "web_search_tool_result", "tool_use_id": "s1", "content": []},
            {"type": "mcp_tool_use", "id": "m1", "name": "echo", "server_name": "t", "input": {}},
            {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "redacted_thinking", "data": "abc"},
        ],
    }
    summary = AnthropicMessages.summarize(response)
    assert (summary.model, summary.stop_reason) == ("claude-test-1", "tool_use")
    assert summary.usage == {"input_tokens": 3, "output_tokens": 4}
    assert [(p.kind, p.name, p.text) for p in summary.parts] == [
        ("thinking", None, "hmm"),
        ("text", None, "Looking it up."),
        ("tool_call", "web_search", '{"q":"x"}'),
        ("web_search_tool_result", None, '{"tool_use_id":"s1","content":[]}'),
        ("tool_call", "echo", "{}"),
        ("tool_call", "get_weather", '{"city":"Paris"}'),
        ("redacted_thinking", None, '{"data":"abc"}'),
    ]
    assert summary.tool_calls == ["web_search", "echo", "get_weather"]


def test_summary_of_a_rebuilt_corpus_stream() -> None:
    path = CCPROXY_STREAMS / "claude_messages_tools.sse"
    summary = AnthropicMessages.summarize(rebuild(PROVIDER, path.read_bytes())["response"])
    assert summary.model == "claude-sonnet-4-20250514"
    assert summary.stop_reason == "tool_use"
    assert [p.kind for p in summary.parts] == ["text", "tool_call", "tool_call"]
    assert summary.tool_calls == ["get_weather", "calculate_distance"]
    assert summary.usage["output_tokens"] == 186


def test_error_body_is_summarized_and_reported_incomplete() -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    summary = AnthropicMessages.summarize(body)
    assert [(p.kind, p.text) for p in summary.parts] == [("error", "overloaded_error: Overloaded")]
    assert AnthropicMessages.response_complete(body) == [
        "error response: overloaded_error: Overloaded"
    ]
    record = rebuild(PROVIDER, orjson.dumps(body), streamed=False, status_code=200)
    assert not record["complete"]


def test_plain_message_body_is_complete() -> None:
    body = sdk_final_message(anthropic_sse(*text_stream("x"), message_delta(), MESSAGE_STOP))
    assert AnthropicMessages.response_complete(strip_nulls(body)) == []
