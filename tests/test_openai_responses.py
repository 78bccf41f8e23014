"""The OpenAI Responses accumulator against the SDK's stream helper, and on its own."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon import rebuild
from addon.providers.openai_responses import OpenAIResponses
from addon.wire.sse import ServerSentEvent, SSEDecoder
from tests.conftest import responses_sse
from tests.oracles import corpus_streams, strip_nulls
from tests.oracles.openai_responses import sdk_final_response

PROVIDER = "openai-responses"

CORPUS_FILES = corpus_streams("sdk/openai-responses") + [
    path for path in corpus_streams("ccproxy") if path.name.startswith("codex_responses")
]

RESUMED: dict[str, str] = {
    name: (
        "resumed background stream (GET /v1/responses/{id}?stream=true&starting_after=1): it "
        "starts at response.in_progress, without response.created, and the SDK helper raises; "
        "the API's answer is the stream's response.completed snapshot"
    )
    for name in (
        "dotnet.CanStreamBackgroundResponses.e2.sse",
        "dotnet.CanStreamBackgroundResponsesAsync.e2.sse",
    )
}
SCHEMA_ALIAS: dict[str, str] = {
    "codex_responses_structured.sse": (
        "the SDK dumps `text.format.schema` under its Python field name `schema_` "
        "(model_dump without by_alias); the API's key is `schema`"
    ),
}
SDK_WRONG: dict[str, str] = {**RESUMED, **SCHEMA_ALIAS}
"""Corpus streams where the SDK helper's answer is not the API's, with the reason."""

SNAPSHOT_ONLY: dict[str, tuple[str, ...]] = {
    # No event moves these items past the status they were added with; only their
    # output_item.done (or the final snapshot) says "completed".
    "message": ("status",),
    "function_call": ("status",),
    # Filled in by the server at output_item.done; no event streams them.
    "file_search_call": ("queries", "results"),
    "web_search_call": ("action",),
    "mcp_list_tools": ("tools",),
    "mcp_call": ("output", "error"),
}
"""Item fields that only the finished item carries: rebuilt from deltas they stay as added."""

LOGPROB_DECIMALS = 6
"""The finished item and the snapshot round logprob values to 6 decimals; deltas do not."""


# Stream building -------------------------------------------------------------------------------


def response(**changes: Any) -> dict[str, Any]:
    return {
        "id": "resp_test",
        "object": "response",
        "created_at": 1700000000,
        "status": "in_progress",
        "error": None,
        "incomplete_details": None,
        "model": "gpt-test-1",
        "output": [],
        "usage": None,
        **changes,
    }


def created() -> dict[str, Any]:
    return {"type": "response.created", "response": response()}


def terminal(kind: str, output: list[Any] | None, **changes: Any) -> dict[str, Any]:
    return {"type": f"response.{kind}", "response": response(output=output, **changes)}


def item_added(index: int, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "response.output_item.added", "output_index": index, "item": item}


def item_done(index: int, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "response.output_item.done", "output_index": index, "item": item}


def message(content: list[Any] | None = None, status: str = "in_progress") -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "status": status,
        "content": content or [],
        "role": "assistant",
    }


def text_part(text: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text, **extra}


def part_added(index: int, part: dict[str, Any], content_index: int = 0) -> dict[str, Any]:
    return {
        "type": "response.content_part.added",
        "item_id": "msg_1",
        "output_index": index,
        "content_index": content_index,
        "part": part,
    }


def text_delta(index: int, delta: str, content_index: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": index,
        "content_index": content_index,
        "delta": delta,
        "logprobs": [],
        **extra,
    }


def hello_stream() -> list[dict[str, Any]]:
    """A message answer streamed up to (not including) its finishing events."""
    return [
        created(),
        item_added(0, message()),
        part_added(0, text_part()),
        text_delta(0, "Hel"),
        text_delta(0, "lo"),
    ]


def events_of(body: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return decoder.feed(body) + decoder.close()


def corpus_events(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(event.data) for event in events_of(path.read_bytes())]


def completed_response(events: list[dict[str, Any]]) -> dict[str, Any]:
    (last,) = [e for e in events if e["type"] == "response.completed"]
    return last["response"]


def accumulate(body: bytes) -> OpenAIResponses:
    accumulator = OpenAIResponses()
    for event in events_of(body):
        accumulator.feed(event)
    accumulator.finish()
    return accumulator


def rounded_logprobs(value: Any) -> Any:
    """`value` with every `logprob` number rounded as the finished item rounds it."""
    if isinstance(value, dict):
        return {
            k: round(v, LOGPROB_DECIMALS) if k == "logprob" else rounded_logprobs(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [rounded_logprobs(v) for v in value]
    return value


def corpus_id(path: Path) -> str:
    return path.name


# The corpus against the SDK helper -------------------------------------------------------------


def test_every_named_sdk_wrong_case_is_a_corpus_file() -> None:
    names = {path.name for path in CORPUS_FILES}
    assert set(SDK_WRONG) <= names
    assert len(CORPUS_FILES) == 30


@pytest.mark.parametrize(
    "path", [p for p in CORPUS_FILES if p.name not in SDK_WRONG], ids=corpus_id
)
def test_corpus_stream_equals_sdk_final_response(path: Path) -> None:
    body = path.read_bytes()
    record = rebuild(PROVIDER, body)
    assert record["errors"] == []
    assert record["unknown_events"] == []
    assert record["complete"]
    assert strip_nulls(record["response"]) == strip_nulls(sdk_final_response(body))


@pytest.mark.parametrize("name", sorted(RESUMED))
def test_resumed_stream_without_response_created_equals_its_completed_snapshot(
    name: str,
) -> None:
    path = next(p for p in CORPUS_FILES if p.name == name)
    body = path.read_bytes()
    with pytest.raises(RuntimeError, match=r"response\.created"):
        sdk_final_response(body)
    record = rebuild(PROVIDER, body)
    assert record["complete"], record["errors"]
    assert record["response"] == completed_response(corpus_events(path))


def test_sdk_dumps_the_format_schema_as_schema_underscore() -> None:
    path = next(p for p in CORPUS_FILES if p.name == "codex_responses_structured.sse")
    body = path.read_bytes()
    sdk = strip_nulls(sdk_final_response(body))
    ours = strip_nulls(rebuild(PROVIDER, body)["response"])
    sdk_format = sdk["text"]["format"]
    assert "schema" not in sdk_format
    sdk_format["schema"] = sdk_format.pop("schema_")
    assert ours["text"]["format"]["schema"]["required"] == ["answer", "answer_type"]
    assert ours == sdk


# The rebuild from items, parts and deltas ------------------------------------------------------


def without(events: list[dict[str, Any]], *kinds: str) -> bytes:
    return responses_sse(*[e for e in events if e["type"] not in kinds])


def with_completed_output(events: list[dict[str, Any]], output: Any) -> bytes:
    changed = copy.deepcopy(events)
    for event in changed:
        if event["type"] == "response.completed":
            event["response"]["output"] = output
    return responses_sse(*changed)


@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_without_response_completed_the_finished_items_are_the_output(path: Path) -> None:
    events = corpus_events(path)
    snapshot = completed_response(events)
    record = rebuild(PROVIDER, without(events, "response.completed"))
    assert not record["complete"]
    assert record["errors"] == ["stream ended before its terminal event"]
    ours = record["response"]
    assert ours["output"] == snapshot["output"]
    # The rest comes from the last lifecycle snapshot, which is still "in progress".
    assert ours["id"] == snapshot["id"]
    assert ours["status"] == "in_progress"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_completed_without_output_is_rebuilt_as_the_sdk_rebuilds_it(path: Path) -> None:
    events = corpus_events(path)
    snapshot = completed_response(events)
    body = with_completed_output(events, None)
    record = rebuild(PROVIDER, body)
    assert record["complete"], record["errors"]
    assert record["response"] == snapshot
    if path.name not in SDK_WRONG:  # those are compared on their own above
        assert strip_nulls(record["response"]) == strip_nulls(sdk_final_response(body))


@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_completed_with_empty_output_is_rebuilt_from_the_stream(path: Path) -> None:
    events = corpus_events(path)
    snapshot = completed_response(events)
    record = rebuild(PROVIDER, with_completed_output(events, []))
    assert record["complete"], record["errors"]
    assert record["response"] == snapshot


def test_sdk_keeps_an_empty_completed_output_as_it_came() -> None:
    # SDK-wrong: it rebuilds only a missing (null) output; `[]` stays, losing every item.
    path = next(p for p in CORPUS_FILES if p.name == "dotnet.FunctionCallStreamingWorks.e0.sse")
    events = corpus_events(path)
    body = with_completed_output(events, [])
    assert sdk_final_response(body)["output"] == []
    ours = rebuild(PROVIDER, body)["response"]
    assert ours["output"] == completed_response(events)["output"]
    assert ours["output"][0]["name"] == "get_weather_at_location"


def expected_from_deltas(
    snapshot_item: dict[str, Any], added_item: dict[str, Any]
) -> dict[str, Any]:
    """The finished item as deltas alone can give it: snapshot-only fields stay as added."""
    expected = dict(snapshot_item)
    for key in SNAPSHOT_ONLY.get(snapshot_item["type"], ()):
        if key in added_item:
            expected[key] = added_item[key]
        else:
            expected.pop(key, None)
    return expected


@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_deltas_alone_rebuild_the_completed_output(path: Path) -> None:
    events = corpus_events(path)
    snapshot = completed_response(events)
    added = {e["output_index"]: e["item"] for e in events if e["type"].endswith("item.added")}
    record = rebuild(PROVIDER, without(events, "response.completed", "response.output_item.done"))
    unfinished = ", ".join(map(str, sorted(added)))
    assert record["errors"] == [
        f"stream ended before its terminal event; output items {unfinished} unfinished"
    ]
    ours = rounded_logprobs(record["response"]["output"])
    expected = [
        expected_from_deltas(item, added[index]) for index, item in enumerate(snapshot["output"])
    ]
    assert ours == expected


def test_deltas_alone_keep_every_logprob_on_the_text_part() -> None:
    path = next(
        p for p in CORPUS_FILES if p.name == "dotnet.TokenLogProbabilitiesStreaming_True.e0.sse"
    )
    events = corpus_events(path)
    streamed = [lp for e in events if e["type"].endswith("text.delta") for lp in e["logprobs"]]
    record = rebuild(PROVIDER, without(events, "response.completed", "response.output_item.done"))
    part = record["response"]["output"][0]["content"][0]
    assert len(streamed) > 400
    assert part["logprobs"] == streamed  # full precision, as the deltas carried them


@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_result_midway_does_not_change_the_final_result(path: Path) -> None:
    events = corpus_events(path)
    for body in (path.read_bytes(), without(events, "response.output_item.done")):
        once = accumulate(body).result()
        accumulator = OpenAIResponses()
        stream = events_of(body)
        middle = len(stream) // 2
        for number, event in enumerate(stream):
            accumulator.feed(event)
            view = accumulator.result()
            if number == middle:
                kept, kept_copy = view, copy.deepcopy(view)
        accumulator.finish()
        assert accumulator.result() == once
        assert kept == kept_copy  # a live view is not changed by what came after it


# Hand-made cases -------------------------------------------------------------------------------


def test_unknown_item_type_is_kept_as_it_came() -> None:
    item = {
        "id": "fut_1",
        "type": "future_call",
        "status": "in_progress",
        "payload": {"nested": [1, {"a": None}]},
        "content": [{"type": "future_part", "x": 1}],
    }
    finished = {**item, "status": "completed", "payload": {"nested": [2]}}
    cut = rebuild(PROVIDER, responses_sse(created(), item_added(0, item)))
    assert cut["response"]["output"] == [item]
    body = responses_sse(
        created(), item_added(0, item), item_done(0, finished), terminal("completed", None)
    )
    record = rebuild(PROVIDER, body)
    assert record["complete"]
    assert record["response"]["output"] == [finished]
    assert strip_nulls(record["response"]) == strip_nulls(sdk_final_response(body))


def test_unknown_event_type_is_kept_in_unknown_and_is_not_an_error() -> None:
    future = {"type": "response.future_event.delta", "output_index": 0, "delta": {"x": [1]}}
    body = responses_sse(
        *hello_stream(), future, terminal("completed", [message([text_part("Hello")])])
    )
    record = rebuild(PROVIDER, body)
    assert record["complete"]
    assert record["unknown_events"] == [
        {"event": "response.future_event.delta", "data": {**future, "sequence_number": 5}}
    ]


def test_flat_error_event_is_an_error_and_kept_raw() -> None:
    error = {
        "type": "error",
        "code": "server_error",
        "message": "The server had an error",
        "param": None,
        "sequence_number": 5,
    }
    record = rebuild(PROVIDER, responses_sse(*hello_stream(), error))
    assert record["errors"][0] == "error event: server_error: The server had an error"
    assert {"event": "error", "data": error} in record["unknown_events"]
    assert not record["complete"]
    assert record["response"]["output"][0]["content"][0]["text"] == "Hello"


def test_response_failed_is_done_with_its_error_and_the_streamed_output() -> None:
    error = {"code": "server_error", "message": "The model failed"}
    failed = terminal("failed", [], status="failed", error=error)
    accumulator = accumulate(responses_sse(*hello_stream(), failed))
    assert accumulator.done
    assert accumulator.errors == ["response.failed: server_error: The model failed"]
    result = accumulator.result()
    assert result["status"] == "failed"
    assert result["output"][0]["content"][0]["text"] == "Hello"
    assert not rebuild(PROVIDER, responses_sse(*hello_stream(), failed))["complete"]
    summary = OpenAIResponses.summarize(result)
    assert (summary.parts[-1].kind, summary.parts[-1].text) == (
        "error",
        "server_error: The model failed",
    )


def test_response_incomplete_is_complete_with_the_reason_in_the_response() -> None:
    incomplete = terminal(
        "incomplete",
        [],
        status="incomplete",
        incomplete_details={"reason": "max_output_tokens"},
    )
    record = rebuild(PROVIDER, responses_sse(*hello_stream(), incomplete))
    assert record["complete"]
    assert record["errors"] == []
    result = record["response"]
    assert result["status"] == "incomplete"
    assert result["incomplete_details"] == {"reason": "max_output_tokens"}
    assert result["output"][0]["content"][0]["text"] == "Hello"
    assert OpenAIResponses.summarize(result).stop_reason == "incomplete: max_output_tokens"
    assert OpenAIResponses.response_complete(result) == []


def test_stream_cut_mid_text_keeps_the_joined_text_and_is_not_done() -> None:
    accumulator = accumulate(responses_sse(*hello_stream()))
    assert not accumulator.done
    assert accumulator.content_started
    assert accumulator.errors == [
        "stream ended before its terminal event; output items 0 unfinished"
    ]
    assert accumulator.result() == response(output=[message([text_part("Hello")])])


def test_refusal_deltas_build_the_refusal_part() -> None:
    refusal = {"type": "refusal", "refusal": ""}
    body = responses_sse(
        created(),
        item_added(0, message()),
        part_added(0, refusal),
        {**text_delta(0, "I can't"), "type": "response.refusal.delta"},
        {**text_delta(0, " help."), "type": "response.refusal.delta"},
    )
    result = rebuild(PROVIDER, body)["response"]
    assert result["output"][0]["content"] == [{"type": "refusal", "refusal": "I can't help."}]
    summary = OpenAIResponses.summarize(result)
    assert [(p.kind, p.text) for p in summary.parts] == [("refusal", "I can't help.")]


def test_refusal_done_replaces_the_streamed_refusal() -> None:
    done = {
        "type": "response.refusal.done",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "refusal": "No.",
    }
    body = responses_sse(
        created(), item_added(0, message()), part_added(0, {"type": "refusal"}), done
    )
    result = rebuild(PROVIDER, body)["response"]
    assert result["output"][0]["content"] == [{"type": "refusal", "refusal": "No."}]


def reasoning_events() -> list[dict[str, Any]]:
    where = {"item_id": "rs_1", "output_index": 0}
    return [
        created(),
        item_added(0, {"id": "rs_1", "type": "reasoning", "summary": []}),
        {
            "type": "response.reasoning_summary_part.added",
            **where,
            "summary_index": 0,
            "part": {"type": "summary_text", "text": ""},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            **where,
            "summary_index": 0,
            "delta": "Plan",
        },
        {
            "type": "response.reasoning_summary_text.delta",
            **where,
            "summary_index": 0,
            "delta": "!",
        },
        {
            "type": "response.content_part.added",
            **where,
            "content_index": 0,
            "part": {"type": "reasoning_text", "text": ""},
        },
        {"type": "response.reasoning_text.delta", **where, "content_index": 0, "delta": "Think"},
        {"type": "response.reasoning_text.delta", **where, "content_index": 0, "delta": "ing"},
    ]


def test_reasoning_summary_and_text_deltas_build_the_reasoning_item() -> None:
    accumulator = accumulate(responses_sse(*reasoning_events()))
    assert accumulator.content_started
    assert accumulator.result()["output"] == [
        {
            "id": "rs_1",
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "Plan!"}],
            "content": [{"type": "reasoning_text", "text": "Thinking"}],
        }
    ]
    summary = OpenAIResponses.summarize(accumulator.result())
    assert [(p.kind, p.text) for p in summary.parts] == [
        ("thinking", "Plan!"),
        ("thinking", "Thinking"),
    ]


def test_reasoning_done_events_replace_the_streamed_text() -> None:
    where = {"item_id": "rs_1", "output_index": 0}
    body = responses_sse(
        *reasoning_events(),
        {"type": "response.reasoning_summary_text.done", **where, "summary_index": 0, "text": "P"},
        {"type": "response.reasoning_text.done", **where, "content_index": 0, "text": "T"},
    )
    item = rebuild(PROVIDER, body)["response"]["output"][0]
    assert item["summary"] == [{"type": "summary_text", "text": "P"}]
    assert item["content"] == [{"type": "reasoning_text", "text": "T"}]


def test_custom_tool_call_input_deltas_build_the_input() -> None:
    call = {
        "id": "ctc_1",
        "type": "custom_tool_call",
        "call_id": "call_1",
        "name": "apply_patch",
        "input": "",
    }
    where = {"item_id": "ctc_1", "output_index": 0}
    body = responses_sse(
        created(),
        item_added(0, call),
        {"type": "response.custom_tool_call_input.delta", **where, "delta": "*** Begin"},
        {"type": "response.custom_tool_call_input.delta", **where, "delta": " Patch"},
    )
    result = rebuild(PROVIDER, body)["response"]
    assert result["output"] == [{**call, "input": "*** Begin Patch"}]
    summary = OpenAIResponses.summarize(result)
    assert [(p.kind, p.name, p.text) for p in summary.parts] == [
        ("tool_call", "apply_patch", "*** Begin Patch")
    ]


def test_function_call_arguments_done_replaces_the_streamed_arguments() -> None:
    call = {"id": "fc_1", "type": "function_call", "call_id": "c", "name": "f", "arguments": ""}
    where = {"item_id": "fc_1", "output_index": 0}
    body = responses_sse(
        created(),
        item_added(0, call),
        {"type": "response.function_call_arguments.delta", **where, "delta": '{"a"'},
        {"type": "response.function_call_arguments.done", **where, "arguments": '{"a": 1}'},
    )
    assert rebuild(PROVIDER, body)["response"]["output"][0]["arguments"] == '{"a": 1}'


def test_output_text_logprobs_stay_on_the_part_through_content_part_done() -> None:
    token = {"token": "Hi", "logprob": -0.5, "top_logprobs": []}
    body = responses_sse(
        created(),
        item_added(0, message()),
        part_added(0, text_part()),
        text_delta(0, "Hi", logprobs=[token]),
        text_delta(0, "!", logprobs=[{**token, "token": "!"}]),
        # The API sends the finished part with `logprobs: []` even when deltas carried them.
        {**part_added(0, text_part("Hi!")), "type": "response.content_part.done"},
    )
    part = rebuild(PROVIDER, body)["response"]["output"][0]["content"][0]
    assert part["text"] == "Hi!"
    assert part["logprobs"] == [token, {**token, "token": "!"}]


def test_annotation_added_lands_on_its_part() -> None:
    citation = {
        "type": "url_citation",
        "start_index": 0,
        "end_index": 5,
        "title": "T",
        "url": "https://example.invalid",
    }
    annotation = {
        "type": "response.output_text.annotation.added",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "annotation_index": 0,
        "annotation": citation,
    }
    record = rebuild(PROVIDER, responses_sse(*hello_stream(), annotation))
    assert record["response"]["output"][0]["content"][0]["annotations"] == [citation]


def test_events_before_any_response_snapshot_are_reported_once() -> None:
    record = rebuild(PROVIDER, responses_sse(*hello_stream()[1:]))
    assert record["errors"][0] == (
        "response.output_item.added #0: arrived before response.created (or any response snapshot)"
    )
    assert sum("before response.created" in e for e in record["errors"]) == 1
    assert record["response"] == {"output": [message([text_part("Hello")])]}


def test_delta_for_an_output_index_never_added_is_reported_once() -> None:
    record = rebuild(PROVIDER, responses_sse(created(), text_delta(3, "a"), text_delta(3, "b")))
    assert record["errors"] == [
        "response.output_text.delta #1: output_index 3 was never added",
        "stream ended before its terminal event",
    ]
    assert record["response"]["output"] == []


def test_text_delta_for_a_part_never_added_keeps_the_text_and_says_so() -> None:
    record = rebuild(
        PROVIDER,
        responses_sse(created(), item_added(0, message()), text_delta(0, "a"), text_delta(0, "b")),
    )
    assert record["errors"][0] == (
        "response.output_text.delta #2: content_index 0 of output_index 0 was never added"
    )
    content = record["response"]["output"][0]["content"]
    assert content == [{"type": "output_text", "text": "ab"}]


def test_text_delta_into_a_refusal_part_is_reported_and_kept() -> None:
    stray = text_delta(0, "x")
    body = responses_sse(
        created(), item_added(0, message()), part_added(0, {"type": "refusal"}), stray
    )
    record = rebuild(PROVIDER, body)
    assert record["errors"][0] == (
        "response.output_text.delta #3: output_index 0 is holding a 'refusal' part at "
        "content_index 0; event kept"
    )
    assert record["unknown_events"] == [
        {"event": "response.output_text.delta", "data": {**stray, "sequence_number": 3}}
    ]
    assert record["response"]["output"][0]["content"] == [{"type": "refusal", "refusal": ""}]


def test_bad_json_is_reported_and_kept_raw() -> None:
    record = rebuild(
        PROVIDER, responses_sse(*hello_stream(), ("response.output_text.delta", "{oops"))
    )
    assert record["errors"][0].startswith("response.output_text.delta: data is not JSON")
    assert {"event": "response.output_text.delta", "data": "{oops"} in record["unknown_events"]
    assert record["response"]["output"][0]["content"][0]["text"] == "Hello"


def test_a_done_marker_is_not_an_error() -> None:
    body = responses_sse(*hello_stream(), terminal("completed", [message()]), ("message", "[DONE]"))
    record = rebuild(PROVIDER, body)
    assert record["complete"]


def test_event_named_only_by_its_sse_event_line_is_applied() -> None:
    untyped = {"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "!"}
    body = responses_sse(
        *hello_stream(), ("response.output_text.delta", orjson.dumps(untyped).decode())
    )
    result = rebuild(PROVIDER, body)["response"]
    assert result["output"][0]["content"][0]["text"] == "Hello!"


def test_progress_events_move_a_cut_tool_call_status() -> None:
    call = {"id": "ws_1", "type": "web_search_call", "status": "in_progress"}
    where = {"item_id": "ws_1", "output_index": 0}
    body = responses_sse(
        created(),
        item_added(0, call),
        {"type": "response.web_search_call.searching", **where},
        {"type": "response.web_search_call.completed", **where},
    )
    record = rebuild(PROVIDER, body)
    assert record["response"]["output"] == [{**call, "status": "completed"}]
    assert record["unknown_events"] == []


def test_shell_call_command_events_build_the_commands() -> None:
    call = {
        "id": "sh_1",
        "type": "shell_call",
        "call_id": "c",
        "status": "in_progress",
        "action": {"commands": [], "timeout_ms": 1000},
    }
    where = {"output_index": 0}
    body = responses_sse(
        created(),
        item_added(0, call),
        {"type": "response.shell_call_command.added", **where, "command_index": 0, "command": ""},
        {"type": "response.shell_call_command.delta", **where, "command_index": 0, "delta": "ls"},
        {"type": "response.shell_call_command.delta", **where, "command_index": 0, "delta": " -l"},
        {"type": "response.shell_call_command.done", **where, "command_index": 1, "command": "pwd"},
    )
    item = rebuild(PROVIDER, body)["response"]["output"][0]
    assert item["action"] == {"commands": ["ls -l", "pwd"], "timeout_ms": 1000}


def test_empty_output_item_added_is_skipped_as_the_sdk_does() -> None:
    body = responses_sse(
        created(), {"type": "response.output_item.added", "output_index": 0, "item": None}
    )
    record = rebuild(PROVIDER, body)
    assert record["response"]["output"] == []
    assert record["errors"] == ["stream ended before its terminal event"]


def test_completed_without_output_and_with_unfinished_items_is_reported() -> None:
    record = rebuild(PROVIDER, responses_sse(*hello_stream(), terminal("completed", None)))
    assert record["errors"] == [
        "response.completed #5: has no output and output items 0 never finished"
    ]
    assert record["response"]["output"] == [message([text_part("Hello")])]


def test_first_snapshot_with_items_starts_the_output_as_the_sdk_does() -> None:
    seeded = message([text_part("Hi")])
    body = responses_sse(
        {"type": "response.created", "response": response(output=[seeded])},
        text_delta(0, " there"),
    )
    assert rebuild(PROVIDER, body)["response"]["output"] == [message([text_part("Hi there")])]


def test_a_changed_response_id_is_reported() -> None:
    other = {"type": "response.completed", "response": response(id="resp_other")}
    record = rebuild(PROVIDER, responses_sse(created(), other))
    assert record["errors"] == [
        "response.completed #1: response id changed from resp_test to resp_other"
    ]


def test_response_complete_a_failed_body_is_an_error_an_incomplete_one_is_not() -> None:
    failed = response(status="failed", error={"code": "server_error", "message": "boom"})
    assert OpenAIResponses.response_complete(failed) == ["response failed: server_error: boom"]
    done = response(status="completed", output=[message([text_part("ok")], "completed")])
    assert OpenAIResponses.response_complete(done) == []


def test_summarize_a_reasoning_answer() -> None:
    path = next(
        p for p in CORPUS_FILES if p.name == "dotnet.StreamingResponsesWithReasoningSummary.e0.sse"
    )
    result = rebuild(PROVIDER, path.read_bytes())["response"]
    summary = OpenAIResponses.summarize(result)
    assert summary.model == "o3-mini-2025-01-31"
    assert summary.stop_reason == "completed"
    assert summary.usage == result["usage"]
    assert [p.kind for p in summary.parts] == ["thinking"] * 4 + ["text"]
    assert summary.parts[-1].text == result["output"][1]["content"][0]["text"]


def test_summarize_tool_calls_and_other_items() -> None:
    tools = next(p for p in CORPUS_FILES if p.name == "codex_responses_tools.sse")
    summary = OpenAIResponses.summarize(rebuild(PROVIDER, tools.read_bytes())["response"])
    assert summary.tool_calls == ["get_weather", "calculate_distance"]
    assert summary.parts[0].text == '{"location":"New York, NY","unit":"F"}'
    search = next(p for p in CORPUS_FILES if p.name == "dotnet.WebSearchCallStreaming.e0.sse")
    summary = OpenAIResponses.summarize(rebuild(PROVIDER, search.read_bytes())["response"])
    assert [p.kind for p in summary.parts] == ["web_search_call", "text"]
    assert "Redmond" in summary.parts[0].text


# Never raising on damaged events -------------------------------------------------------------


def every_kind_of_event() -> list[dict[str, Any]]:
    """One stream touching every handler: items, parts, deltas, progress, shell, terminal."""
    annotation = {"type": "file_path", "file_id": "f", "index": 0}
    text = [
        item_added(1, {**message(), "id": "msg_2"}),
        part_added(1, text_part()),
        text_delta(1, "Hi", logprobs=[{"token": "Hi", "logprob": -0.1, "top_logprobs": []}]),
        {
            "type": "response.output_text.annotation.added",
            "output_index": 1,
            "content_index": 0,
            "annotation_index": 0,
            "annotation": annotation,
        },
        {**text_delta(1, "Hi"), "type": "response.output_text.done", "text": "Hi"},
        {
            **part_added(1, text_part("Hi", annotations=[annotation])),
            "type": "response.content_part.done",
        },
        part_added(1, {"type": "refusal", "refusal": ""}, content_index=1),
        {**text_delta(1, "No", content_index=1), "type": "response.refusal.delta"},
        {**text_delta(1, "", content_index=1), "type": "response.refusal.done", "refusal": "No"},
    ]
    tools = [
        item_added(2, {"id": "fc", "type": "function_call", "name": "f", "arguments": ""}),
        {"type": "response.function_call_arguments.delta", "output_index": 2, "delta": "{}"},
        {"type": "response.function_call_arguments.done", "output_index": 2, "arguments": "{}"},
        item_added(3, {"id": "ws", "type": "web_search_call", "status": "in_progress"}),
        {"type": "response.web_search_call.searching", "output_index": 3},
        item_added(4, {"id": "sh", "type": "shell_call", "action": {"commands": []}}),
        {
            "type": "response.shell_call_command.added",
            "output_index": 4,
            "command_index": 0,
            "command": "",
        },
        {
            "type": "response.shell_call_command.delta",
            "output_index": 4,
            "command_index": 0,
            "delta": "ls",
        },
        item_added(5, {"id": "so", "type": "shell_call_output", "output": []}),
        {
            "type": "response.shell_call_output_content.delta",
            "output_index": 5,
            "command_index": 0,
            "delta": {"stdout": "a", "stderr": "b"},
        },
        {
            "type": "response.shell_call_output_content.done",
            "output_index": 5,
            "command_index": 0,
            "output": [{"stdout": "a", "stderr": "b", "outcome": {"type": "exit", "exit_code": 0}}],
        },
        item_done(2, {"id": "fc", "type": "function_call", "name": "f", "arguments": "{}"}),
        {"type": "error", "code": "c", "message": "m"},
    ]
    return [*reasoning_events(), *text, *tools, terminal("incomplete", [])]


def test_every_kind_of_event_is_understood() -> None:
    record = rebuild(PROVIDER, responses_sse(*every_kind_of_event()))
    assert record["errors"] == ["error event: c: m"]
    assert [e["event"] for e in record["unknown_events"]] == ["error"]
    output = record["response"]["output"]
    assert [item["type"] for item in output] == [
        "reasoning",
        "message",
        "function_call",
        "web_search_call",
        "shell_call",
        "shell_call_output",
    ]
    assert output[1]["content"][0]["annotations"] == [
        {"type": "file_path", "file_id": "f", "index": 0}
    ]
    assert output[5]["output"][0]["outcome"] == {"type": "exit", "exit_code": 0}


JUNK = st.sampled_from([None, -1, 10**6, "x", 1.5, True, [], {}, [1], {"type": "x"}])
KEYS = st.sampled_from(
    [
        "type",
        "output_index",
        "content_index",
        "summary_index",
        "annotation_index",
        "command_index",
        "item",
        "part",
        "delta",
        "text",
        "refusal",
        "arguments",
        "logprobs",
        "response",
        "output",
        "annotation",
        "command",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**4), KEYS, JUNK | st.just("<delete>")), max_size=6))
def test_damaged_events_never_raise_and_results_stay_serialisable(
    damage: list[tuple[int, str, Any]],
) -> None:
    events = copy.deepcopy(every_kind_of_event())
    for at, key, value in damage:
        event = events[at % len(events)]
        if value == "<delete>":
            event.pop(key, None)
        else:
            event[key] = value
    accumulator = OpenAIResponses()
    for number, event in enumerate(events_of(responses_sse(*events))):
        accumulator.feed(event)
        if number % 5 == 0:
            orjson.dumps(accumulator.result())
    accumulator.finish()
    result = accumulator.result()
    orjson.dumps(result)
    orjson.dumps(accumulator.unknown)
    if result is not None:
        OpenAIResponses.summarize(result)
    assert all(isinstance(e, str) for e in accumulator.errors)
    assert not [e for e in accumulator.errors if "could not apply event" in e]
    assert not any("could not apply event" in e for e in accumulator.errors), accumulator.errors


def test_stream_resumed_after_its_items_were_added_is_complete_when_the_snapshot_has_output():
    """A background stream resumed with a late `starting_after` misses `created` and the
    `output_item.added` events; its `response.completed` still carries the whole answer."""
    answer = message([text_part("Hello")], status="completed")
    resumed = [text_delta(0, "lo", sequence_number=4), terminal("completed", [answer])]
    record = rebuild("openai-responses", responses_sse(*resumed))
    assert record["complete"] is True, record["errors"]
    assert record["response"]["output"] == [answer]


def test_events_for_items_never_added_are_errors_when_no_snapshot_covers_them():
    cut = [text_delta(0, "lo", sequence_number=4), terminal("completed", [])]
    record = rebuild("openai-responses", responses_sse(*cut))
    assert record["complete"] is False
    assert any("output_index 0 was never added" in e for e in record["errors"])
